"""The stripped road: REAL frames without the signs' '+', read straight into typed values.

Whatever road a frame takes, its ticks must equal what the catalogue decodes from the values
as sent (``catalog.get(t).decode``): these tests hold the stripped road to that, for all 23
types and the odd shapes Kiwoom sends, and check it hands over to the road as sent exactly
where stripping could change a value (free text, wire-form consumers, control frames).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import random
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from rt_samples import REALTIME_TYPES

from kiwoom import Realtime, Tick, _fastdecode, catalog
from kiwoom._fastdecode import SPEEDUPS, _strip_signs
from kiwoom._realtime import _frames
from kiwoom._realtime._frames import StrippedFrames, _stripped_decoder
from kiwoom._realtime._tick import tick_class


@pytest.fixture(autouse=True)
def _fresh_plans() -> None:
    """Plans are learned per process; each test starts from the catalogue's."""
    _stripped_decoder.cache_clear()


# Wire shapes per conversion kind: signs both ways, blanks, zero padding, doubled signs.
SHAPES: dict[str, list[str]] = {
    "abs int": ["-60700", "+60700", "60700", "", "0000060700", "--60700", "0", "-000060700"],
    "int": ["+152", "-152", "0", "", "000152", "++152", "-0", "-000152", "+000000012300"],
    "float": ["-0.53", "+0.53", "0.00", "", "+12", "-.5", "0012.50", "-00.5"],
    "abs float": ["+12.50", "-12.50", "12.5", "", "+0012.50"],
    "float/100": ["1234", "-1234", "+1234", ""],
    "date": ["20250908", "", "20251125"],
    "time": ["152413", "", "000000", "090000"],
    "num text": ["+3", "3", "", "-3", "+12.5"],
    "str": [""],  # free text: see the tests below
}


# Signs, and nothing else odd.
PLAIN: dict[str, list[str]] = {
    kind: [
        v
        for v in shapes
        if (v and not v.startswith(("00", "-00", "+00", "--", "++", "-."))) or v == "0.00"
    ]
    for kind, shapes in SHAPES.items()
}
PLAIN["str"] = [""]


def values_for(
    type_id: str, variant: int, free_text: str = "", shapes: dict[str, list[str]] = SHAPES
) -> dict[str, str]:
    """FID -> wire text: field i takes shape (i + variant) of its kind."""
    typed = catalog.get(type_id).response_type
    kinds = typed.__kinds__  # type: ignore[attr-defined]
    out = {}
    for i, (f, kind) in enumerate(zip(msgspec.structs.fields(typed), kinds, strict=True)):
        choices = [free_text] if kind == "str" else shapes[kind]
        out[f.encode_name] = choices[(i + variant) % len(choices)]
    return out


def frame(*items: tuple[str, str, dict[str, str]]) -> bytes:
    data = [{"type": t, "name": "이름", "item": code, "values": v} for t, code, v in items]
    return json.dumps({"trnm": "REAL", "data": data}, ensure_ascii=False).encode()


def as_sent(type_id: str, values: dict[str, str]) -> Any:
    """The typed values the catalogue decodes from the values as sent (the reference)."""
    return catalog.get(type_id).decode(json.dumps(values, ensure_ascii=False).encode())


def ticks(types: list[str], frames: list[bytes], wire: bool = False) -> list[Tick[Any]]:
    """Every tick a stream of ``types`` receives for ``frames``, through the receive path."""

    async def main() -> list[Tick[Any]]:
        rt = Realtime("token", url="ws://unused")
        stream = rt.stream(types, maxsize=10_000, wire=wire)
        for f in frames:
            rt.process(f)
        out = list(stream.queue)
        await rt.close()
        return out

    return asyncio.run(main())


@pytest.mark.parametrize("type_id", REALTIME_TYPES)
def test_every_type_decodes_as_the_catalogue_does(type_id: str) -> None:
    sent = [values_for(type_id, variant) for variant in range(8)]
    frames = [frame((type_id, "005930", v)) for v in sent]
    got = ticks([type_id], frames)
    assert len(got) == len(sent)
    for tick, values in zip(got, sent, strict=True):
        assert tick.type == type_id and tick.item == "005930"
        assert tick.name == catalog.get(type_id).name
        assert type(tick.values) is catalog.get(type_id).response_type
        assert tick.values == as_sent(type_id, values), values


@pytest.mark.parametrize("type_id", REALTIME_TYPES)
def test_the_stripped_road_takes_plain_frames(type_id: str) -> None:
    """Frames of signed numbers and number text, no free text: read without the road as sent.

    (Blanks and zero padding teach the plan first, see below; doubled signs never take it.)"""
    typed = catalog.get(type_id).response_type
    road = StrippedFrames({type_id: typed})
    for variant in range(3):
        values = values_for(type_id, variant, shapes=PLAIN)
        got = road.decode(frame((type_id, "005930", values)))
        assert got is not None, values
        assert got[0].values == as_sent(type_id, values)


def test_free_text_keeps_every_sign() -> None:
    # 00 (주문체결) carries free text: 주문구분 "+매수" must keep its '+'.
    road = StrippedFrames({"00": catalog.get("00").response_type})
    for text in ("+매수", "+5%", "A+B", "+", "++", "접수"):
        values = values_for("00", 0, free_text=text, shapes=PLAIN)
        raw = frame(("00", "", values))
        for road_of in (road.fast, road.decode):  # the text is read again from the frame
            (tick,) = road_of(raw) or []
            assert tick.values == as_sent("00", values)
            assert tick.values.io_tp_nm == text  # type: ignore[attr-defined]
        (tick,) = ticks(["00"], [raw])
        assert tick.values == as_sent("00", values)
    empty = values_for("00", 0, shapes=PLAIN)
    (tick,) = road.fast(frame(("00", "", empty))) or []
    assert tick.values == as_sent("00", empty)


def test_free_text_is_read_again_only_where_a_sign_may_have_gone() -> None:
    road = StrippedFrames({"00": catalog.get("00").response_type})
    reads = 0
    text_decoder = road._text_decoder

    class Counting:
        def decode(self, raw: bytes) -> Any:
            nonlocal reads
            reads += 1
            return text_decoder.decode(raw)

    road._text_decoder = Counting()  # type: ignore[assignment]
    plain = values_for("00", 0, shapes=PLAIN)  # signed numbers, blank free text
    assert road.fast(frame(("00", "", plain))) is not None
    assert reads == 0
    texty = values_for("00", 0, free_text="접수", shapes=PLAIN)
    assert road.fast(frame(("00", "", texty))) is not None
    assert reads == 1
    # Free text that is only '+' keeps it (no digit follows), and is read again as any text.
    plus = values_for("00", 0, free_text="+", shapes=PLAIN)
    (tick,) = road.fast(frame(("00", "", plus))) or []
    assert tick.values.io_tp_nm == "+"  # type: ignore[attr-defined]
    assert reads == 2


def test_free_text_is_read_again_for_the_items_that_hold_it() -> None:
    road = StrippedFrames({t: catalog.get(t).response_type for t in ("00", "0B", "1h")})
    items = [
        ("0B", "005930", values_for("0B", 1, shapes=PLAIN)),
        ("00", "", values_for("00", 2, free_text="+매도", shapes=PLAIN)),
        ("00", "", values_for("00", 3, shapes=PLAIN)),
        ("1h", "005930", values_for("1h", 4, free_text="+정적", shapes=PLAIN)),
    ]
    got = road.decode(frame(*items))
    assert got is not None
    assert [t.values for t in got] == [as_sent(t, v) for t, _, v in items]


def test_items_without_an_item_code_take_the_stock_code_of_their_values() -> None:
    values = values_for("00", 0) | {"9001": "A005930"}
    (tick,) = ticks(["00"], [frame(("00", "", values))])
    assert tick.item == "A005930"


def test_mixed_frames_and_unconsumed_types() -> None:
    b, d, a = values_for("0B", 1), values_for("0D", 2), values_for("0A", 3)
    got = ticks(
        ["0B", "0D"], [frame(("0B", "005930", b), ("0A", "005930", a), ("0D", "000660", d))]
    )
    assert [(t.type, t.item) for t in got] == [("0B", "005930"), ("0D", "000660")]
    assert got[0].values == as_sent("0B", b) and got[1].values == as_sent("0D", d)


def test_wire_form_keeps_every_sign() -> None:
    values = values_for("0B", 0)
    (typed,) = ticks(["0B"], [frame(("0B", "005930", values))])
    (wire,) = ticks(["0B"], [frame(("0B", "005930", values))], wire=True)
    assert wire.values == msgspec.convert(values, catalog.get("0B").wire_type)
    assert typed.values == as_sent("0B", values)


def test_control_frames_keep_their_text() -> None:
    async def main() -> None:
        rt = Realtime("token", url="ws://unused")
        rt.stream("0B")
        seen: list[Any] = []
        rt._control = lambda f, raw: seen.append(f)  # type: ignore[method-assign]
        rt.process(b'{"trnm":"REG","return_code":1,"return_msg":"+1 item refused"}')
        assert seen[0].return_msg == "+1 item refused"
        await rt.close()

    asyncio.run(main())


def test_text_frames_and_bytes_frames_alike() -> None:
    values = values_for("0B", 2)
    raw = frame(("0B", "005930", values))
    (from_bytes,) = ticks(["0B"], [raw])
    (from_text,) = ticks(["0B"], [raw.decode()])  # type: ignore[list-item]
    assert from_bytes == from_text


def test_the_plan_learns_a_shape_then_reads_it_without_help() -> None:
    road = StrippedFrames({"0B": catalog.get("0B").response_type})
    values = values_for("0B", 0, shapes=PLAIN) | {"10": "0000060700", "13": ""}
    first = road.decode(frame(("0B", "005930", values)))
    assert first is not None and first[0].values.cur_prc == 60700  # type: ignore[attr-defined]
    assert first[0].values.acc_trde_qty is None  # type: ignore[attr-defined]
    assert road.decode(frame(("0B", "005930", values))) is not None


def test_ticks_are_typed_structs_with_their_type() -> None:
    cls = tick_class("0B", "주식체결")
    tick = cls(catalog.get("0B").response_type(cur_prc=1), "005930")
    assert isinstance(tick, Tick) and tick.type == "0B" and tick.name == "주식체결"
    assert repr(tick).startswith("Tick(type='0B', item='005930', values=Real0B(")
    encoded = json.loads(msgspec.json.encode(tick))
    assert encoded["type"] == "0B" and encoded["item"] == "005930"


def test_blank_fields_stay_numbers_in_c() -> None:
    """Every numeric FID decodes as ``int | ""`` from the start (the fixer maps "" to None),
    not as text: a blank costs no new plan, and the frames, blank or not, keep the stripped
    road and its C numbers."""
    decoder = _stripped_decoder(catalog.get("0B").response_type)
    road = StrippedFrames({"0B": catalog.get("0B").response_type})
    blank = values_for("0B", 0, shapes=PLAIN) | {"10": "", "13": "", "1890": ""}
    full = values_for("0B", 1, shapes=PLAIN)
    for values in (blank, full, blank):
        got = road.decode(frame(("0B", "005930", values)))
        assert got is not None and got[0].values == as_sent("0B", values)
    assert decoder.plan.demoted == frozenset()
    assert decoder.builds == 1 and road.builds["0B"] == 1
    blanks = {attr for _, attr in decoder.plan.blank}
    # 1890 (open_pric_tm) is num text: text, finished by its op (no blank to read).
    assert {"cur_prc", "acc_trde_qty"} <= blanks and "open_pric_tm" not in blanks
    # A field that then shows zero padding becomes text after all, and so does every
    # integer of its type (one lesson for the family, see the test below).
    padded = full | {"10": "0000060700"}
    got = road.decode(frame(("0B", "005930", padded)))
    assert got is not None and got[0].values.cur_prc == 60700  # type: ignore[attr-defined]
    assert "cur_prc" in {attr for _, attr in decoder.plan.demoted}
    assert decoder.builds == 2 and road.builds["0B"] == 2
    got = road.decode(frame(("0B", "005930", blank)))
    assert got is not None and got[0].values == as_sent("0B", blank)


def test_a_new_shape_rebuilds_only_its_own_type() -> None:
    """A value shape a plan has not met (zero padding) makes a new plan and tick class for
    the type that sent it; every other type keeps its plan and class, and the union decoder
    is remade from classes msgspec already read."""
    types = ("00", "0B", "0D", "1h")
    road = StrippedFrames({t: catalog.get(t).response_type for t in types}, REALTIME_TYPES)
    plain = [(t, "005930", values_for(t, 0, shapes=PLAIN)) for t in types]
    assert road.decode(frame(*plain)) is not None
    classes = dict(road.type_of)
    plans = {t: _stripped_decoder(catalog.get(t).response_type).plan for t in types}
    assert dict(road.builds) == dict.fromkeys(REALTIME_TYPES, 1)

    padded = values_for("0D", 0, shapes=PLAIN) | {"41": "0000060700"}
    got = road.decode(frame(plain[1], ("0D", "005930", padded)))
    assert got is not None and got[1].values == as_sent("0D", padded)
    assert road.builds["0D"] == 2
    assert dict(road.builds) == dict.fromkeys(REALTIME_TYPES, 1) | {"0D": 2}
    for t in types:
        plan = _stripped_decoder(catalog.get(t).response_type).plan
        assert (plan is plans[t]) == (t != "0D"), t
    kept = {cls for cls, t in road.type_of.items() if t != "0D"}
    assert kept == {cls for cls, t in classes.items() if t != "0D"}
    # Learnt once: the same shape again takes the fast road, and nothing is rebuilt.
    assert road.fast(frame(("0D", "005930", padded))) is not None
    assert road.builds["0D"] == 2


def test_zero_padding_teaches_every_integer_of_its_type_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One zero-padded integer ("000000012300": msgspec reads no leading zeros) demotes every
    integer of its type to text in one lesson, not one lesson per FID as each shows padding.
    That plan was built at subscription, so the lesson builds none on the receive loop."""
    typed = catalog.get("0B").response_type
    road = StrippedFrames({"0B": typed})
    decoder = _stripped_decoder(typed)
    ints = {fid for fid, kind in fids_and_kinds("0B") if kind in ("int", "abs int")}
    floats = {fid for fid, kind in fids_and_kinds("0B") if kind in ("float", "abs float")}
    attrs = {f.encode_name: f.name for f in msgspec.structs.fields(typed)}

    def no_plan_on_the_loop(*args: Any) -> None:
        raise AssertionError("a plan was built on the receive loop")

    monkeypatch.setattr(_fastdecode, "_Plan", no_plan_on_the_loop)
    base = values_for("0B", 0, shapes=PLAIN)
    first, other = sorted(ints)[:2]
    for fid in (first, other):
        values = base | {fid: "000000012300"}
        got = road.decode(frame(("0B", "005930", values)))
        assert got is not None and got[0].values == as_sent("0B", values)
        assert getattr(got[0].values, attrs[fid]) == 12300
    assert {attr for _, attr in decoder.plan.demoted} == {attrs[f] for f in ints}
    assert decoder.builds == 2 and road.builds["0B"] == 2  # the second FID taught nothing
    assert road.fast(frame(("0B", "005930", base | {fid: "-0000060700" for fid in ints})))
    # A padded decimal is the floats' lesson (a plan not built ahead: built now).
    monkeypatch.undo()
    values = base | {sorted(floats)[0]: "0012.50"}
    got = road.decode(frame(("0B", "005930", values)))
    assert got is not None and got[0].values == as_sent("0B", values)
    assert {attr for _, attr in decoder.plan.demoted} == {attrs[f] for f in ints | floats}
    assert decoder.builds == 3


def test_a_frame_builds_one_plan_at_a_time() -> None:
    """A frame with new shapes in two types builds one plan (it is read as sent); the next
    such frame teaches the other: no frame waits for every plan at once. Lessons whose plan
    was built ahead (zero-padded integers) are swaps: one frame takes them all."""
    types = ("0B", "0D")
    road = StrippedFrames({t: catalog.get(t).response_type for t in types})
    b = values_for("0B", 0, shapes=PLAIN) | {"10": "0000060700"}
    d = values_for("0D", 0, shapes=PLAIN) | {"41": "0000060700"}
    got = road.decode(frame(("0B", "005930", b), ("0D", "005930", d)))
    assert got is not None and [t.values for t in got] == [as_sent("0B", b), as_sent("0D", d)]
    assert dict(road.builds) == {"0B": 2, "0D": 2}

    # Zero-padded decimals: a plan to build per type.
    b |= {"12": "0012.50"}
    d |= {"129": "0012.50"}
    raw = frame(("0B", "005930", b), ("0D", "005930", d))
    assert road.decode(raw) is None  # read as sent: one plan learnt
    assert sum(road.builds.values()) == 5
    got = road.decode(raw)
    assert got is not None and [t.values for t in got] == [as_sent("0B", b), as_sent("0D", d)]
    assert dict(road.builds) == {"0B": 3, "0D": 3}
    made = [_stripped_decoder(catalog.get(t).response_type).made for t in types]
    assert made == [1, 1]


def test_subscribing_builds_the_decoders_not_the_first_frame() -> None:
    async def main() -> None:
        rt = Realtime("token", url="ws://unused")
        assert rt._dispatcher.stripped is None
        stream = rt.stream(["0B"])
        assert rt._dispatcher.stripped is not None
        await stream.aclose()
        await rt.close()

    asyncio.run(main())


def test_bytes_that_are_not_utf8_are_a_malformed_frame() -> None:
    """The socket is read as bytes, so nothing checked the UTF-8 before the decoder: a frame
    that is not UTF-8 is counted and skipped like any malformed frame, the loop goes on."""

    async def main() -> None:
        rt = Realtime("token", url="ws://unused")
        stream = rt.stream("0B")
        good = frame(("0B", "005930", values_for("0B", 0, shapes=PLAIN)))
        for raw in (good.replace(b"005930", b"\xff\xfe\xfd\xfc\xfb\xfa"), b'{"trnm":"\xed\xa0"}'):
            assert rt.process(raw) is False
        rt.process(good)
        stats = rt.stats()
        assert stats.malformed_frames == 2 and stats.frames == 3
        assert [t.item for t in stream.queue] == ["005930"]
        await rt.close()

    asyncio.run(main())


def test_text_with_lone_surrogates_is_a_malformed_frame() -> None:
    async def main() -> int:
        rt = Realtime("token", url="ws://unused")
        rt.stream(["0B"])
        raw = '{"trnm":"REAL","data":[{"type":"0B","item":"005930","values":{"10":"\ud800"}}]}'
        assert rt.process(raw) is False
        malformed = rt.stats().malformed_frames
        await rt.close()
        return malformed

    assert asyncio.run(main()) == 1


def test_a_failure_of_the_stripped_road_leaves_the_frame_to_the_road_as_sent(
    monkeypatch: Any,
) -> None:
    def broken(self: Any, raw: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(StrippedFrames, "_read", broken)
    values = values_for("0B", 0, shapes=PLAIN)

    async def main() -> tuple[list[Tick[Any]], int]:
        rt = Realtime("token", url="ws://unused")
        stream = rt.stream(["0B"])  # builds the roads
        road = rt._dispatcher.stripped
        assert road is not None
        road.fast = lambda raw: None  # type: ignore[method-assign]
        rt.process(frame(("0B", "005930", values)))
        out = list(stream.queue)
        await rt.close()
        return out, road.failures

    (tick,), failures = asyncio.run(main())
    assert tick.values == as_sent("0B", values)
    assert failures == 1


def test_ticks_pickle_and_copy() -> None:
    import copy
    import pickle

    (tick,) = ticks(["0B"], [frame(("0B", "005930", values_for("0B", 0, shapes=PLAIN)))])
    for twin in (pickle.loads(pickle.dumps(tick)), copy.deepcopy(tick)):
        assert twin == tick and twin.type == "0B" and twin.name == tick.name
        assert type(twin.values) is catalog.get("0B").response_type


def test_the_receive_loop_reads_bytes_and_takes_the_stripped_road(run: Any) -> None:
    from rt_server import GOOD_TOKEN, KiwoomServer

    async def main() -> None:
        async with KiwoomServer() as server:
            rt = Realtime(GOOD_TOKEN, url=server.url, watchdog=None)
            async with rt:
                stream = rt.stream(["0B", "0D"])
                await rt.register(["005930"], ["0B", "0D"])
                seen: list[Any] = []
                fast = rt._dispatcher.stripped.fast  # type: ignore[union-attr]
                rt._dispatcher.stripped.fast = lambda raw: seen.append(raw) or fast(raw)  # type: ignore[union-attr]
                sent = [values_for("0B", v, shapes=PLAIN) for v in range(3)]
                book = values_for("0D", 1, shapes=PLAIN)
                await server.real([("0B", "005930", v) for v in sent] + [("0D", "005930", book)])
                got = [await anext(stream) for _ in range(4)]
                assert [t.values for t in got] == [
                    *(as_sent("0B", v) for v in sent),
                    as_sent("0D", book),
                ]
                assert seen and all(isinstance(raw, bytes) for raw in seen)
                assert rt.stats().malformed_frames == 0

    run(main())


# -- Both roads, the C accelerator's and its Python fallback, on fuzzed frames ---------------

# Odd wire text: signs in odd places, padding, blanks, invalid numbers, free text with '+'.
ODD = [
    "",
    "+",
    "++3",
    "+-3",
    "-+3",
    "--5",
    "12+3",
    "000000012+300",
    "1e+5",
    "+.5",
    "+.",
    ".",
    "+0",
    "-0",
    " 123",
    "0000060700",
    "-000000012300",
    "+000000012300",
    "0012.50",
    "-00.5",
    "00",
    "1,234",
    "abc",
    "A+1",
    "+매수",
    "+5%",
    "A+B",
    "＋5",
    "99999999999999999999999",
]
FUZZED_TYPES = ["0B", "0D", "00", "1h"]  # consumed; 0A arrives too, unconsumed
ITEMS = ["005930", "A+1", "+1", "", "000660+", "+"]


@functools.cache
def fids_and_kinds(type_id: str) -> list[tuple[str, str]]:
    typed = catalog.get(type_id).response_type
    kinds = typed.__kinds__  # type: ignore[attr-defined]
    fields = msgspec.structs.fields(typed)
    return [(f.encode_name, kind) for f, kind in zip(fields, kinds, strict=True)]


def fuzzed_values(type_id: str, rng: random.Random) -> dict[str, Any]:
    """Plain values (signed numbers, blanks, free text), and in some items a few odd ones, in
    two FIDs of each kind (each odd value teaches the plans: a few FIDs keep the test fast)."""
    out: dict[str, Any] = {}
    odd: dict[str, list[str]] = {}
    for fid, kind in fids_and_kinds(type_id):
        plain = ["", "매수", "+매도"] if kind == "str" else [*PLAIN[kind], ""]
        out[fid] = rng.choice(plain)
        if len(odd.setdefault(kind, [])) < 2:
            odd[kind].append(fid)
    fids = [fid for fids in odd.values() for fid in fids]
    for fid in rng.sample(fids, k=min(len(fids), rng.choice([0, 0, 0, 1, 1, 2, 3]))):
        roll = rng.random()
        if roll < 0.9:
            out[fid] = rng.choice(ODD)
        elif roll < 0.95:
            out[fid] = rng.choice([5, -5.5, None, True])  # not a string
        else:
            del out[fid]
    return out


def fuzzed_frames(n: int, seed: int) -> list[bytes]:
    """REAL frames of 1-3 items, now and then a control frame or a frame that is not JSON."""
    rng = random.Random(seed)
    frames = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.02:
            msg = rng.choice(["+1 item refused", "A+B", "+", ""])
            frames.append(json.dumps({"trnm": "SYSTEM", "code": "+1", "message": msg}).encode())
            continue
        items = [
            (t, rng.choice(ITEMS), fuzzed_values(t, rng))
            for t in rng.choices([*FUZZED_TYPES, "0A"], k=rng.randint(1, 3))
        ]
        raw = frame(*items)
        if roll < 0.04:
            raw = raw[: rng.randrange(len(raw))]  # cut short
        elif roll < 0.05:
            raw = raw.replace(b'"+', b'"+\xff', 1)  # not UTF-8
        frames.append(raw)
    return frames


def outcomes(frames: list[bytes]) -> tuple[list[Any], int]:
    """Per frame, what the socket makes of it: ticks (type, item, name, typed values), frames
    counted malformed, items counted undecodable, control frames; and the road's failures."""

    def values_of(values: Any) -> Any:
        return tuple((k, type(v), repr(v)) for k, v in msgspec.structs.asdict(values).items())

    async def main() -> tuple[list[Any], int]:
        rt = Realtime("token", url="ws://unused")
        stream = rt.stream(FUZZED_TYPES, maxsize=100_000)
        controls: list[Any] = []
        rt._control = lambda f, raw: controls.append(f)  # type: ignore[method-assign]
        out = []
        for raw in frames:
            before = rt.stats()
            rt.process(raw)
            after = rt.stats()
            ticks = [(t.type, t.item, t.name, values_of(t.values)) for t in stream.queue]
            stream.queue.clear()
            errors = {
                t: c.decode_errors - before.types[t].decode_errors
                for t, c in after.types.items()
                if t in before.types
            }
            out.append(
                (
                    ticks,
                    after.malformed_frames - before.malformed_frames,
                    errors,
                    [msgspec.structs.asdict(c) for c in controls],
                )
            )
            controls.clear()
        road = rt._dispatcher.stripped
        failures = road.failures if road is not None else 0
        await rt.close()
        return out, failures

    return asyncio.run(main())


@contextlib.contextmanager
def python_road(strip: Any = _strip_signs) -> Iterator[None]:
    """The Python fallback's fixers, ``fix_values`` and ``strip_signs``, in this process."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_fastdecode, "SPEEDUPS", None)  # plans compile their fixers to Python
        patch.setattr(_frames, "fix_values", _fastdecode._fix_values)
        patch.setattr(_frames, "strip_signs", strip)
        _stripped_decoder.cache_clear()
        try:
            yield
        finally:
            _stripped_decoder.cache_clear()


@pytest.mark.skipif(SPEEDUPS is None, reason="the C accelerator is switched off")
def test_both_roads_read_fuzzed_frames_alike() -> None:
    frames = fuzzed_frames(3000, seed=10)
    c, c_failures = outcomes(frames)
    # Zero padding reached the plans: every integer of some type is read as text since.
    padded_types = []
    for t in FUZZED_TYPES:
        ints = {fid for fid, kind in fids_and_kinds(t) if kind in ("int", "abs int")}
        typed = catalog.get(t).response_type
        wires = {f.name: f.encode_name for f in msgspec.structs.fields(typed)}
        demoted = {wires[attr] for cls, attr in _stripped_decoder(typed).plan.demoted}
        if ints and ints <= demoted:
            padded_types.append(t)
    assert len(padded_types) >= 2, padded_types
    with python_road():
        python, python_failures = outcomes(frames)
    assert c_failures == python_failures == 0
    for i, (a, b) in enumerate(zip(c, python, strict=True)):
        assert a == b, (i, frames[i])
    # The fuzz reaches every outcome: ticks, items dropped, frames malformed, control frames.
    assert sum(len(o[0]) for o in c) > 3000
    assert sum(sum(o[2].values()) for o in c) > 100
    assert sum(o[1] for o in c) > 50
    assert sum(len(o[3]) for o in c) > 20
    # And it tells the stripping rules apart: with every '+' removed (the old fallback), some
    # frames read otherwise.
    with python_road(strip=lambda raw: raw.replace(b"+", b"")):
        every_plus, _ = outcomes(frames[:1000])
    assert sum(a != b for a, b in zip(c, every_plus, strict=False)) > 50
