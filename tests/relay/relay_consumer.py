"""A relay consumer process for the tests: register, stream, and on a stop file write what it
got (each tick as type, item and JSON values) and its stats. A stop file reading ``drain``
(the feed was stopped) first has it read every stream to its last entry.

Usage: relay_consumer.py REDIS NAMESPACE ITEMS TYPES STOP_FILE OUT STALL LEASE
STALL > 0 blocks the event loop that long after the first tick (a consumer falling behind).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import msgspec

from kiwoom.relay import RelayClient


async def main(argv: list[str]) -> None:
    redis_url, namespace, items, types, stop, out, stall, lease = argv
    ticks: list[list[Any]] = []
    async with RelayClient(redis_url, namespace=namespace, lease=float(lease)) as rt:
        type_list = types.split(",")
        stream = rt.stream(type_list)
        await rt.register(items.split(","), type_list)
        print("ready", flush=True)

        async def consume() -> None:
            async for tick in stream:
                ticks.append([tick.type, tick.item, msgspec.json.encode(tick.values).decode()])
                if float(stall) and len(ticks) == 1:
                    time.sleep(float(stall))  # blocks the loop: nothing is read meanwhile

        task = asyncio.get_running_loop().create_task(consume())
        while not os.path.exists(stop):
            await asyncio.sleep(0.05)
        if Path(stop).read_text() == "drain":
            # The test stopped the feed: read up to each stream's last entry first.
            deadline = time.monotonic() + 20
            for t in type_list:
                last: Any = await rt._redis.xrevrange(rt.keys.stream(t), count=1)
                while last and rt._pos.get(t) != last[0][0] and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
        await rt.remove("1")  # nothing more comes once the relay answers...
        await asyncio.sleep(0.3)  # ...but what the last reads brought
        task.cancel()
        stats = msgspec.to_builtins(rt.stats())
        registrations = msgspec.to_builtins(rt.registrations())
    with open(out, "wb") as f:
        f.write(
            msgspec.json.encode({"ticks": ticks, "stats": stats, "registrations": registrations})
        )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
