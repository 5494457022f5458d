"""The relay end to end: a simulator as Kiwoom, a throw-away redis-server, the relay and its
consumers each in a process of their own."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from typing import Any

import msgspec
from conftest import Processes, Requests, wait_for

import kiwoom
from kiwoom.relay._keys import Keys


def _direct_ticks(sync_redis: Any, namespace: str, tick_type: str, items: set[str]) -> list[Any]:
    """What a direct socket consumer of ``items`` makes of every frame the relay published:
    the socket runtime's own per-frame path over the same frames."""

    async def decode() -> list[Any]:
        rt = kiwoom.Realtime("unused")
        stream = rt.stream(tick_type, items)
        for _, fields in sync_redis.xrange(Keys(namespace).stream(tick_type)):
            rt.process(fields[b"f"])
        out = []
        while stream.queue:
            tick = await stream.__anext__()
            out.append([tick.type, tick.item, msgspec.json.encode(tick.values).decode()])
        await rt.close()
        return out

    return asyncio.run(decode())


def _relay_up(sync_redis: Any, namespace: str) -> bool:
    return bool(sync_redis.exists(Keys(namespace).relay))


def test_overlapping_consumers_share_one_registration_per_pair(
    sim, procs: Processes, requests: Requests, sync_redis, namespace
):
    procs.relay(sim)
    wait_for(lambda: _relay_up(sync_redis, namespace), what="the relay's lock")
    a = procs.consumer("a", ["005930", "000660"], ["0B"])
    b = procs.consumer("b", ["000660", "035720"], ["0B"])
    a.ready()
    b.ready()
    # Every pair registered once, the shared one (0B, 000660) too.
    assert Counter(requests.pairs("REG")) == {
        ("0B", "005930"): 1,
        ("0B", "000660"): 1,
        ("0B", "035720"): 1,
    }
    assert requests.pairs("REMOVE") == []
    time.sleep(2)
    got_a = a.finish()
    # a let go: only what nobody else holds is removed.
    wait_for(lambda: requests.pairs("REMOVE"), what="a REMOVE")
    time.sleep(0.5)
    assert requests.pairs("REMOVE") == [("0B", "005930")]
    time.sleep(0.5)
    got_b = b.finish()
    wait_for(lambda: len(requests.pairs("REMOVE")) == 3, what="b's REMOVE")
    assert sorted(requests.pairs("REMOVE")) == [
        ("0B", "000660"),
        ("0B", "005930"),
        ("0B", "035720"),
    ]
    assert len(requests.sessions()) == 1  # one socket for everyone

    for got, items in ((got_a, {"005930", "000660"}), (got_b, {"000660", "035720"})):
        ticks = got["ticks"]
        assert {t[1] for t in ticks} == items
        direct = _direct_ticks(sync_redis, namespace, "0B", items)
        # The consumer's ticks are the direct consumer's, in order, from its first on.
        start = direct.index(ticks[0])
        assert ticks == direct[start : start + len(ticks)]
        assert len(ticks) > 20
        counters = got["stats"]["types"]["0B"]
        assert counters["dropped"] == 0
        assert counters["decode_errors"] == 0
        assert got["stats"]["lost"] == {}
        assert got["stats"]["gaps"] == 0
