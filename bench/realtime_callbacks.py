"""CPU per tick of a plain (sync) callback, ``rt.on(types, fn)``: a trickle against a burst.

Frames (``_realtime_frames``: 0B and 0D, 1-3 items each) go through ``Realtime.process``
(the receive loop's per-frame path, no socket), fed

- as a trickle: one frame per loop turn, 1,000 frames a second (a quiet market);
- as a burst: 64 frames per loop turn, as fast as they decode (the open).

Each case runs twice: with the callback, and with the same feed into a stream emptied each
turn without a reader (the decode, dispatch and feed without the callback). Printed per
case: process CPU per tick (every thread: a worker thread's share counts), and the
callback's own share (the difference).
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


async def _case(batch: list[bytes], trickle: bool, callback: bool) -> float:
    """Process CPU seconds per tick delivered."""
    rt = Realtime("bench-token", reconnect=False)
    seen = 0

    def on_tick(tick: Any) -> None:
        nonlocal seen
        seen += 1

    consumer: Any
    if callback:
        consumer = rt.on(["0B", "0D"], on_tick, maxsize=len(batch) * 4)
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
    ratios = []
    for run in range(runs):
        out = {}
        for trickle in (True, False):
            n = TRICKLE_FRAMES if trickle else BURST_FRAMES
            for callback in (True, False):
                out[trickle, callback] = asyncio.run(_case(batch[:n], trickle, callback)) * 1e6
        cb_t, cb_b = out[True, True], out[False, True]
        own_t, own_b = cb_t - out[True, False], cb_b - out[False, False]
        ratios.append(cb_t / cb_b)
        print(
            f"run {run + 1}: CPU per tick with a sync callback: trickle {cb_t:.1f} us, burst "
            f"{cb_b:.1f} us ({cb_t / cb_b:.2f}x); without (stream): trickle "
            f"{out[True, False]:.1f} us, burst {out[False, False]:.1f} us; the callback's "
            f"share: trickle {own_t:.1f} us, burst {own_b:.1f} us"
        )
    print(f"trickle/burst CPU per tick with the callback: {min(ratios):.2f}-{max(ratios):.2f}x")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
