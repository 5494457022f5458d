"""Real-time throughput in process: typed decode + dispatch of REAL frames, no socket.

In process, without the socket: where the decode's time goes. The figures users meet, over a
real socket from the first frame, come from ``bench/realtime_e2e.py``.

One run on the same pre-encoded frames (70% 0B trades, 30% 0D order books, 1-3 items each;
values shaped as Kiwoom's published examples, see ``_realtime_frames.py``):

- ours: ``Realtime.process`` (the receive loop's per-frame path: envelope decode, typed values
  via the catalogue, a Tick per item, offered to a consumer) with an ``async for`` stream
  consuming every tick (queue large enough that nothing is dropped); it is fed the frames as
  bytes, as its receive loop reads them (``recv(decode=False)``);
- bare: ``msgspec.json.decode`` of the same bytes into all-string Structs (items tagged by
  type, values into the type's wire Struct): decoding only, no conversion, no dispatch;
- reference: kiwoom-restful 0.4.0's own receive/dispatch path in ``bench/.venv`` (its package
  is also named ``kiwoom``, hence a separate process), fed the frames as text, as its receive
  loop reads them; it decodes the envelope only and hands the values to callbacks as bytes.
  Both are fed the same way: 64 frames per loop turn, yielding between chunks.

Goals in process: ours >= 0.5x bare, ours >= 2x the reference (the goals that count are
``realtime_e2e.py``'s, over the socket). Reported on asyncio and uvloop, for typed
ticks and, for comparison, for wire-form ticks (``wire=True``: values as sent, no conversion,
which is what the reference hands over, as bytes). The fixers run in C where
``kiwoom._speedups`` is built; ``KIWOOM_NO_SPEEDUPS=1`` measures their Python twins.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec
from _realtime_frames import frames as make_frames

from kiwoom import Realtime, catalog
from kiwoom._fastdecode import SPEEDUPS, fixers_road, strip_signs

ROUNDS = 5
REFERENCE_PYTHON = Path(__file__).parent / ".venv" / "bin" / "python"


class Bare0B(msgspec.Struct, tag_field="type", tag="0B"):
    values: catalog.get("0B").wire_type  # type: ignore[valid-type]
    name: str = ""
    item: str = ""


class Bare0D(msgspec.Struct, tag_field="type", tag="0D"):
    values: catalog.get("0D").wire_type  # type: ignore[valid-type]
    name: str = ""
    item: str = ""


class BareFrame(msgspec.Struct):
    trnm: str
    data: list[Bare0B | Bare0D] = []


def bare(frames: list[bytes]) -> float:
    decode = msgspec.json.Decoder(BareFrame).decode
    start = time.perf_counter()
    for frame in frames:
        decode(frame)
    return time.perf_counter() - start


async def ours(frames: list[bytes], items: int, wire: bool = False) -> float:
    rt = Realtime("unused", url="ws://benchmark")
    stream = rt.stream(["0B", "0D"], maxsize=items + 1, wire=wire)
    process = rt.process
    # Warm up as a live socket is: the first frame after consumers change builds the decoders
    # (about 1.5 ms, once per subscription change, not per frame).
    process(b'{"trnm":"REAL","data":[]}')

    chunks = [frames[i : i + 64] for i in range(0, len(frames), 64)]

    async def produce() -> None:
        for chunk in chunks:
            for frame in chunk:
                process(frame)
            await asyncio.sleep(0)  # let the consumer run, as between socket reads

    start = time.perf_counter()
    producer = asyncio.get_running_loop().create_task(produce())
    n = 0
    async for tick in stream:
        tick.values.cur_prc if tick.type == "0B" else tick.values.sel_1bid  # noqa: B018
        n += 1
        if n == items:
            break
    elapsed = time.perf_counter() - start
    await producer
    counters = rt.stats().types
    assert sum(c.dropped + c.decode_errors for c in counters.values()) == 0
    await rt.close()
    return elapsed


def breakdown(frames: list[bytes]) -> dict[str, float]:
    """Seconds spent in each step of our path, outside the loop: where the time goes."""
    from kiwoom._realtime._frames import StrippedFrames

    typed = {t: catalog.get(t).response_type for t in ("0B", "0D")}
    stripped = StrippedFrames(typed, typed)
    decoder = stripped._decoder
    fast = stripped.fast
    assert all(fast(f) is not None for f in frames[:100]), "not the stripped road"

    def strip() -> None:
        for f in frames:
            strip_signs(f)

    texts = [strip_signs(f) for f in frames]

    def one_pass() -> None:
        for t in texts:
            decoder.decode(t)

    def whole() -> None:
        for f in frames:
            fast(f)

    t_strip = best(lambda: timed(strip), 5)
    t_decode = best(lambda: timed(one_pass), 5)
    t_whole = best(lambda: timed(whole), 5)
    fixers = "C" if SPEEDUPS else "Python"
    return {
        f"strip the signs' '+' ({fixers})": t_strip,
        "frame -> lax typed twins (one pass)": t_decode,
        f"fixers ({fixers}: magnitudes, times, classes)": max(t_whole - t_decode - t_strip, 0.0),
    }


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def best(fn, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    return min(fn() for _ in range(repeat))


def main() -> None:
    frames = make_frames()
    items = sum(len(json.loads(f)["data"]) for f in frames)
    size = sum(len(f) for f in frames) / len(frames)
    print(f"{len(frames)} REAL frames, {items} items (70% 0B / 30% 0D), {size:.0f} bytes/frame")
    print(f"fast decode fixers: {fixers_road()}")

    import uvloop

    runners = {"asyncio": asyncio.run, "uvloop": uvloop.run}
    script = Path(__file__).parent / "_realtime_reference.py"
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump([frame.decode() for frame in frames], f, ensure_ascii=False)
    if not REFERENCE_PYTHON.exists():
        print(
            "(no bench/.venv: run `make bench/.venv/.installed` for the kiwoom-restful comparison)"
        )
    # Rounds alternate between the contenders, and each keeps its best time: a busy machine
    # slows one round, not one contender.
    t_bare = float("inf")
    results = dict.fromkeys(runners, float("inf"))
    wire_results = dict.fromkeys(runners, float("inf"))
    reference: dict[str, float] | None = None
    for _ in range(ROUNDS):
        t_bare = min(t_bare, best(lambda: bare(frames), 3))
        for loop, runner in runners.items():
            t = best(lambda runner=runner: runner(ours(frames, items)), 2)
            results[loop] = min(results[loop], t)
            t = best(lambda runner=runner: runner(ours(frames, items, wire=True)), 2)
            wire_results[loop] = min(wire_results[loop], t)
        if REFERENCE_PYTHON.exists():
            out = subprocess.run(
                [str(REFERENCE_PYTHON), str(script), f.name, "2"],
                capture_output=True,
                text=True,
                check=True,
            )
            got = json.loads(out.stdout.strip().splitlines()[-1])
            reference = {k: min(got[k], (reference or got)[k]) for k in got}
    Path(f.name).unlink()

    def rate(t: float) -> str:
        return f"{len(frames) / t:>10,.0f} frames/s {items / t:>10,.0f} values/s"

    print(f"{'bare msgspec decode (no loop)':<36} {rate(t_bare)}")
    for loop, t in results.items():
        print(f"{'ours typed + dispatch, ' + loop:<36} {rate(t)}   {t_bare / t:.2f}x bare")
        w = wire_results[loop]
        print(f"{'ours wire form (wire=True), ' + loop:<36} {rate(w)}   {t_bare / w:.2f}x bare")
        if reference:
            r = reference[loop]
            print(
                f"{'kiwoom-restful 0.4.0, ' + loop:<36} {rate(r)}"
                f"   ours typed {r / t:.2f}x, wire {r / w:.2f}x"
            )
    parts = breakdown(frames)
    total = min(results.values())
    print("where the time goes (asyncio run, per frame):")
    for label, t in parts.items():
        print(f"  {label:<38} {t / len(frames) * 1e6:6.2f} us  {t / total:5.0%}")
    rest = total - sum(parts.values())
    label = "dispatch, Tick, queue, consumer"
    print(f"  {label:<38} {rest / len(frames) * 1e6:6.2f} us  {rest / total:5.0%}")
    # Further cases, asyncio: the shapes of Kiwoom's own examples (0B FIDs left blank, each
    # finished by a fixer; 0D FIDs at 0, small ints that need no allocation); and free text
    # filled in (0D's 투자자별ticker), which the stripped road cannot take exactly, so those
    # frames are decoded as sent.
    for label, case in (
        ("case: Kiwoom's example shapes", make_frames(blanks=True, zeros=True)),
        ("case: 0D free text filled", make_frames(free_text=True)),
    ):
        t_case = t_case_bare = float("inf")
        for _ in range(ROUNDS):
            t_case_bare = min(t_case_bare, bare(case))
            t_case = min(t_case, asyncio.run(ours(case, items)))
        print(f"{label:<36} {rate(t_case)}   {t_case_bare / t_case:.2f}x bare")
    worst_bare = min(t_bare / t for t in results.values())
    print(f"goal ours >= 0.5x bare: {'met' if worst_bare >= 0.5 else 'MISSED'} ({worst_bare:.3f}x)")
    if reference:
        worst_ref = min(reference[loop] / t for loop, t in results.items())
        print(
            f"goal ours >= 2x reference: {'met' if worst_ref >= 2 else 'MISSED'} ({worst_ref:.3f}x)"
        )


if __name__ == "__main__":
    sys.exit(main())
