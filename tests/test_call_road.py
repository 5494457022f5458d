"""``client.call(id, dict)`` and the typed methods are one road: same request, same refusal.

Every catalogue API is called both ways (sync and async) with wrong-typed values in its first
text field and in its first field of another kind; both refuse with the same
``InvalidRequestError`` (api id, field, message) and nothing reaches the server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from _fake import APPKEY, SECRET, FakeKiwoom, chart_page
from test_every_api_calls import _REST, _arguments, _method, _wire_body

import kiwoom
from kiwoom import InvalidRequestError, Ka10081Request, catalog
from kiwoom._model import FieldRule

# Values of a Python type the field's kind never takes, per kind.
WRONG: dict[str, list[Any]] = {
    "str": [5930, 59.3, True, ["005930"], {"cd": "005930"}, b"005930", dt.timedelta(1)],
    "date": [20250908, 2025.0908, False, ["20250908"]],
    "time": [90000, True, [90000]],
    "datetime": [20250908090000, True],
    "int": [True, 1.5, ["1"], {"n": 1}],
    "decimal": [True, ["1.5"]],
}


def _fields_to_spoil(entry: catalog.Entry) -> list[FieldRule]:
    """The first text field and the first field of any other kind, when the API has them."""
    assert entry.request_type is not None
    rules: tuple[FieldRule, ...] = entry.request_type.__rules__
    text = [r for r in rules if r.kind == "str"][:1]
    other = [r for r in rules if r.kind != "str"][:1]
    return text + other


def _cases() -> list[tuple[catalog.Entry, FieldRule]]:
    return [(e, r) for e in _REST for r in _fields_to_spoil(e)]


CASES = _cases()


def _run(fn: Any) -> Any:
    """An async method as a blocking function."""
    return lambda *args, **kwargs: asyncio.run(fn(*args, **kwargs))


def _refusal(
    fn: Any, *args: Any, **kwargs: Any
) -> tuple[type[BaseException], str | None, str | None, str]:
    with pytest.raises(Exception) as info:
        fn(*args, **kwargs)
    err = info.value
    return type(err), getattr(err, "api_id", None), getattr(err, "field", None), str(err)


@pytest.fixture(scope="module")
def clients():
    fake = FakeKiwoom()
    sync = kiwoom.Kiwoom(APPKEY, SECRET, transport=fake.transport(), limiter=False)
    async_ = kiwoom.AsyncKiwoom(APPKEY, SECRET, transport=fake.async_transport(), limiter=False)
    return fake, sync, async_


def test_every_api_has_a_field_to_spoil():
    assert len(_REST) == 304
    without = [e.api_id for e in _REST if not _fields_to_spoil(e)]
    # Only APIs whose request takes no field at all.
    for api_id in without:
        request_type = catalog.get(api_id).request_type
        assert request_type is not None and not request_type.__rules__, api_id
    assert len(CASES) >= 304 - len(without)


@pytest.mark.parametrize(("entry", "rule"), CASES, ids=[f"{e.api_id}-{r.wire}" for e, r in CASES])
def test_both_roads_refuse_a_wrong_type_alike(clients, entry, rule):
    fake, client, aclient = clients
    before = len(fake.sent)
    for wrong in WRONG[rule.kind]:
        args = {**_arguments(entry), rule.attr: wrong}
        body = _wire_body(args, entry)
        typed = _refusal(_method(client, entry), **args)
        called = _refusal(client.call, entry.api_id, body)
        raw = _refusal(client.call_raw, entry.api_id, body)
        atyped = _refusal(_run(_method(aclient, entry)), **args)
        acalled = _refusal(_run(aclient.call), entry.api_id, body)
        assert typed[:3] == (InvalidRequestError, entry.api_id, rule.wire), (wrong, typed)
        assert called == typed == raw == atyped == acalled, wrong
        assert entry.api_id in typed[3] and repr(rule.wire) in typed[3]
    assert len(fake.sent) == before  # refused before anything (even a token) was sent


def test_stk_cd_5930_is_refused_on_both_roads(clients):
    fake, client, _ = clients
    before = len(fake.sent)
    with pytest.raises(InvalidRequestError) as by_method:
        client.chart.daily(stk_cd=5930, base_dt="20250908", upd_stkpc_tp="1")  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError) as by_call:
        client.call("ka10081", {"stk_cd": 5930, "base_dt": "20250908", "upd_stkpc_tp": "1"})
    with pytest.raises(InvalidRequestError) as by_struct:
        Ka10081Request(stk_cd=5930, base_dt="20250908", upd_stkpc_tp="1")  # type: ignore[arg-type]
    assert str(by_method.value) == str(by_call.value) == str(by_struct.value)
    assert (by_call.value.api_id, by_call.value.field) == ("ka10081", "stk_cd")
    assert "5930" in str(by_call.value) and "int" in str(by_call.value)
    assert len(fake.sent) == before


def test_both_roads_send_the_same_body():
    fake = FakeKiwoom(routes={"ka10081": chart_page([("20250908", "-70100")])})
    with kiwoom.Kiwoom(APPKEY, SECRET, transport=fake.transport(), limiter=False) as client:
        day = dt.date(2025, 9, 8)
        client.chart.daily(stk_cd="005930", base_dt=day, upd_stkpc_tp="1")
        client.call("ka10081", {"stk_cd": "005930", "base_dt": day, "upd_stkpc_tp": "1"})
        client.call("ka10081", Ka10081Request(stk_cd="005930", base_dt=day, upd_stkpc_tp="1"))
    bodies = [s.body for s in fake.calls("ka10081")]
    assert bodies == [{"stk_cd": "005930", "base_dt": "20250908", "upd_stkpc_tp": "1"}] * 3


@pytest.mark.parametrize("entry", _REST, ids=lambda e: e.api_id)
def test_an_unknown_key_names_the_nearest_field(clients, entry):
    _, client, _ = clients
    request_type = entry.request_type
    assert request_type is not None
    body = _wire_body(_arguments(entry), entry)
    if not request_type.__rules__:
        with pytest.raises(InvalidRequestError, match="takes no request fields") as info:
            client.call(entry.api_id, {"stk_cd": "005930"})
        assert (info.value.api_id, info.value.field) == (entry.api_id, "stk_cd")
        return
    first = request_type.__rules__[0].wire
    typo = first + "x"
    with pytest.raises(InvalidRequestError) as info:
        client.call(entry.api_id, {**body, typo: body[first]})
    assert (info.value.api_id, info.value.field) == (entry.api_id, typo)
    assert f"did you mean {first!r}?" in str(info.value)


def test_an_unknown_key_lists_the_fields_when_nothing_is_near(clients):
    _, client, _ = clients
    with pytest.raises(InvalidRequestError) as info:
        client.call("ka10081", {"zzz": "1", "stk_cd": "005930"})
    assert str(info.value) == (
        "ka10081: field 'zzz': not a field of this API; (fields: stk_cd, base_dt, upd_stkpc_tp)"
    )


def test_a_missing_field_is_refused_like_a_none_from_the_typed_road(clients):
    _, client, _ = clients
    with pytest.raises(InvalidRequestError) as by_call:
        client.call("ka10081", {"base_dt": "20250908", "upd_stkpc_tp": "1"})
    with pytest.raises(InvalidRequestError) as by_method:
        client.chart.daily(stk_cd=None, base_dt="20250908", upd_stkpc_tp="1")  # type: ignore[arg-type]
    assert (
        str(by_call.value)
        == str(by_method.value)
        == ("ka10081: field 'stk_cd': (종목코드) is required")
    )


def test_a_request_of_another_api_or_no_mapping_is_refused(clients):
    _, client, _ = clients
    other = Ka10081Request(stk_cd="005930", base_dt="20250908", upd_stkpc_tp="1")
    with pytest.raises(InvalidRequestError, match="ka10080: expects Ka10080Request"):
        client.call("ka10080", other)
    with pytest.raises(InvalidRequestError, match=r"ka10081: expects .* got list"):
        client.call("ka10081", [("stk_cd", "005930")])  # type: ignore[arg-type]
