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

``python bench/realtime_callbacks.py [runs]`` (default 3).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

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
    for mode, label in (("inline", "default (inline)"), ("thread", "thread=True")):
        r = ratios[mode]
        print(f"trickle/burst CPU per tick, {label}: {min(r):.2f}-{max(r):.2f}x")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
