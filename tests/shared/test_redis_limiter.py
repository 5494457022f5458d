"""The rate limiter's books in a real Redis: atomic across threads, processes and clocks."""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

import pytest
import redis

import kiwoom
from kiwoom.errors import KiwoomError
from kiwoom.ratelimit import Limits, RateLimiter, limiter_key
from kiwoom.redis import AsyncRedisBackend, RedisBackend, RedisLimiter

KEY = limiter_key("APPKEY-shared", "https://api.kiwoom.com")
REJECT_1700 = "[1700:허용된 요청 개수를 초과하였습니다. 유량=1, API ID=ka10081]"
# Starts are stamped by the caller right after acquire() returns; the margin keeps a stamp's
# scheduling jitter from looking like an overfull window.
LIMITS = Limits(query_per_second=5, order_per_second=5, margin=0.05)
SPAN = 1.0 + LIMITS.margin


def max_in_window(times: Sequence[float], window: float = 1.0) -> int:
    """Most stamps in any half-open interval [x, x + window)."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window + 1e-9:
            j += 1
        best = max(best, i - j + 1)
    return best


def bound(url: str, limits: Limits = LIMITS, **options: object) -> RateLimiter:
    """A limiter on its own Redis connections, as another process would have."""
    backend = RedisBackend(redis.Redis.from_url(url), KEY)
    return RateLimiter(limits, backend=backend, **options)  # type: ignore[arg-type]


def query(lim: RateLimiter, api_id: str = "ka10001") -> float:
    return lim.acquire(api_id, group="domestic.stock_info", is_order=False)


def test_a_burst_goes_out_in_full_windows(redis_url: str) -> None:
    lim = bound(redis_url)
    stamps = []
    for _ in range(12):
        query(lim)
        stamps.append(time.monotonic())
    assert max_in_window(stamps) == 5
    assert stamps[4] - stamps[0] < 0.1 and stamps[9] - stamps[5] < 0.1  # no wait in a window
    assert stamps[5] - stamps[0] == pytest.approx(SPAN, abs=0.1)
    assert stamps[10] - stamps[0] == pytest.approx(2 * SPAN, abs=0.1)


def test_bookings_match_the_memory_backend(redis_url: str) -> None:
    # The same calls booked one after another: the same slots as the in-memory books give
    # calls made all at once, give or take the time the bookings took.
    limits = Limits(query_per_second=5, order_per_second=3, per_api={"ka10081": 1})
    clock = itertools.count(0.0, 0.0).__next__  # time stands still
    memory, shared = RateLimiter(limits, clock=clock), bound(redis_url, limits)
    calls = [("ka10081", False), ("ka10001", False), ("kt10000", True)] * 6
    slots: list[list[float]] = [[], []]
    for lim, out in zip((memory, shared), slots, strict=True):
        lim._read_learned()
        started = time.monotonic()
        for api_id, is_order in calls:
            buckets = lim._make_buckets(api_id, "g", is_order)
            now = time.monotonic() - started if lim is shared else 0.0
            booking = lim.backend.reserve(buckets, lim._generation)
            assert booking is not None
            out.append(now + booking.wait)
        took = time.monotonic() - started
    assert slots[1] == pytest.approx(slots[0], abs=took + 0.005)
    assert max(slots[0]) == pytest.approx(5 * (1 + limits.margin))


def test_threads_of_many_limiters_never_overfill_a_window(redis_url: str) -> None:
    # Four limiters on their own connections (as four processes), three threads each.
    stamps: list[float] = []
    lock = threading.Lock()

    def worker(lim: RateLimiter) -> None:
        for _ in range(2):
            query(lim)
            with lock:
                stamps.append(time.monotonic())

    threads = [
        threading.Thread(target=worker, args=(lim,))
        for lim in (bound(redis_url) for _ in range(4))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stamps) == 24
    assert max_in_window(stamps) == 5
    assert max(stamps) - min(stamps) == pytest.approx(4 * SPAN, abs=0.3)  # no time wasted


def _process(url: str, calls: int, api_id: str, out: multiprocessing.Queue[list[float]]) -> None:
    lim = bound(url)
    stamps = []
    for _ in range(calls):
        query(lim, api_id)
        stamps.append(time.time())
    out.put(stamps)


def test_processes_share_one_budget(redis_url: str) -> None:
    ctx = multiprocessing.get_context("fork")
    out: multiprocessing.Queue[list[float]] = ctx.Queue()
    procs = [ctx.Process(target=_process, args=(redis_url, 5, "ka10001", out)) for _ in range(4)]
    for p in procs:
        p.start()
    stamps = [t for _ in procs for t in out.get(timeout=30)]
    for p in procs:
        p.join(10)
        assert p.exitcode == 0
    assert len(stamps) == 20
    assert max_in_window(stamps) == 5
    assert max(stamps) - min(stamps) == pytest.approx(3 * SPAN, abs=0.3)


def test_the_servers_clock_not_the_callers(redis_url: str) -> None:
    # Two hosts whose clocks differ by two hours: one host's bookings are not an hour in the
    # other's past (free room) nor future (a blocked key).
    ahead = bound(redis_url, clock=lambda: time.monotonic() + 3600)
    behind = bound(redis_url, clock=lambda: time.monotonic() - 3600)
    first = [query(ahead) for _ in range(5)]
    second = [query(behind) for _ in range(5)]
    third = [query(ahead) for _ in range(5)]
    assert max(first) < 0.05
    assert second[0] == pytest.approx(SPAN, abs=0.05) and max(second[1:]) < 0.05
    assert third[0] == pytest.approx(SPAN, abs=0.05) and max(third[1:]) < 0.05


def test_learned_allowances_and_cool_downs_are_shared(redis_url: str) -> None:
    one, other = bound(redis_url), bound(redis_url)
    query(other, "ka10081")  # other made its buckets before anything was learned
    cooldown = one.on_rejected("ka10081", REJECT_1700, group="domestic.chart", is_order=False)
    assert cooldown == pytest.approx(SPAN)
    assert one.stats.learned == {"api:ka10081": 1.0}
    started = time.monotonic()
    waits = [query(other, "ka10081") for _ in range(2)]
    assert waits[0] == pytest.approx(SPAN, abs=0.05)  # one's cool-down holds other too
    assert waits[1] == pytest.approx(SPAN, abs=0.05)  # and one call per second now
    assert time.monotonic() - started == pytest.approx(2 * SPAN, abs=0.1)
    assert other.stats.learned == {"api:ka10081": 1.0}
    assert query(other, "ka10001") < 0.05  # other ids keep the total's rate
    # Learning never raises an allowance another process lowered.
    one.on_rejected("ka10081", REJECT_1700.replace("유량=1", "유량=3"), group="g", is_order=False)
    assert one.stats.learned == other.stats.learned == {"api:ka10081": 1.0}


def test_a_cancelled_wait_gives_its_slot_back(redis_url: str) -> None:
    lim = bound(redis_url)

    async def main() -> list[float]:
        for _ in range(5):
            await lim.acquire_async("ka10001", group="g", is_order=False)
        waiting = asyncio.ensure_future(lim.acquire_async("ka10001", group="g", is_order=False))
        await asyncio.sleep(0.1)
        waiting.cancel()
        return [await lim.acquire_async("ka10001", group="g", is_order=False) for _ in range(5)]

    waits = asyncio.run(main())
    assert waits[0] == pytest.approx(SPAN - 0.1, abs=0.05)  # the first slot of the next window
    assert max(waits[1:]) < 0.05  # all five of it: the cancelled call holds none
    books = redis.Redis.from_url(redis_url)
    assert books.zcard(f"kiwoom:{{{KEY}}}:booked:query") == 5  # the first window trimmed


def test_the_client_takes_a_redis_limiter(redis_url: str) -> None:
    shared = RedisLimiter(redis_url)
    a = kiwoom.Kiwoom("APPKEY-shared", "secret", host="https://api.kiwoom.com", limiter=shared)
    b = kiwoom.Kiwoom("APPKEY-shared", "secret", host="https://api.kiwoom.com", limiter=shared)
    c = kiwoom.Kiwoom("APPKEY-other", "secret", host="https://api.kiwoom.com", limiter=shared)
    assert a.limiter is b.limiter is not None and c.limiter is not a.limiter
    assert isinstance(a.limiter.backend, RedisBackend)
    assert a.limiter.limits == kiwoom.ratelimit.REAL_LIMITS
    query(a.limiter)
    names = [k.decode() for k in redis.Redis.from_url(redis_url).scan_iter()]
    assert names and all(n.startswith(f"kiwoom:{{{a._shared_key}}}:") for n in names)
    assert not any("APPKEY" in n for n in names)


def test_kiwoom_redis_url_enables_both(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIWOOM_REDIS_URL", redis_url)
    a = kiwoom.Kiwoom("APPKEY-shared", "secret", host="https://api.kiwoom.com")
    b = kiwoom.AsyncKiwoom("APPKEY-shared", "secret", host="https://api.kiwoom.com")
    assert a.limiter is b.limiter is not None
    assert isinstance(a.limiter.backend, RedisBackend)
    assert isinstance(a.limiter.async_backend, AsyncRedisBackend)  # b's road: redis.asyncio
    assert type(a.token_store).__name__ == "RedisTokenStore" and a.token_store is b.token_store
    off = kiwoom.Kiwoom("APPKEY-shared", "secret", limiter=False)
    assert off.limiter is None and off.token_store is a.token_store


def test_redis_failures_are_kiwoom_errors() -> None:
    lim = RedisLimiter("redis://127.0.0.1:1/0").bind(KEY, LIMITS)
    with pytest.raises(KiwoomError, match="rate limiter's books in Redis: ConnectionError"):
        query(lim)


def test_import_kiwoom_leaves_redis_alone() -> None:
    code = (
        "import sys, kiwoom; kiwoom.Kiwoom('k', 's', token_store=kiwoom.FileTokenStore('/tmp/x'))"
        "; print('redis' in sys.modules, 'kiwoom.redis' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != "KIWOOM_REDIS_URL"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.stdout.split() == ["False", "False"], done.stderr
