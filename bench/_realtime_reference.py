"""The reference wrapper (kiwoom-restful 0.4.0) on the benchmark frames; run in bench/.venv.

Feeds the frames into its queue as ``realtime.py`` feeds ours (64 per loop turn, as between
socket reads) and runs its own receive/dispatch coroutine
(``API._on_receive_websocket``: envelope decode, one task per item, the callback gets the
values as bytes), with an async callback per type counting the items. No network.
Prints one JSON line: {"loop": seconds, ...}.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time


async def run(frames: list[str], items: int) -> float:
    from kiwoom.config import REAL

    from kiwoom import API

    api = API(REAL, "appkey", "secretkey")
    done = asyncio.Event()
    count = 0

    async def on_real(data: object) -> None:
        nonlocal count
        count += 1
        if count == items:
            done.set()

    api.add_callback_on_real_data("0B", on_real)
    api.add_callback_on_real_data("0D", on_real)
    chunks = [frames[i : i + 64] for i in range(0, len(frames), 64)]

    async def produce() -> None:
        # Fed as ours is (bench/realtime.py): 64 frames per loop turn, as between socket reads.
        for chunk in chunks:
            for frame in chunk:
                api.queue.put_nowait(frame)
            await asyncio.sleep(0)

    api._stop_event.clear()
    start = time.perf_counter()
    task = asyncio.create_task(api._on_receive_websocket())
    producer = asyncio.create_task(produce())
    await done.wait()
    await producer
    elapsed = time.perf_counter() - start
    api._stop_event.set()
    task.cancel()
    return elapsed


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        frames = json.load(f)
    items = sum(len(json.loads(f)["data"]) for f in frames)
    out = {}
    for loop in ("asyncio", "uvloop"):
        best = float("inf")
        for _ in range(int(sys.argv[2]) if len(sys.argv) > 2 else 3):
            if loop == "uvloop":
                import uvloop

                elapsed = uvloop.run(run(frames, items))
            else:
                elapsed = asyncio.run(run(frames, items))
            best = min(best, elapsed)
        out[loop] = best
    print(json.dumps(out))


if __name__ == "__main__":
    main()
