"""``Realtime(..., relay=redis_url)``: the process that holds the socket is the relay too; and
``RelayClient.on_raw``. A simulator as Kiwoom, the session's redis-server, the holder in this
process and a consumer in another."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from typing import Any

import msgspec
from relay_procs import Processes, Requests

import kiwoom
from kiwoom._realtime._frames import Real, decode_frame
from kiwoom.relay import RelayClient
from kiwoom.relay._keys import Keys

KEYS = {"appkey": "relay-appkey", "secretkey": "relay-secret"}


def _tick(tick: Any) -> list[Any]:
    return [tick.type, tick.item, msgspec.json.encode(tick.values).decode()]


def _items(frames: list[bytes], item: str) -> list[tuple[str, str, bytes]]:
    """(type, item, raw values) of every item ``item`` in the REAL frames, in order."""
    out = []
    for raw in frames:
        frame = decode_frame(raw)
        if type(frame) is Real:
            out += [(it.type, it.item, bytes(it.values)) for it in frame.data if it.item == item]
    return out


def _run_of(part: list[Any], whole: list[Any]) -> int:
    """Where ``part`` is a contiguous run of ``whole``; -1 if nowhere."""
    for start in range(len(whole) - len(part) + 1):
        if whole[start : start + len(part)] == part:
            return start
    return -1


async def _until(predicate: Any, timeout: float = 20, what: str = "") -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


def test_a_realtime_made_with_relay_serves_consumers_of_other_processes(
    sim, procs: Processes, requests: Requests, sync_redis, redis_url, namespace
):
    refs = Keys(namespace).refs

    async def main() -> None:
        async with kiwoom.AsyncKiwoom(host=sim.url, **KEYS) as client:
            rt = client.realtime(relay=redis_url, relay_options={"namespace": namespace})
            own = rt.stream("0B", "005930")
            socket_frames: list[bytes] = []
            stop_socket_raw = rt.on_raw(socket_frames.append)
            await rt.register(["005930"], ["0B"])  # before connecting: counted once connected
            await rt.connect()
            assert sync_redis.hgetall(refs) == {b"0B\x1f005930": b"1"}

            other = procs.consumer("other", ["005930", "000660"], ["0B"])
            await asyncio.to_thread(other.ready)
            # Merged, reference-counted: one REG per pair, the shared pair counted twice.
            assert Counter(requests.pairs("REG")) == {("0B", "005930"): 1, ("0B", "000660"): 1}
            assert sync_redis.hgetall(refs) == {b"0B\x1f005930": b"2", b"0B\x1f000660": b"1"}
            assert len(requests.sessions()) == 1

            # A consumer in this process too, for its raw frames.
            async with RelayClient(redis_url, namespace=namespace) as raw_consumer:
                relayed: list[bytes] = []
                stop_raw = raw_consumer.on_raw(relayed.append)
                await raw_consumer.register(["000660"], ["0B"])
                await _until(lambda: len(relayed) >= 20, what="relayed raw frames")
                await stop_raw()

            mine = []
            while len(mine) < 20:
                mine.append(_tick(await own.__anext__()))
            got = await asyncio.to_thread(other.finish)
            # Only what nobody else holds is removed: the holder still holds (0B, 005930).
            await _until(lambda: requests.pairs("REMOVE"), what="the consumer's REMOVE")
            assert requests.pairs("REMOVE") == [("0B", "000660")]
            assert sync_redis.hgetall(refs) == {b"0B\x1f005930": b"1"}
            while own.queue:
                mine.append(_tick(await own.__anext__()))
            await rt.remove("1", ["005930"], ["0B"])
            assert sorted(requests.pairs("REMOVE")) == [("0B", "000660"), ("0B", "005930")]
            assert sync_redis.hgetall(refs) == {}
            await stop_socket_raw()
            await rt.close()

        # The other process's ticks of 005930 are the holder's own, in order.
        theirs = [t for t in got["ticks"] if t[1] == "005930"]
        assert len(theirs) > 10
        assert _run_of(theirs, mine) >= 0
        assert {t[1] for t in got["ticks"]} == {"005930", "000660"}
        assert got["stats"]["types"]["0B"]["dropped"] == 0
        assert got["stats"]["lost"] == {}
        # on_raw: every relayed frame is REAL 0B of the registered item only, and the items'
        # raw values are the socket's own, in order.
        relayed_frames = [decode_frame(f) for f in relayed]
        assert {type(f) for f in relayed_frames} == {Real}
        relayed_items = _items(relayed, "000660")
        assert len(relayed_items) == sum(len(f.data) for f in relayed_frames)  # type: ignore[union-attr]
        assert {t for t, _, _ in relayed_items} == {"0B"}
        assert _run_of(relayed_items, _items(socket_frames, "000660")) >= 0

    asyncio.run(main())


def test_condition_search_through_the_relay(sim, sync_redis, redis_url, namespace):
    refs = Keys(namespace).refs
    watch = b"02\x1f0"

    async def main() -> None:
        async with kiwoom.AsyncKiwoom(host=sim.url, **KEYS) as client:
            rt = client.realtime(relay=redis_url, relay_options={"namespace": namespace})
            await rt.connect()
            (session,) = sim.sessions
            async with (
                RelayClient(redis_url, namespace=namespace) as a,
                RelayClient(redis_url, namespace=namespace) as b,
            ):
                # ka10171 and ka10172, answered by the relay's socket: the holder's own answers.
                listed = await a.conditions()
                assert [r.seq for r in listed.data] == [r.seq for r in (await rt.conditions()).data]
                assert len(listed.data) >= 2
                found = await a.condition_search("3")
                assert found.data and found.seq == "3"
                direct = await rt.condition_search("3")  # the clock runs: prices may move
                assert [r.stk_cd for r in found.data] == [r.stk_cd for r in direct.data]

                # ka10173: both watch seq 0; one watch on the socket, counted twice.
                events = a.condition_events("0")
                watched = await a.watch_condition("0")
                assert isinstance(watched.data, list)
                await b.watch_condition("0")
                assert sync_redis.hget(refs, watch) == b"2"
                assert "0" in session.watches
                hits: list[Any] = []
                for _ in range(200):
                    sim.clock.advance(600)
                    await asyncio.sleep(0.05)
                    if events.queue:
                        hits.append(await events.__anext__())
                        break
                assert hits and hits[0].values.seq == "0"
                assert hits[0].values.fid_843 in ("I", "D")
                assert a.stats().types["02"].received >= 1

                # ka10174: b lets go, the watch stays for a; a lets go, the socket stops it.
                await b.stop_condition("0")
                assert sync_redis.hget(refs, watch) == b"1" and "0" in session.watches
                stopped = await a.stop_condition("0")
                assert stopped.return_code == 0
                assert sync_redis.hget(refs, watch) is None
                assert "0" not in session.watches
            # The holder's own watches are counted the same way.
            await rt.watch_condition("1")
            assert sync_redis.hget(refs, b"02\x1f1") == b"1" and "1" in session.watches
            await rt.stop_condition("1")
            assert sync_redis.hget(refs, b"02\x1f1") is None and "1" not in session.watches
            await rt.close()

    asyncio.run(main())


def _first_tick_after_registering(sim: Any, redis_url: str, namespace: str, before: Any) -> float:
    """Seconds from a consumer's registration of 0B 005930 to its first tick; ``before``
    (the consumer) runs first. The consumer reads with a long ``block``, so a missed wake-up
    is plain: the tick would wait for the read under way to end."""

    async def main() -> float:
        async with kiwoom.AsyncKiwoom(host=sim.url, **KEYS) as client:
            rt = client.realtime(relay=redis_url, relay_options={"namespace": namespace})
            consumer = RelayClient(redis_url, namespace=namespace, block=5.0)
            async with rt, consumer:
                ticks = consumer.stream("0B", "005930")
                await before(consumer)
                registered = asyncio.get_running_loop().time()
                await consumer.register(["005930"], ["0B"])
                await asyncio.wait_for(ticks.__anext__(), 4)
                return asyncio.get_running_loop().time() - registered

    return asyncio.run(main())


def test_a_consumers_first_ticks_are_read_at_once_not_after_its_idle_read(
    sim, redis_url, namespace
):
    async def idle(consumer: RelayClient) -> None:
        await asyncio.sleep(0.2)  # nothing registered: its reader waits on its wake stream

    took = _first_tick_after_registering(sim, redis_url, namespace, idle)
    assert took < 2.0  # the simulator trades 005930 many times a second


def test_a_type_added_later_is_read_at_once_not_after_the_read_under_way(sim, redis_url, namespace):
    async def reading_a_quiet_stream(consumer: RelayClient) -> None:
        # Its balance: no order, no event; the read of the 04 stream is under way after.
        await consumer.register([], ["04"], group="9")
        await asyncio.sleep(0.3)

    took = _first_tick_after_registering(sim, redis_url, namespace, reading_a_quiet_stream)
    assert took < 2.0


def test_entries_and_requests_not_the_relays_are_skipped_and_counted(
    sim, sync_redis, redis_url, namespace
):
    keys = Keys(namespace)

    async def main() -> None:
        async with kiwoom.AsyncKiwoom(host=sim.url, **KEYS) as client:
            rt = client.realtime(relay=redis_url, relay_options={"namespace": namespace})
            consumer = RelayClient(redis_url, namespace=namespace, request_timeout=1)
            async with rt, consumer:
                relay = rt._relay
                ticks = consumer.stream("0B", "005930")
                await consumer.register(["005930"], ["0B"])
                await asyncio.wait_for(ticks.__anext__(), 5)
                # Something else writes to the type's stream: skipped, counted, reading goes on.
                sync_redis.xadd(keys.stream("0B"), {"x": "not the relay's"})
                for _ in range(100):
                    if consumer.stats().bad_entries:
                        break
                    await asyncio.sleep(0.05)
                assert consumer.stats().bad_entries == 1
                seen = consumer.stats().types["0B"].received
                for _ in range(100):
                    if consumer.stats().types["0B"].received > seen:
                        break
                    await asyncio.sleep(0.05)
                assert consumer.stats().types["0B"].received > seen
                # A count that is not a number, and a turn of the request loop that fails:
                # neither ends the relay's serving of registrations.
                sync_redis.hset(keys.refs, "0B\x1fJUNK", "x")
                failing = relay._reconcile

                async def fail_once() -> Any:
                    relay._reconcile = failing
                    raise RuntimeError("a bug in one turn")

                relay._reconcile = fail_once
                with contextlib.suppress(kiwoom.RealtimeError):
                    await consumer.register(["000660"], ["0B"])  # the failed turn's request
                assert relay.stats().errors == 1
                await consumer.register(["035720"], ["0B"])  # served by the next turns
                assert relay.stats().registered == 3

    logging.getLogger("kiwoom").setLevel(logging.CRITICAL)
    try:
        asyncio.run(main())
    finally:
        logging.getLogger("kiwoom").setLevel(logging.NOTSET)
