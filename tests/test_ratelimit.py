"""The rate limiter, on a fake clock: no test waits for real time."""

from __future__ import annotations

import asyncio
import itertools
import math
import random
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from functools import partial
from typing import Any, TypeVar

import pytest

from kiwoom.errors import KiwoomError
from kiwoom.ratelimit import (
    MOCK_LIMITS,
    REAL_LIMITS,
    UNLIMITED,
    Booking,
    Bucket,
    Limits,
    MemoryBackend,
    RateLimiter,
    limiter_key,
    limits_for,
)

T = TypeVar("T")
REJECT_1700 = "[1700:허용된 요청 개수를 초과하였습니다. 유량=1, API ID=ka10081]"
MARGIN = REAL_LIMITS.margin
SPAN = 1.0 + MARGIN  # bookings of a full bucket lie one window plus margin apart


class FakeClock:
    """Monotonic seconds that advance only when someone sleeps (or by VirtualLoop)."""

    def __init__(self) -> None:
        self.now = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


class RecordingBackend(MemoryBackend):
    """The in-memory backend, recording the bookings kept and the starts, by bucket key, at
    the times it read from its clock (a second reading after it would lag on a loaded
    machine, and show calls closer together than the books had them)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        def reading() -> float:
            self.read = clock()
            return self.read

        super().__init__(reading)
        self.read = 0.0
        self.booked: dict[str, list[float]] = {}
        self.started: dict[str, list[float]] = {}

    def reserve(self, buckets: Sequence[Bucket], generation: int) -> Booking | None:
        booking = super().reserve(buckets, generation)
        if booking is not None:
            for b in buckets:
                self.booked.setdefault(b.key, []).append(self.read + booking.wait)
        return booking

    def start(self, buckets: Sequence[Bucket], generation: int, hold: float) -> Booking | None:
        started = super().start(buckets, generation, hold)
        if started is not None and started.wait == 0.0:
            for b in buckets:
                self.started.setdefault(b.key, []).append(self.read)
        return started

    def cancel(self, buckets: Sequence[Bucket], booking: Booking) -> None:
        super().cancel(buckets, booking)
        for b in buckets:
            self.booked[b.key].remove(booking.ref)


class VirtualLoop(asyncio.SelectorEventLoop):
    """An event loop on the fake clock: when nothing is ready, time jumps to the next timer."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self._fake = clock
        select = self._selector.select  # type: ignore[attr-defined]

        def jump(timeout: float | None = None) -> list[Any]:
            events: list[Any] = select(0)
            if not events and timeout:
                clock.now += timeout
            return events

        self._selector.select = jump  # type: ignore[attr-defined]

    def time(self) -> float:
        return self._fake.now


def run_virtual(clock: FakeClock, main: Coroutine[Any, Any, T]) -> T:
    loop = VirtualLoop(clock)
    try:
        return loop.run_until_complete(main)
    finally:
        loop.close()


def limiter(limits: Limits = REAL_LIMITS) -> tuple[RateLimiter, FakeClock, RecordingBackend]:
    clock = FakeClock()
    backend = RecordingBackend(clock)
    lim = RateLimiter(limits, backend=backend, clock=clock, sleep=clock.sleep)
    return lim, clock, backend


def book(backend: MemoryBackend, buckets: Sequence[Bucket]) -> float:
    """Seconds to the slot booked for ``buckets`` (learned allowances not read: generation 0)."""
    booking = backend.reserve(buckets, 0)
    assert booking is not None
    return booking.wait


def max_in_window(times: Sequence[float], window: float = 1.0) -> int:
    """Most starts in any half-open interval [x, x + window), give or take a nanosecond."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window + 1e-9:
            j += 1
        best = max(best, i - j + 1)
    return best


def query(lim: RateLimiter, api_id: str = "ka10001", group: str = "domestic.stock_info") -> float:
    return lim.acquire(api_id, group=group, is_order=False)


def test_a_burst_goes_out_in_full_windows() -> None:
    lim, clock, backend = limiter()
    waits = [query(lim, f"ka1000{i % 3}") for i in range(12)]
    # One caller after another: the sixth waits a window, the next four find room then.
    assert waits == pytest.approx([0.0] * 5 + [SPAN] + [0.0] * 4 + [SPAN, 0.0])
    assert backend.started["query"] == pytest.approx([0.0] * 5 + [SPAN] * 5 + [2 * SPAN] * 2)
    assert clock.now == pytest.approx(2 * SPAN)


def test_a_long_queue_reaches_the_allowed_rate_and_never_exceeds_it() -> None:
    lim, _, backend = limiter()
    for i in range(200):
        query(lim, f"ka{10000 + i}")
    starts = backend.started["query"]
    assert max_in_window(starts) == 5
    rate = (len(starts) - 1) / (starts[-1] - starts[0])
    assert rate / 5 >= 0.97


def test_an_api_id_limit_and_the_total_apply_together() -> None:
    limits = Limits(query_per_second=5, order_per_second=5, per_api={"ka10081": 1})
    lim, _, backend = limiter(limits)
    for i in range(30):  # the queue interleaves the slow id with others
        query(lim, "ka10081" if i % 2 else f"ka{10000 + i}", "domestic.chart")
    chart = backend.started["api:ka10081"]
    assert max_in_window(chart) == 1
    assert [b - a for a, b in itertools.pairwise(chart)] == pytest.approx([SPAN] * 14)
    assert max_in_window(backend.started["query"]) <= 5


def test_other_ids_pass_a_waiting_slow_id() -> None:
    limits = Limits(query_per_second=5, order_per_second=5, per_api={"ka10081": 1})
    lim, _, backend = limiter(limits)
    # Many callers book at time 0, before any of them sleeps (as threads or tasks do).
    slow, fast = lim._make_buckets("ka10081", "c", False), lim._make_buckets("ka10001", "c", False)
    t_slow = [book(backend, slow) for _ in range(4)]
    t_fast = [book(backend, fast) for _ in range(5)]
    assert t_slow == pytest.approx([0.0, SPAN, 2 * SPAN, 3 * SPAN])
    assert t_fast == pytest.approx([0.0] * 4 + [SPAN])  # not queued behind ka10081
    assert max_in_window(backend.booked["query"]) == 5


def test_orders_and_queries_have_separate_budgets() -> None:
    lim, _, backend = limiter()
    for _ in range(5):
        assert query(lim) == 0.0
        assert lim.acquire("kt10000", group="domestic.order", is_order=True) == 0.0
    assert backend.started["order"] == [0.0] * 5
    assert backend.started["query"] == [0.0] * 5
    assert lim.acquire("kt10000", group="domestic.order", is_order=True) == pytest.approx(SPAN)


def test_a_group_limit_applies_to_every_id_of_the_group() -> None:
    limits = Limits(query_per_second=5, order_per_second=5, per_group={"domestic.chart": 2})
    lim, _, backend = limiter(limits)
    for i in range(10):
        query(lim, f"ka1008{i % 4}", "domestic.chart")
    assert max_in_window(backend.started["group:domestic.chart"]) == 2
    assert len(backend.started["group:domestic.chart"]) == 10


def test_1700_teaches_the_allowance_of_one_api_id() -> None:
    lim, clock, backend = limiter()
    clock.now = 10.0
    cooldown = lim.on_rejected("ka10081", REJECT_1700, group="domestic.chart", is_order=False)
    assert cooldown == pytest.approx(SPAN)
    assert lim.stats.learned == {"api:ka10081": 1.0}
    assert lim.stats.rejections == {1700: 1}
    waits = [query(lim, "ka10081", "domestic.chart") for _ in range(3)]
    assert waits == pytest.approx([SPAN] * 3)  # the cool-down, then one per window
    assert backend.started["api:ka10081"] == pytest.approx([10 + SPAN * k for k in (1, 2, 3)])
    assert query(lim, "ka10001") == 0.0  # other ids keep the total's pace


def test_1701_and_1702_teach_the_total_and_the_group() -> None:
    lim, _, _ = limiter()
    lim.on_rejected("ka10001", "[1701:총 요청 초과. 유량=3]", group="g", is_order=False)
    lim.on_rejected(
        "ka10080", "[1702:그룹 요청 초과 유량=2]", group="domestic.chart", is_order=False
    )
    lim.on_rejected("kt10000", "[1701:유량=4]", group="domestic.order", is_order=True)
    assert lim.stats.learned == {"query": 3.0, "group:domestic.chart": 2.0, "order": 4.0}
    assert lim.stats.rejections == {1701: 2, 1702: 1}
    assert lim._make_buckets("ka10081", "domestic.chart", False) == (
        Bucket("query", 3, SPAN),
        Bucket("group:domestic.chart", 2, SPAN),
    )


def test_a_stated_allowance_never_raises_a_rate() -> None:
    lim, _, _ = limiter(MOCK_LIMITS)
    lim.on_rejected("ka10001", "[1701:유량=5]", group="g", is_order=False)
    assert lim.stats.learned == {"query": 2.0}


def test_a_rejection_without_allowance_cools_its_bucket_down() -> None:
    lim, _, backend = limiter()
    lim.on_rejected(
        "ka10081", "[1700:허용된 요청 개수를 초과하였습니다.]", group="c", is_order=False
    )
    assert lim.stats.learned == {"api:ka10081": 5.0}  # a bucket of its own, at the total's rate
    assert query(lim, "ka10081", "c") == pytest.approx(SPAN)
    lim.on_rejected("ka10001", "429 Too Many Requests", group="c", is_order=False)
    assert lim.stats.rejections == {1700: 1, 0: 1}
    assert query(lim, "ka10002") == pytest.approx(SPAN)  # unknown reason: the total cools
    assert "query" not in lim.stats.learned
    assert backend.started["query"][-1] == pytest.approx(2 * SPAN)


def test_repeated_rejections_double_the_cool_down_up_to_16_windows() -> None:
    lim, clock, _ = limiter()
    cooldowns = []
    for _ in range(7):
        cooldowns.append(lim.on_rejected("ka10081", REJECT_1700, group="c", is_order=False))
        clock.now += 0.1  # a call of the same burst is rejected too: counted, not extended
        assert lim.on_rejected("ka10081", REJECT_1700, group="c", is_order=False) == (
            pytest.approx(cooldowns[-1] - 0.1)
        )
        clock.now += cooldowns[-1]  # the next call after the cool-down is rejected again
    assert cooldowns == pytest.approx([SPAN * k for k in (1, 2, 4, 8, 16, 16, 16)])
    assert lim.stats.rejections == {1700: 14}
    clock.now += 200  # long quiet: back to one window
    assert lim.on_rejected("ka10081", REJECT_1700, group="c", is_order=False) == pytest.approx(SPAN)


def test_waiting_calls_rebook_after_a_rejection() -> None:
    lim, clock, backend = limiter()

    async def main() -> list[float]:
        reject = partial(lim.on_rejected, "ka10081", REJECT_1700, group="c", is_order=False)
        asyncio.get_running_loop().call_later(0.5, reject)
        calls = (lim.acquire_async("ka10081", group="c", is_order=False) for _ in range(8))
        return await asyncio.gather(*calls)

    waits = run_virtual(clock, main())
    # Woken at SPAN, three calls find ka10081 cooled down until 0.5 + SPAN and limited to 1/s.
    assert sorted(waits) == pytest.approx([0.0] * 5 + [0.5 + SPAN * k for k in (1, 2, 3)])
    assert backend.started["api:ka10081"] == pytest.approx([0.5 + SPAN * k for k in (1, 2, 3)])
    assert backend.started["query"] == pytest.approx(
        [0.0] * 5 + [0.5 + SPAN * k for k in (1, 2, 3)]
    )
    assert lim.stats.acquired == 8


def test_a_late_wake_up_delays_the_calls_after_it() -> None:
    lim, clock, backend = limiter()

    async def oversleeping(seconds: float) -> None:
        # The event loop was busy: the calls booked at SPAN wake 50 ms late.
        late = 0.05 if clock.now + seconds == pytest.approx(SPAN) else 0.0
        await asyncio.sleep(seconds + late)

    lim._async_sleep = oversleeping

    async def main() -> list[float]:
        calls = (lim.acquire_async("ka10001", group="g", is_order=False) for _ in range(15))
        return await asyncio.gather(*calls)

    waits = run_virtual(clock, main())
    # Booked at 0, SPAN and 2 SPAN; the second five started at SPAN + 0.05, so the third
    # wait till 2 SPAN + 0.05.
    assert waits == pytest.approx([0.0] * 5 + [SPAN + 0.05] * 5 + [2 * SPAN + 0.05] * 5)
    assert sorted(backend.started["query"]) == pytest.approx(waits)


def test_a_cancelled_wait_gives_its_slot_back() -> None:
    lim, clock, backend = limiter()

    async def main() -> float:
        for _ in range(5):
            await lim.acquire_async("ka10001", group="g", is_order=False)
        waiting = asyncio.create_task(lim.acquire_async("ka10001", group="g", is_order=False))
        await asyncio.sleep(0.1)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        return await lim.acquire_async("ka10001", group="g", is_order=False)

    assert run_virtual(clock, main()) == pytest.approx(SPAN - 0.1)
    assert backend.started["query"] == pytest.approx([0.0] * 5 + [SPAN])


class SuspendingStarts:
    """An async backend over a memory one whose starts are booked at once and answered when
    ``gate`` opens, as a Redis script's answer travels back: a task may be cancelled after
    its start was booked and before it knows."""

    def __init__(self, inner: MemoryBackend) -> None:
        self.inner = inner
        self.gate = asyncio.Event()
        self.asked = asyncio.Event()
        self.finished: list[object] = []

    async def reserve(self, buckets: Sequence[Bucket], generation: int) -> Booking | None:
        return self.inner.reserve(buckets, generation)

    async def start(self, buckets: Sequence[Bucket], generation: int, hold: float) -> Any:
        started = self.inner.start(buckets, generation, hold)
        self.asked.set()
        await self.gate.wait()
        return started

    async def finish(self, buckets: Sequence[Bucket], ref: object) -> None:
        self.finished.append(ref)
        self.inner.finish(buckets, ref)

    async def cancel(self, buckets: Sequence[Bucket], booking: Booking) -> None:
        self.inner.cancel(buckets, booking)

    async def block(self, bucket: Bucket, seconds: float, *, shortest: bool = False) -> float:
        return self.inner.block(bucket, seconds, shortest=shortest)

    async def learn(self, key: str, rate: float) -> None:
        self.inner.learn(key, rate)

    async def learned(self) -> Any:
        return self.inner.learned()


def test_a_task_cancelled_while_its_start_is_booked_gives_the_slot_back() -> None:
    inner = MemoryBackend()
    backend = SuspendingStarts(inner)
    lim = RateLimiter(Limits(query_per_second=1, order_per_second=1), async_backend=backend)

    async def main() -> float:
        begin = asyncio.create_task(
            lim.begin_async("ka10001", group="g", is_order=False, hold=60.0)
        )
        await backend.asked.wait()  # its start is on the way to the books
        begin.cancel()
        with pytest.raises(asyncio.CancelledError):
            await begin
        backend.gate.set()  # its answer comes: it was booked
        t0 = time.monotonic()
        # Its slot frees one window after the give-back, not after its 60 s hold.
        permit = await asyncio.wait_for(
            lim.begin_async("ka10001", group="g", is_order=False, hold=60.0), 5
        )
        await lim.finish_async(permit)
        return time.monotonic() - t0

    waited = asyncio.run(main())
    assert len(backend.finished) == 2  # the cancelled start's and the second call's
    assert 0.9 < waited < 2.0


def test_threads_and_tasks_share_one_budget() -> None:
    # Real time on a 20 ms window: what is checked is when calls started, not how long they
    # waited.
    limits = Limits(
        query_per_second=250,
        order_per_second=250,
        per_api={"ka10081": 50},
        window=0.02,
        margin=0.0,
    )
    backend = RecordingBackend()
    lim = RateLimiter(limits, backend=backend)
    ids = ["ka10081", "ka10001", "ka10002", "ka10003"]

    def worker(n: int) -> None:
        for i in range(10):
            lim.acquire(ids[(n + i) % 4], group="g", is_order=False)

    async def tasks() -> None:
        await asyncio.gather(
            *(lim.acquire_async(ids[i % 4], group="g", is_order=False) for i in range(20))
        )

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    asyncio.run(tasks())
    for t in threads:
        t.join()
    assert lim.stats.acquired == 60
    assert len(backend.started["query"]) == 60
    assert max_in_window(backend.started["query"], 0.02) == 5
    assert max_in_window(backend.started["api:ka10081"], 0.02) == 1


def test_random_mixes_never_overfill_a_window() -> None:
    rnd = random.Random(3)
    limits = Limits(
        query_per_second=5,
        order_per_second=3,
        per_api={"ka1": 1, "ka2": 2, "kt1": 1},
        per_group={"g1": 3},
        window=1.0,
        margin=0.0,
    )
    lim, clock, backend = limiter(limits)
    pending: list[tuple[float, tuple[Bucket, ...]]] = []
    started = 0
    for step in range(10_000):
        if step < 600:
            api = rnd.choice(["ka1", "ka2", "ka3", "ka4", "kt1", "kt2"])
            buckets = lim._make_buckets(api, rnd.choice(["g1", "g2"]), api.startswith("kt"))
            pending.append((clock.now + book(backend, buckets), buckets))
        elif not pending:
            break
        clock.now += rnd.expovariate(8)
        # Some of the calls due wake up, in any order and a little late, and try to start.
        still = []
        for due, buckets in rnd.sample(pending, len(pending)):
            if due <= clock.now and rnd.random() < 0.7:
                start = backend.start(buckets, 0, 0.0)
                assert start is not None
                due = clock.now + start.wait
                if start.wait == 0.0:
                    started += 1
                    continue
            still.append((due, buckets))
        pending = still
    assert started == 600
    for books in (backend.booked, backend.started):
        for key, times in books.items():
            count = lim._bucket(key, lim._rate(key, key == "order")).count
            assert max_in_window(times) <= count, key


def test_stats_count_calls_and_waits() -> None:
    lim, _, _ = limiter()
    for _ in range(7):
        query(lim)
    stats = lim.stats
    assert stats.acquired == 7
    assert stats.waited == pytest.approx(SPAN)  # the sixth; the seventh found room then
    assert stats.rejections == {} and stats.learned == {}


def test_unlimited_never_waits() -> None:
    lim, clock, _ = limiter(UNLIMITED)
    assert all(query(lim) == 0.0 for _ in range(1000))
    lim.on_rejected("ka10001", "[1701:유량=5]", group="g", is_order=False)
    assert lim.stats.learned == {"query": 5.0}
    assert clock.now == 0.0


def test_a_slow_rate_below_one_per_window() -> None:
    lim, _, _ = limiter(Limits(query_per_second=0.5, order_per_second=1))
    assert [query(lim) for _ in range(3)] == pytest.approx([0.0, 2 + MARGIN, 2 + MARGIN])


def test_limits_per_host() -> None:
    assert limits_for("https://mockapi.kiwoom.com") is MOCK_LIMITS
    assert limits_for("https://MOCKAPI.kiwoom.com:443/") is MOCK_LIMITS
    assert limits_for("https://api.kiwoom.com") is REAL_LIMITS
    assert limits_for("http://127.0.0.1:8080") is REAL_LIMITS  # maybe a proxy to the real one
    assert limits_for("mockapi.kiwoom.com") is MOCK_LIMITS
    assert MOCK_LIMITS.query_per_second < REAL_LIMITS.query_per_second
    with pytest.raises(ValueError, match="positive"):
        Limits(query_per_second=0, order_per_second=1)
    with pytest.raises(ValueError, match="positive"):
        Limits(query_per_second=1, order_per_second=1, per_api={"ka10081": -1})
    assert math.isinf(UNLIMITED.query_per_second)


def test_one_shared_limiter_per_key() -> None:
    key = limiter_key("my-app-key", "https://api.kiwoom.com")
    assert "my-app-key" not in key and key.endswith("@api.kiwoom.com")
    assert key != limiter_key("my-app-key", "https://mockapi.kiwoom.com")
    first = RateLimiter.shared(key, REAL_LIMITS)
    assert RateLimiter.shared(key, MOCK_LIMITS) is first
    assert first.limits is REAL_LIMITS
    other = RateLimiter.shared(limiter_key("other", "https://api.kiwoom.com"), REAL_LIMITS)
    assert other is not first


def _jittery_calls(lim: RateLimiter, clock: FakeClock, reported: bool) -> list[float]:
    """Eight tasks calling for 30 s through a fake server that stamps each call's arrival
    0-300 ms after its start (a loaded machine, a slow link) and answers 0-100 ms later;
    ``reported``: the calls are begun and finished, else only acquired. The arrivals."""
    rnd = random.Random(5)
    arrivals: list[float] = []

    async def worker() -> None:
        while clock.now < 30:
            if reported:
                permit = await lim.begin_async("ka10001", group="g", is_order=False)
            else:
                await lim.acquire_async("ka10001", group="g", is_order=False)
            await asyncio.sleep(rnd.uniform(0.0, 0.3))
            arrivals.append(clock.now)
            await asyncio.sleep(rnd.uniform(0.0, 0.1))
            if reported:
                await lim.finish_async(permit)

    async def main() -> None:
        await asyncio.gather(*(worker() for _ in range(8)))

    run_virtual(clock, main())
    return arrivals


def test_a_finished_call_holds_its_slot_a_window_past_its_answer() -> None:
    lim, clock, _ = limiter()
    arrivals = _jittery_calls(lim, clock, reported=True)
    assert max_in_window(arrivals) == 5
    # Each slot is busy a window plus the call's round trip (0.2 s on average here).
    assert len(arrivals) / clock.now == pytest.approx(5 / (SPAN + 0.2), rel=0.05)
    # The same calls counted at their start: arrivals bunch up past the allowance.
    lim, clock, _ = limiter()
    assert max_in_window(_jittery_calls(lim, clock, reported=False)) > 5


def test_an_unfinished_call_holds_its_slot_until_its_hold_ends() -> None:
    lim, clock, _ = limiter()
    permits = [lim.begin("ka10001", group="g", is_order=False, hold=3.0) for _ in range(5)]
    clock.now = 0.5
    lim.finish(permits[0])
    # The sixth waits for the first's answer plus a window.
    assert lim.begin("ka10001", group="g", is_order=False).waited == pytest.approx(SPAN)
    # The seventh waits for the others' answers, which never come (their process died):
    # until their hold ends, a window after it.
    assert query(lim) == pytest.approx(3.0 + SPAN - (0.5 + SPAN))


def test_a_first_rejection_cools_down_until_the_earliest_busy_call_leaves() -> None:
    lim, clock, _ = limiter()
    for answered in (0.1, 0.2, 0.3, 0.4, 0.5):
        permit = lim.begin("ka10001", group="g", is_order=False)
        clock.now = answered
        lim.finish(permit)
    # A rejection at 0.5 (another process used the key): the total's books free a slot
    # when the call answered at 0.1 leaves the window, not one window from now.
    cooldown = lim.on_rejected("ka10001", "[1701:유량=5]", group="g", is_order=False)
    assert cooldown == pytest.approx(0.1 + SPAN - 0.5)
    assert query(lim) == pytest.approx(cooldown)
    clock.now += 0.5  # rejected again soon after: a whole window, doubled
    assert lim.on_rejected("ka10001", "[1701:유량=5]", group="g", is_order=False) == pytest.approx(
        2 * SPAN
    )


def test_finish_never_raises_and_a_lost_answer_keeps_the_slot_busy(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Failing(RecordingBackend):
        def finish(self, buckets: Sequence[Bucket], ref: object) -> None:
            raise KiwoomError("the rate limiter's books in Redis: ConnectionError")

    clock = FakeClock()
    lim = RateLimiter(REAL_LIMITS, backend=Failing(clock), clock=clock, sleep=clock.sleep)
    permits = [lim.begin("ka10001", group="g", is_order=False, hold=2.0) for _ in range(5)]
    clock.now = 0.1
    for permit in permits:
        lim.finish(permit)  # the calls' outcomes still reach their callers
    assert "slot stays busy until its hold ends" in caplog.text
    assert query(lim) == pytest.approx(2.0 + SPAN - 0.1)
