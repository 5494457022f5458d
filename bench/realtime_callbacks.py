"""CPU per tick of a plain (sync) callback, ``rt.on(types, fn)``: a trickle against a burst.

Frames (``_realtime_frames``: 0B and 0D, 1-3 items each) go through ``Realtime.process``
(the receive loop's per-frame path, no socket), fed

- as a trickle: one frame per loop turn, 1,000 frames a second (a quiet market);
- as a burst: 64 frames per loop turn, as fast as they decode (the open).

Each case runs three times: with the callback as ``rt.on`` makes it by default (on the loop
while it is quick), with ``thread=True`` (in a worker thread from the first tick, a batch
per loop turn), and with the same feed into a stream emptied each turn without a reader
(the decode, dispatch and feed without the callback). Printed per case: process CPU per
tick (every thread: a worker thread's share counts), and the callback's own share (the
difference).
Goal (issue 14): a trickle's CPU per tick within 1.2x of a burst's. The trickle's feed
itself (a loop wake-up and a timer per frame) costs far more per tick than a burst's, with or
without a callback: the callback's share is the figure the goal is about.

Then the same trickle over a real loopback socket (``_e2e_server.py`` in a process of its own
sending ``_e2e_frames`` one frame a millisecond, then a burst in 64-frame chunks), each client a
process of its own measuring its CPU: the bare ``websockets`` receive loop (no decode: the
socket's and the loop's wake-up cost) and ours with the sync callback. The difference is ours.

``python bench/realtime_callbacks.py [runs]`` (default 3).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec
from _e2e_frames import frame_server
from _e2e_frames import frames as e2e_frames
from _realtime_frames import frames

from kiwoom import Realtime

TRICKLE_RATE = 1_000  # frames a second
TRICKLE_FRAMES = 3_000
BURST_FRAMES = 20_000
CHUNK = 64


async def _feed(rt: Realtime, batch: list[bytes], trickle: bool, drain: Any) -> None:
    loop = asyncio.get_running_loop()
    if trickle:
        start = loop.time()
        for i, raw in enumerate(batch):
            rt.process(raw)
            drain()
            await asyncio.sleep(max(0.0, start + (i + 1) / TRICKLE_RATE - loop.time()))
        return
    for i in range(0, len(batch), CHUNK):
        for raw in batch[i : i + CHUNK]:
            rt.process(raw)
        drain()
        await asyncio.sleep(0)


async def _feed_alone(batch: list[bytes]) -> float:
    """Process CPU seconds per tick of the trickle's feed with no frame handled."""

    class Idle:
        def process(self, raw: bytes) -> None:
            pass

    ticks = sum(len(msgspec.json.decode(raw)["data"]) for raw in batch)
    cpu = time.process_time()
    await _feed(Idle(), batch, True, lambda: None)  # type: ignore[arg-type]
    return (time.process_time() - cpu) / ticks


async def _case(batch: list[bytes], trickle: bool, mode: str) -> float:
    """Process CPU seconds per tick delivered."""
    rt = Realtime("bench-token", reconnect=False)
    seen = 0

    def on_tick(tick: Any) -> None:
        nonlocal seen
        seen += 1

    consumer: Any
    callback = mode != "stream"
    if callback:
        thread = True if mode == "thread" else None
        consumer = rt.on(["0B", "0D"], on_tick, maxsize=len(batch) * 4, thread=thread)
        drain: Any = lambda: None  # noqa: E731
    else:
        # Emptied each turn without a reader: ticks are freed as they are with a callback.
        consumer = rt.stream(["0B", "0D"], maxsize=len(batch) * 4)
        drain = consumer.queue.clear
    await _feed(rt, batch[:200], trickle, drain)  # warm: plans learnt, classes made
    await asyncio.sleep(0.05)
    before = sum(c.received for c in rt.stats().types.values())
    seen = 0
    cpu = time.process_time()
    await _feed(rt, batch, trickle, drain)
    ticks = sum(c.received for c in rt.stats().types.values()) - before
    while callback and seen < ticks:
        await asyncio.sleep(0)
    used = time.process_time() - cpu
    await consumer.aclose()
    await rt.close()
    return used / ticks


HERE = Path(__file__).resolve().parent
SOCKET_CLIENTS = {"bare websockets recv": "bare-recv", "ours, sync callback": "ours-callback"}


def over_socket(runs: int) -> None:
    """CPU per tick over loopback, trickle and burst, bare receive loop against ours."""
    warm, trickle, burst = 500, TRICKLE_FRAMES, BURST_FRAMES
    _, batch, per_frame = e2e_frames(warm + trickle + burst)
    bounds = [[0, warm], [warm, warm + trickle, TRICKLE_RATE], [warm + trickle, len(batch)]]
    phases = [[b[1] - b[0], sum(per_frame[b[0] : b[1]])] for b in bounds]
    with tempfile.TemporaryDirectory() as tmp:
        phases_file = Path(tmp, "phases.json")
        with frame_server(tmp, batch, bounds, phases) as url:
            for run in range(runs):
                out: dict[str, list[float]] = {}
                for name, mode in SOCKET_CLIENTS.items():
                    result = Path(tmp, f"{run}-{mode}.out.json")
                    subprocess.run(
                        [sys.executable, str(HERE / "_e2e_client.py"), mode, "asyncio", url,
                         f"{run}-{mode}", str(phases_file)],
                        env={**os.environ, "E2E_OUT": str(result)},
                        check=True,
                        timeout=300,
                    )  # fmt: skip
                    cpu = json.loads(result.read_text())["cpu"]
                    out[name] = [cpu[p] / phases[p][1] * 1e6 for p in (1, 2)]  # per tick
                bare_t, bare_b = out["bare websockets recv"]
                ours_t, ours_b = out["ours, sync callback"]
                print(
                    f"run {run + 1}, over a socket, CPU per tick (load {os.getloadavg()[0]:.2f}):"
                    f" bare websockets recv: trickle {bare_t:.1f} us, burst {bare_b:.1f} us;"
                    f" ours with the sync callback: trickle {ours_t:.1f} us, burst"
                    f" {ours_b:.1f} us ({ours_t / ours_b:.2f}x); ours' share: trickle"
                    f" {ours_t - bare_t:.1f} us, burst {ours_b - bare_b:.1f} us"
                )


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    batch = frames(BURST_FRAMES)
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores shared)")
    ratios: dict[str, list[float]] = {"inline": [], "thread": []}
    for run in range(runs):
        out = {}
        for trickle in (True, False):
            n = TRICKLE_FRAMES if trickle else BURST_FRAMES
            for mode in ("inline", "thread", "stream"):
                out[trickle, mode] = asyncio.run(_case(batch[:n], trickle, mode)) * 1e6
        print(
            f"run {run + 1}: without a callback (stream): trickle {out[True, 'stream']:.1f} us, "
            f"burst {out[False, 'stream']:.1f} us per tick"
        )
        for mode, label in (("inline", "default (inline)"), ("thread", "thread=True")):
            cb_t, cb_b = out[True, mode], out[False, mode]
            own_t, own_b = cb_t - out[True, "stream"], cb_b - out[False, "stream"]
            ratios[mode].append(cb_t / cb_b)
            print(
                f"  {label}: CPU per tick trickle {cb_t:.1f} us, burst {cb_b:.1f} us "
                f"({cb_t / cb_b:.2f}x); the callback's share: trickle {own_t:.1f} us, burst "
                f"{own_b:.1f} us"
            )
        feed = asyncio.run(_feed_alone(batch[:TRICKLE_FRAMES])) * 1e6
        print(f"  the trickle's feed alone (a sleep per frame, no frame handled): {feed:.1f} us")
    for mode, label in (("inline", "default (inline)"), ("thread", "thread=True")):
        r = ratios[mode]
        print(f"trickle/burst CPU per tick, {label}: {min(r):.2f}-{max(r):.2f}x")
    over_socket(runs)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
