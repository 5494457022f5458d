"""The relay end to end: a simulator as Kiwoom, a throw-away redis-server, the relay and its
consumers each in a process of their own."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from typing import Any

import msgspec
from relay_procs import Processes, Requests, wait_for

import kiwoom
from kiwoom.relay._keys import RS, US, Keys


def _direct_ticks(sync_redis: Any, namespace: str, tick_type: str, items: set[str]) -> list[Any]:
    """What a direct socket consumer of ``items`` makes of every frame the relay published:
    the socket runtime's own per-frame path over the same frames."""

    async def decode() -> list[Any]:
        rt = kiwoom.Realtime("unused")
        stream = rt.stream(tick_type, items)
        for _, fields in sync_redis.xrange(Keys(namespace).stream(tick_type)):
            for frame in fields[b"f"].split(RS.encode()):  # an entry: a turn's frames
                rt.process(frame)
        out = []
        while stream.queue:
            tick = await stream.__anext__()
            out.append([tick.type, tick.item, msgspec.json.encode(tick.values).decode()])
        await rt.close()
        return out

    return asyncio.run(decode())


def _published(sync_redis: Any, namespace: str, tick_type: str, items: set[str]) -> int:
    """Items of ``items`` the relay published on a type's stream (from the entries' item lists)."""
    n = 0
    for _, fields in sync_redis.xrange(Keys(namespace).stream(tick_type)):
        for frame_items in fields[b"i"].decode().split(RS):
            n += sum(item in items for item in frame_items.split(US))
    return n


def _run_of(ticks: list[Any], direct: list[Any]) -> int:
    """Where ``ticks`` is a contiguous run of ``direct`` (equal ticks may repeat: any start
    that matches the whole run); -1 if none."""
    for start in range(len(direct) - len(ticks) + 1):
        if direct[start] == ticks[0] and direct[start : start + len(ticks)] == ticks:
            return start
    return -1


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
    wait_for(
        lambda: _published(sync_redis, namespace, "0B", {"005930", "000660"}) > 40,
        what="ticks of a's items",
    )
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
        assert _run_of(ticks, direct) >= 0
        assert len(ticks) > 20
        counters = got["stats"]["types"]["0B"]
        assert counters["dropped"] == 0
        assert counters["decode_errors"] == 0
        assert got["stats"]["lost"] == {}
        assert got["stats"]["gaps"] == 0


def test_a_dead_consumers_registrations_are_released_when_its_lease_ends(
    sim, procs: Processes, requests: Requests, sync_redis, namespace
):
    procs.relay(sim)
    wait_for(lambda: _relay_up(sync_redis, namespace), what="the relay's lock")
    keep = procs.consumer("keep", ["005930"], ["0B"])
    dies = procs.consumer("dies", ["005930", "000660"], ["0B", "0D"], lease=1)
    keep.ready()
    dies.ready()
    assert sorted(requests.pairs("REG")) == [
        ("0B", "000660"),
        ("0B", "005930"),
        ("0D", "000660"),
        ("0D", "005930"),
    ]
    dies.proc.send_signal(signal.SIGKILL)
    dies.proc.wait(10)
    killed = time.monotonic()
    wait_for(lambda: len(requests.pairs("REMOVE")) == 3, what="the dead consumer's REMOVE")
    assert time.monotonic() - killed < 5  # its 1 s lease, and the relay's sweep
    # (0B, 005930) is still held by the living consumer.
    assert sorted(requests.pairs("REMOVE")) == [
        ("0B", "000660"),
        ("0D", "000660"),
        ("0D", "005930"),
    ]
    assert sync_redis.hgetall(Keys(namespace).refs) == {b"0B\x1f005930": b"1"}
    got = keep.finish()
    assert got["ticks"] and got["stats"]["types"]["0B"]["dropped"] == 0


def test_a_consumer_that_falls_behind_loses_only_its_own_position(
    sim, procs: Processes, sync_redis, namespace
):
    procs.relay(sim, maxlen=20)
    wait_for(lambda: _relay_up(sync_redis, namespace), what="the relay's lock")
    fast = procs.consumer("fast", ["005930", "000660"], ["0B"])
    slow = procs.consumer("slow", ["005930", "000660"], ["0B"], stall=4)
    fast.ready()
    slow.ready()
    time.sleep(6)
    got_slow = slow.finish()
    got_fast = fast.finish()
    # The stalled consumer came back after its entries were trimmed: the gap is counted...
    lost = got_slow["stats"]["lost"].get("0B", 0)
    assert lost > 0, got_slow["stats"]
    # ...and it goes on from where the stream is now.
    assert got_slow["stats"]["types"]["0B"]["received"] > 0
    # The other consumer missed nothing meanwhile.
    assert got_fast["stats"]["lost"] == {}
    assert got_fast["stats"]["types"]["0B"]["dropped"] == 0
    # Same items, and the fast one ran longer: what the slow one got and lost, it got.
    received = got_fast["stats"]["types"]["0B"]["received"]
    assert received >= got_slow["stats"]["types"]["0B"]["received"] + lost


def test_a_killed_relay_is_a_counted_gap_and_its_successor_restores_every_registration(
    sim, procs: Processes, requests: Requests, sync_redis, namespace
):
    first = procs.relay(sim, lease=1)
    wait_for(lambda: _relay_up(sync_redis, namespace), what="the relay's lock")
    c = procs.consumer("c", ["005930", "000660"], ["0B"])
    c.ready()
    stream = Keys(namespace).stream("0B")
    wait_for(lambda: sync_redis.xlen(stream) > 20, what="frames")
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    wait_for(lambda: not sim.sessions, what="the killed relay's socket to close")
    down = sync_redis.xlen(stream)
    successor = procs.relay(sim, lease=1)
    wait_for(lambda: len(requests.sessions()) == 2, what="the new relay's REG")
    second = requests.sessions()[1]
    # The new relay registered from the counts what the consumer held, once.
    assert sorted(requests.pairs("REG", second)) == [("0B", "000660"), ("0B", "005930")]
    wait_for(lambda: sync_redis.xlen(stream) > down + 20, what="frames after the restart")
    # The feed ends (a clean stop), and the consumer reads what the stream holds.
    successor.send_signal(signal.SIGTERM)
    assert successor.wait(20) == 0
    got = c.finish(drain=True)
    stats = got["stats"]
    assert stats["gaps"] == 1
    assert stats["lost"] == {}
    ticks = got["ticks"]
    direct = _direct_ticks(sync_redis, namespace, "0B", {"005930", "000660"})
    start = _run_of(ticks, direct)
    assert start >= 0
    # The consumer read on to the end, through the new relay's frames (two items per frame).
    epochs = [int(f[b"e"]) for _, f in sync_redis.xrange(stream)]
    assert len(set(epochs)) == 2
    assert start + len(ticks) == len(direct)
    assert len(ticks) > 2 * epochs.count(epochs[-1])


def test_the_relays_socket_reconnect_is_a_counted_gap(
    sim, procs: Processes, requests: Requests, sync_redis, namespace
):
    procs.relay(sim)
    wait_for(lambda: _relay_up(sync_redis, namespace), what="the relay's lock")
    c = procs.consumer("c", ["005930"], ["0B"])
    c.ready()
    stream = Keys(namespace).stream("0B")
    wait_for(lambda: sync_redis.xlen(stream) > 10, what="frames")
    sim.faults.drop()
    wait_for(lambda: len(requests.sessions()) == 2, what="the relay's socket to reconnect")
    n = sync_redis.xlen(stream)
    wait_for(lambda: sync_redis.xlen(stream) > n + 10, what="frames after the reconnect")
    got = c.finish()
    assert got["stats"]["gaps"] == 1
    assert sorted(requests.pairs("REG", requests.sessions()[1])) == [("0B", "005930")]


def test_kiwoom_relay_is_the_relays_command_line(capsys):
    from kiwoom import cli

    try:
        cli.main(["relay", "--help"])
    except SystemExit as exc:
        assert exc.code == 0
    out = capsys.readouterr().out
    assert "usage: kiwoom relay" in out
    assert "--redis" in out and "--namespace" in out and "--maxlen" in out


def test_the_relay_lock_is_taken_again_when_it_lapsed_never_from_another_relay(
    sync_redis, namespace
):
    from kiwoom.relay import _keys

    lock = Keys(namespace).relay
    sync_redis.set(lock, "me", px=5000)
    assert sync_redis.eval(_keys.REFRESH_LOCK, 1, lock, "me", 5000) == 1
    # Lapsed while its relay stalled, nobody else took it: taken again.
    sync_redis.delete(lock)
    assert sync_redis.eval(_keys.REFRESH_LOCK, 1, lock, "me", 5000) == 1
    assert sync_redis.get(lock) == b"me" and sync_redis.pttl(lock) > 4000
    # Another relay holds it: not taken, and left as it is.
    sync_redis.set(lock, "other", px=5000)
    assert sync_redis.eval(_keys.REFRESH_LOCK, 1, lock, "me", 5000) == 0
    assert sync_redis.get(lock) == b"other"
