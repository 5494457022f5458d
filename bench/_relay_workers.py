"""The processes of bench/relay.py: the relay, a relay consumer and a direct socket consumer.

    _relay_workers.py relay WS_URL REDIS_URL NAMESPACE
    _relay_workers.py relay-consumer REDIS_URL NAMESPACE EXPECT
    _relay_workers.py direct WS_URL EXPECT

A consumer registers 0B and 0D of the bench's codes, prints ``ready``, takes ticks until it has
EXPECT of them (or none came for 5 s), and prints one JSON line: the count, the monotonic times
of its first and last tick, the receive time of every latency probe (a 0B tick whose
``acc_trde_qty`` carries the probe's number) and its loss counters.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from typing import Any

import msgspec
from _realtime_frames import CODES

from kiwoom import Realtime

TYPES = ["0B", "0D"]
PROBE = 1_000_000_000
"""acc_trde_qty of a latency probe: PROBE + its number."""


async def relay(ws_url: str, redis_url: str, namespace: str) -> None:
    from kiwoom.relay import Relay

    rt = Realtime("bench-token", url=ws_url, watchdog=None, queue_size=1_000_000)
    r = Relay(rt, redis_url, namespace=namespace, maxlen=1_000_000, queue_size=1_000_000)
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await r.run()
    print(msgspec.json.encode(r.stats()).decode(), flush=True)


async def consume(rt: Any, expect: int) -> dict[str, Any]:
    stream = rt.stream(TYPES)
    await rt.register(CODES, TYPES)
    print("ready", flush=True)
    count = 0
    first = last = 0.0
    probes: list[tuple[int, float]] = []
    it = stream.__aiter__()
    while count < expect:
        try:
            tick = await asyncio.wait_for(it.__anext__(), 5 if count else 120)
        except TimeoutError:
            break
        last = time.monotonic()
        if not count:
            first = last
        count += 1
        if tick.type == "0B" and tick.values.acc_trde_qty >= PROBE:
            probes.append((tick.values.acc_trde_qty - PROBE, last))
    stats = rt.stats()
    return {
        "count": count,
        "first": first,
        "last": last,
        "probes": probes,
        "dropped": sum(c.dropped for c in stats.types.values()),
        "lost": sum(getattr(stats, "lost", {}).values()),
    }


async def relay_consumer(redis_url: str, namespace: str, expect: str) -> None:
    from kiwoom.relay import RelayClient

    async with RelayClient(redis_url, namespace=namespace, queue_size=1_000_000) as rt:
        result = await consume(rt, int(expect))
    print(msgspec.json.encode(result).decode(), flush=True)


async def direct(ws_url: str, expect: str) -> None:
    async with Realtime("bench-token", url=ws_url, watchdog=None, queue_size=1_000_000) as rt:
        result = await consume(rt, int(expect))
    print(msgspec.json.encode(result).decode(), flush=True)


if __name__ == "__main__":
    role, *args = sys.argv[1:]
    worker = {"relay": relay, "relay-consumer": relay_consumer, "direct": direct}[role]
    asyncio.run(worker(*args))
