"""The async road through Redis (redis.asyncio): one budget with the sync road, an event loop
that never waits for Redis, and arrival jitter that never overfills a window."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest
import redis
from _fake import APPKEY, SECRET, FakeKiwoom

import kiwoom
from kiwoom._auth import Token
from kiwoom.errors import KiwoomError
from kiwoom.ratelimit import REAL_LIMITS, RateLimiter, limiter_key
from kiwoom.redis import AsyncRedisBackend, RedisBackend, RedisLimiter, RedisTokenStore

KEY = limiter_key("APPKEY-async", "https://api.kiwoom.com")
SPAN = 1.0 + REAL_LIMITS.margin


def max_in_window(times: Sequence[float], window: float = 1.0) -> int:
    """Most stamps in any half-open interval [x, x + window)."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


def test_jittery_arrivals_from_threads_and_tasks_never_overfill_a_window(redis_url: str) -> None:
    # Three limiters on their own connections (as three processes): two with two threads
    # each, one with three asyncio tasks. A fake server stamps each call's arrival 0-150 ms
    # after its start and answers 0-50 ms later.
    arrivals: list[float] = []
    lock = threading.Lock()
    end = time.monotonic() + 4.0

    def lag(rnd: random.Random) -> tuple[float, float]:
        return rnd.uniform(0.0, 0.15), rnd.uniform(0.0, 0.05)

    def thread(lim: RateLimiter, seed: int) -> None:
        rnd = random.Random(seed)
        while time.monotonic() < end:
            permit = lim.begin("ka10001", group="g", is_order=False)
            to_arrive, to_answer = lag(rnd)
            time.sleep(to_arrive)
            with lock:
                arrivals.append(time.monotonic())
            time.sleep(to_answer)
            lim.finish(permit)

    async def tasks(lim: RateLimiter) -> None:
        async def task(seed: int) -> None:
            rnd = random.Random(seed)
            while time.monotonic() < end:
                permit = await lim.begin_async("ka10001", group="g", is_order=False)
                to_arrive, to_answer = lag(rnd)
                await asyncio.sleep(to_arrive)
                with lock:
                    arrivals.append(time.monotonic())
                await asyncio.sleep(to_answer)
                await lim.finish_async(permit)

        await asyncio.gather(*(task(100 + n) for n in range(3)))

    limiters = [RedisLimiter(redis_url).bind(KEY, REAL_LIMITS) for _ in range(3)]
    threads = [threading.Thread(target=thread, args=(limiters[n // 2], n)) for n in range(4)]
    for t in threads:
        t.start()
    asyncio.run(tasks(limiters[2]))
    for t in threads:
        t.join()
    assert max_in_window(arrivals) == 5
    # A slot is busy a window plus the call's round trip (100 ms on average, and Redis).
    assert len(arrivals) >= 5 * int(4.0 / (SPAN + 0.2))


def _simulator_run(redis_url: str, seconds: float) -> tuple[Any, list[float], list[int]]:
    from kiwoom.sim import Simulator

    arrivals: list[float] = []
    done = [0, 0]  # calls answered: sync, async
    with Simulator(seed=7, limits=True) as sim:
        check = sim.rest._limit

        def logged(appkey: str, entry: Any, arrived: float) -> None:
            check(appkey, entry, arrived)
            arrivals.append(arrived)

        sim.rest._limit = logged  # type: ignore[method-assign]
        # Two limiter objects: the two clients share their budget only through Redis.
        sync = kiwoom.Kiwoom(APPKEY, SECRET, host=sim.url, limiter=RedisLimiter(redis_url))
        sync.call("ka10001", {"stk_cd": "005930"})  # the token, and a warm connection
        end = time.monotonic() + seconds

        def thread() -> None:
            while time.monotonic() < end:
                sync.call("ka10001", {"stk_cd": "005930"})
                done[0] += 1

        async def tasks() -> None:
            async with kiwoom.AsyncKiwoom(
                APPKEY, SECRET, host=sim.url, limiter=RedisLimiter(redis_url)
            ) as client:
                assert isinstance(client.limiter, RateLimiter)
                assert isinstance(client.limiter.async_backend, AsyncRedisBackend)

                async def task() -> None:
                    while time.monotonic() < end:
                        await client.call("ka10001", {"stk_cd": "005930"})
                        done[1] += 1

                await asyncio.gather(*(task() for _ in range(3)))

        threads = [threading.Thread(target=thread) for _ in range(2)]
        for t in threads:
            t.start()
        asyncio.run(tasks())
        for t in threads:
            t.join()
        sync.close()
        return sim.stats, arrivals, done


def test_sync_and_async_clients_share_one_budget(redis_url: str) -> None:
    pytest.importorskip("kiwoom.sim", reason="the sim extra (starlette, uvicorn) is not installed")
    stats, arrivals, done = _simulator_run(redis_url, 3.0)
    assert stats.rate_limited == 0, stats.rejections
    assert max_in_window(arrivals) == 5
    assert done[0] > 0 and done[1] > 0  # both roads had calls
    assert sum(done) >= 13  # about 5 per window, the window and a round trip long


def test_the_event_loop_runs_while_redis_is_paused(redis_url: str) -> None:
    limiter = RedisLimiter(redis_url).bind(KEY, REAL_LIMITS)
    store = RedisTokenStore(redis_url)
    pauser = redis.Redis.from_url(redis_url)

    async def main() -> tuple[float, float, Token | None]:
        await limiter.acquire_async("ka10001", group="g", is_order=False)  # connected
        gaps = [0.0]

        async def ticker() -> None:
            last = time.monotonic()
            while True:
                await asyncio.sleep(0.005)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        ticking = asyncio.create_task(ticker())
        await asyncio.sleep(0.05)
        pauser.client_pause(400, all=True)  # every command of every client waits 0.4 s
        started = time.monotonic()
        _, token = await asyncio.gather(
            limiter.acquire_async("ka10001", group="g", is_order=False),
            store.load_async("0123456789abcdef@https://api.kiwoom.com"),
        )
        took = time.monotonic() - started
        await asyncio.sleep(0.02)  # a ticker held up would count its gap now
        ticking.cancel()
        return took, max(gaps), token

    took, longest_gap, token = asyncio.run(main())
    assert took >= 0.3  # Redis really held both
    assert longest_gap < 0.1  # and the loop ran the ticker meanwhile
    assert token is None


def test_async_token_store_issues_once(redis_url: str) -> None:
    fake = FakeKiwoom()
    fake.issue_latency = 0.2
    store = RedisTokenStore(redis_url)

    async def main() -> None:
        clients = [
            kiwoom.AsyncKiwoom(
                APPKEY, SECRET, limiter=False, token_store=store, transport=fake.async_transport()
            )
            for _ in range(4)
        ]
        await asyncio.gather(*(c.call("ka10001", {"stk_cd": "005930"}) for c in clients))
        for c in clients:
            await c.aclose()

    asyncio.run(main())
    asyncio.run(main())  # a second event loop: clients of its own, the same token
    assert fake.issued == 1
    stored = RedisTokenStore(redis_url).load(kiwoom.AsyncKiwoom(APPKEY, SECRET)._shared_key)
    assert stored is not None and stored.value == "tok-1"


def test_a_dead_redis_is_a_kiwoom_error_on_the_async_road() -> None:
    dead = "redis://127.0.0.1:1/0"
    limiter = RedisLimiter(dead).bind(KEY, REAL_LIMITS)
    fake = FakeKiwoom()

    async def main() -> None:
        with pytest.raises(KiwoomError, match="rate limiter's books in Redis: ConnectionError"):
            await limiter.acquire_async("ka10001", group="g", is_order=False)
        with pytest.raises(KiwoomError, match="shared token in Redis: ConnectionError"):
            await RedisTokenStore(dead).load_async("k")
        async with kiwoom.AsyncKiwoom(
            APPKEY,
            SECRET,
            limiter=RedisLimiter(dead),
            token_store=RedisTokenStore(dead),
            transport=fake.async_transport(),
        ) as client:
            with pytest.raises(KiwoomError, match="in Redis: ConnectionError"):
                await client.call("ka10001", {"stk_cd": "005930"})

    asyncio.run(main())


def test_the_async_road_keeps_the_sync_roads_books(redis_url: str) -> None:
    # One limiter: five calls on the sync road fill the window for the async road.
    limiter = RedisLimiter(redis_url).bind(KEY, REAL_LIMITS)
    assert isinstance(limiter.backend, RedisBackend)
    for _ in range(5):
        assert limiter.acquire("ka10001", group="g", is_order=False) < 0.05

    async def main() -> float:
        return await limiter.acquire_async("ka10001", group="g", is_order=False)

    assert asyncio.run(main()) == pytest.approx(SPAN, abs=0.06)


def test_a_closed_async_client_leaves_no_connection_of_its_loop_open(redis_url: str) -> None:
    # Left open, an event loop's Redis connections outlive asyncio.run (ResourceWarning).
    watcher = redis.Redis.from_url(redis_url)
    name = f"closing-{random.randrange(10**9)}"

    def mine() -> int:
        return sum(c.get("name") == name for c in watcher.client_list())

    fake = FakeKiwoom()
    # The client's connections carry a name, so the count is this test's alone.
    limiter = RedisLimiter(f"{redis_url}?client_name={name}")
    store = RedisTokenStore(f"{redis_url}?client_name={name}")

    async def main() -> tuple[int, int]:
        def client() -> kiwoom.AsyncKiwoom:
            return kiwoom.AsyncKiwoom(
                APPKEY, SECRET, limiter=limiter, token_store=store, transport=fake.async_transport()
            )

        first, second = client(), client()
        await asyncio.gather(*(c.call("ka10001", {"stk_cd": "005930"}) for c in (first, second)))
        open_before = mine()
        await first.aclose()
        # The other client of the loop and budget goes on (a new connection if it needs one).
        await second.call("ka10001", {"stk_cd": "005930"})
        await second.aclose()
        return open_before, mine()

    try:
        open_before, open_after = asyncio.run(main())
        assert open_before > 0
        assert open_after == 0
    finally:
        watcher.close()
