"""Client-side rate limits: reach Kiwoom's allowed call rate without ever exceeding it.

Kiwoom limits calls per app key, in three ways, each answered by its own error code:

- ``1700`` per API id (``[1700:허용된 요청 개수를 초과하였습니다. 유량=1, API ID=ka10081]``),
- ``1701`` in total, with separate budgets for queries and orders,
- ``1702`` per API group.

A rejection arrives as ``return_code`` 5 and/or HTTP 429 with that text in ``return_msg``.
:class:`RateLimiter` keeps one sliding-window *bucket* per limit that applies to a call
(the query or order total, the API id and the group when their allowance is known).
:meth:`RateLimiter.begin` books the earliest moment at which every one of them has room
and sleeps until then; on waking, the call starts only if the calls that really started
before it leave room (else it waits the difference). Bookings are made in call order under
one lock, so threads and asyncio tasks of one process share the budget fairly. When a
rejection states its allowance (``유량=N``), :meth:`RateLimiter.on_rejected` makes the
bucket adopt it.

Kiwoom counts a call when it arrives, somewhere between its start and its answer. A call
begun with :meth:`RateLimiter.begin` and ended with :meth:`RateLimiter.finish` when its answer
came holds its slot from its start until one window after its answer, so calls one window
apart at the server are one window apart whatever the network and the server's queue did in
between: no jitter margin is needed, and a slot costs the window plus the call's round trip.

How a client uses it, once per HTTP call (``entry`` from :mod:`kiwoom.catalog`)::

    limiter = RateLimiter.shared(limiter_key(appkey, base_url), limits_for(base_url))
    permit = limiter.begin(entry.api_id, group=entry.group, is_order=entry.is_order)
    try:                                                # or await begin_async(...)
        response = http.post(...)
    finally:
        limiter.finish(permit)                          # or await finish_async(permit)
    if rejected(response):  # HTTP 429 and/or return_code 5 with [1700:...]
        limiter.on_rejected(entry.api_id, return_msg, group=entry.group, is_order=entry.is_order)
        # queries: retry (begin waits out the cool-down); orders: never retried
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import logging
import math
import re
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Protocol
from urllib.parse import urlsplit

import msgspec

from ._constants import LOGGER_NAME

__all__ = [
    "MOCK_LIMITS",
    "REAL_LIMITS",
    "UNLIMITED",
    "AsyncLimiterBackend",
    "Booking",
    "Bucket",
    "LimiterBackend",
    "LimiterFactory",
    "LimiterStats",
    "Limits",
    "MemoryBackend",
    "Permit",
    "RateLimiter",
    "limiter_key",
    "limits_for",
]

_EMPTY: Mapping[str, float] = MappingProxyType({})

MOCK_HOST = "mockapi.kiwoom.com"
"""Kiwoom's mock-trading host; every other host gets :data:`REAL_LIMITS`."""


@dataclass(frozen=True)
class Limits:
    """Allowed calls per second for one app key on one host.

    A rate ``r`` means at most ``floor(r * window)`` calls start in any ``window``-long
    interval (for ``r * window < 1``: one call per ``1 / r`` seconds); ``math.inf`` means no
    limit. ``per_api`` (API id -> rate) and ``per_group`` (catalogue group such as
    ``"domestic.chart"`` -> rate) add limits on top of the total; both are empty unless
    known, and the limiter learns entries from rejections.
    """

    query_per_second: float
    """Total for queries (every API whose catalogue entry is not ``is_order``)."""
    order_per_second: float
    """Total for orders; a budget separate from the queries'."""
    per_api: Mapping[str, float] = field(default_factory=lambda: _EMPTY)
    per_group: Mapping[str, float] = field(default_factory=lambda: _EMPTY)
    window: float = 1.0
    """Seconds over which the server counts calls."""
    margin: float = 0.005
    """Seconds added to every window.

    A call begun and finished (:meth:`RateLimiter.begin`) holds its slot until one window
    plus the margin after its answer, which came after its arrival: the margin only covers
    the server's clock running a little faster than the limiter's (NTP slews clocks by up to
    0.5 ms per second) and its rounding. :meth:`RateLimiter.acquire` counts a call as arriving
    when it starts: its callers need a margin as large as the lag from a call's start to its
    arrival (tens of milliseconds on a loaded machine).
    """
    in_flight: float = 60.0
    """Seconds a begun call holds its slot at most when :meth:`RateLimiter.finish` never comes
    (its process died), unless :meth:`RateLimiter.begin` is given its own ``hold``."""

    def __post_init__(self) -> None:
        # Read-only copies: a profile such as REAL_LIMITS is shared by every client.
        object.__setattr__(self, "per_api", MappingProxyType(dict(self.per_api)))
        object.__setattr__(self, "per_group", MappingProxyType(dict(self.per_group)))
        rates = [self.query_per_second, self.order_per_second]
        rates += [*self.per_api.values(), *self.per_group.values()]
        if any(not r > 0 for r in rates):
            raise ValueError(f"every rate must be positive (math.inf for none): {self}")
        if not self.window > 0 or not self.margin >= 0 or not self.in_flight >= 0:
            raise ValueError(f"window must be positive, margin and in_flight not negative: {self}")


REAL_LIMITS = Limits(query_per_second=5.0, order_per_second=5.0)
"""Kiwoom's real server (``api.kiwoom.com``): about 5 calls per second in total, as reported
publicly; single API ids may allow less (often 1/s), which the limiter learns from ``1700``."""

MOCK_LIMITS = Limits(query_per_second=2.0, order_per_second=2.0)
"""Kiwoom's mock-trading server (``mockapi.kiwoom.com``), reported stricter than the real one.

2/s is our conservative choice, not a published figure: a rejection stating ``유량=N`` lowers
it further; pass your own :class:`Limits` to go faster if your key allows it."""

UNLIMITED = Limits(query_per_second=math.inf, order_per_second=math.inf)
"""No limit at all: for local servers and benchmarks only."""


def limits_for(base_url: str) -> Limits:
    """:data:`MOCK_LIMITS` for the mock-trading host, :data:`REAL_LIMITS` for any other.

    An unknown URL may be a proxy to the real server, so it gets the real server's limits.
    """
    host = urlsplit(base_url if "//" in base_url else "//" + base_url).hostname or ""
    return MOCK_LIMITS if host.lower() == MOCK_HOST else REAL_LIMITS


def limiter_key(appkey: str, base_url: str) -> str:
    """The key of :meth:`RateLimiter.shared` for an app key on a host; the key is hashed."""
    digest = hashlib.sha256(appkey.encode()).hexdigest()[:16]
    host = urlsplit(base_url if "//" in base_url else "//" + base_url).netloc.lower()
    return f"{digest}@{host}"


# The backends' plumbing is frozen msgspec Structs: a dataclass is compiled from source when
# its module loads (~0.5 ms each), and every client loads this one. Limits and LimiterStats
# stay dataclasses: users build them, with dataclasses.replace() too.
class Bucket(msgspec.Struct, frozen=True):
    """One sliding-window limit: at most ``count`` calls start in any ``span``-long interval."""

    key: str
    """``"query"``, ``"order"``, ``"api:ka10081"`` or ``"group:domestic.chart"``."""
    count: int
    span: float
    """Seconds: the window plus the safety margin."""


class Booking(msgspec.Struct, frozen=True):
    """A slot booked by :meth:`LimiterBackend.reserve`, or a start asked of
    :meth:`LimiterBackend.start`."""

    wait: float
    """Seconds from the booking to the slot (0.0: now); from a start: 0.0 when the call
    started, else the seconds until it may (nothing recorded)."""
    ref: object
    """What :meth:`LimiterBackend.cancel` needs to give the slot back, or
    :meth:`LimiterBackend.finish` to end the call started (``None`` when nothing was)."""


class Permit(msgspec.Struct, frozen=True):
    """A started call, from :meth:`RateLimiter.begin`: give it to :meth:`RateLimiter.finish`
    when its answer came (or it failed)."""

    waited: float
    """Seconds the call waited for its slot."""
    buckets: tuple[Bucket, ...] = ()
    ref: object = None
    """The backend's name of the call (``None``: no bucket limits it)."""


class LimiterBackend(Protocol):
    """Where the limiter keeps its books: :class:`MemoryBackend` in this process, or
    ``kiwoom.redis.RedisBackend``, shared by every process using one app key.

    Two books per bucket. *Bookings* plan the queue: each waiting call holds the earliest
    slot that was free when it asked, so calls wake in turn. *Starts* keep the truth: a call
    goes only when the calls that really went before it leave room, so a call that wakes
    late (a busy event loop, a descheduled process) delays the ones after it instead of
    crowding them. A started call is *busy* (holds its slot) from its start until one span
    after its answer (:meth:`finish`), or ``hold`` plus a span after its start while no
    answer is reported; a call that is still busy may have arrived at the server less than
    a window ago. A backend keeps its books on its own clock (one clock for every process
    that shares them: Redis uses the server's) and answers in seconds to wait, so no
    caller's clock is ever compared with another's.

    The allowances learned from rejections live in the backend too, so processes sharing it
    share them. Each has a *generation*, raised by every change; :meth:`reserve` and
    :meth:`start` take the generation their buckets were made from and answer ``None``, doing
    nothing, when it is no longer the current one (read :meth:`learned`, make the buckets
    again, ask again). :class:`RateLimiter` calls a backend under its own lock; a shared
    backend makes each call atomic across processes itself (Redis: one Lua script).
    """

    def reserve(self, buckets: Sequence[Bucket], generation: int) -> Booking | None:
        """Book the earliest moment from now that fits every bucket's bookings.

        Fits: after adding it, no ``span``-long interval holds more than ``count``.
        """
        ...

    def start(self, buckets: Sequence[Bucket], generation: int, hold: float) -> Booking | None:
        """Start a call now if every bucket has fewer than ``count`` busy calls (and no
        cool-down): it is busy until ``hold`` plus the span from now, or :meth:`finish`.
        Else record nothing and answer the seconds until one may (at least: a busy call not
        finished yet counts as leaving one span from now)."""
        ...

    def finish(self, buckets: Sequence[Bucket], ref: object) -> None:
        """The answer of the call started as ``ref`` came now: it is busy one span more."""
        ...

    def cancel(self, buckets: Sequence[Bucket], booking: Booking) -> None:
        """Give back a booking made by :meth:`reserve` (a call that will not go)."""
        ...

    def block(self, bucket: Bucket, seconds: float, *, shortest: bool = False) -> float:
        """No call of ``bucket`` starts in the next ``seconds`` (a cool-down); ``shortest``:
        only until the earliest of its busy calls leaves, if that is sooner. Answers the
        cool-down in force (a longer one may be already)."""
        ...

    def learn(self, key: str, rate: float) -> None:
        """Make ``rate`` (calls per second) the allowance of bucket ``key``, unless the one
        already learned is lower; a change raises the generation."""
        ...

    def learned(self) -> tuple[int, Mapping[str, float]]:
        """The current generation and the allowances learned so far, by bucket key."""
        ...


class AsyncLimiterBackend(Protocol):
    """:class:`LimiterBackend` for asyncio: the same books and answers, awaited
    (``kiwoom.redis.AsyncRedisBackend`` on ``redis.asyncio``). The async road of a
    :class:`RateLimiter` uses it, so waiting for the books never blocks the event loop."""

    async def reserve(self, buckets: Sequence[Bucket], generation: int) -> Booking | None: ...

    async def start(
        self, buckets: Sequence[Bucket], generation: int, hold: float
    ) -> Booking | None: ...

    async def finish(self, buckets: Sequence[Bucket], ref: object) -> None: ...

    async def cancel(self, buckets: Sequence[Bucket], booking: Booking) -> None: ...

    async def block(self, bucket: Bucket, seconds: float, *, shortest: bool = False) -> float: ...

    async def learn(self, key: str, rate: float) -> None: ...

    async def learned(self) -> tuple[int, Mapping[str, float]]: ...


class _Awaited:
    """A backend that never blocks (:class:`MemoryBackend`) on the async road: called under
    the limiter's lock, as on the sync road, and awaited."""

    def __init__(self, backend: LimiterBackend, lock: threading.Lock) -> None:
        self._backend = backend
        self._lock = lock

    async def reserve(self, buckets: Sequence[Bucket], generation: int) -> Booking | None:
        with self._lock:
            return self._backend.reserve(buckets, generation)

    async def start(
        self, buckets: Sequence[Bucket], generation: int, hold: float
    ) -> Booking | None:
        with self._lock:
            return self._backend.start(buckets, generation, hold)

    async def finish(self, buckets: Sequence[Bucket], ref: object) -> None:
        with self._lock:
            self._backend.finish(buckets, ref)

    async def cancel(self, buckets: Sequence[Bucket], booking: Booking) -> None:
        with self._lock:
            self._backend.cancel(buckets, booking)

    async def block(self, bucket: Bucket, seconds: float, *, shortest: bool = False) -> float:
        with self._lock:
            return self._backend.block(bucket, seconds, shortest=shortest)

    async def learn(self, key: str, rate: float) -> None:
        with self._lock:
            self._backend.learn(key, rate)

    async def learned(self) -> tuple[int, Mapping[str, float]]:
        with self._lock:
            return self._backend.learned()


class LimiterFactory(Protocol):
    """Makes the limiter of an app key and host when a client is created:
    ``Kiwoom(limiter=kiwoom.redis.RedisLimiter(url))``."""

    def bind(self, key: str, limits: Limits) -> RateLimiter:
        """The limiter for ``key`` (:func:`limiter_key`), with the host's default ``limits``."""
        ...


class MemoryBackend:
    """The books in this process: per bucket, sorted booking times, and the busy calls' ends.

    ``clock`` gives monotonic seconds. Not locked itself: :class:`RateLimiter` calls it
    under its lock.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._booked: dict[str, list[float]] = {}
        self._busy: dict[str, dict[int, float]] = {}  # bucket -> call -> busy until
        self._blocked: dict[str, float] = {}
        self._learned: dict[str, float] = {}
        self._generation = 0
        self._calls = itertools.count(1)

    def reserve(self, buckets: Sequence[Bucket], generation: int) -> Booking | None:
        if generation != self._generation:
            return None
        t = now = self._clock()
        lists = []
        for b in buckets:
            t = max(t, self._blocked.get(b.key, t))
            lists.append((b, _trimmed(self._booked, b, now)))
        moved = True
        while moved:  # t only grows, so this ends; when nothing moves, t fits every bucket
            moved = False
            for b, booked in lists:
                fit = _earliest_fit(booked, b.count, b.span, t)
                if fit > t:
                    t, moved = fit, True
        for _, booked in lists:
            bisect.insort_right(booked, t)
        return Booking(t - now, t)

    def start(self, buckets: Sequence[Bucket], generation: int, hold: float) -> Booking | None:
        if generation != self._generation:
            return None
        earliest = now = self._clock()
        books = []
        for b in buckets:
            busy = self._busy_calls(b, now)
            earliest = max(earliest, self._blocked.get(b.key, now))
            if len(busy) >= b.count:
                # The earliest moment enough calls have left; an unfinished one leaves a
                # span after its answer, which is still to come.
                ends = sorted(busy.values())
                earliest = max(earliest, min(ends[len(busy) - b.count], now + b.span))
            books.append((b, busy))
        if earliest - now > 1e-9:  # a nanosecond is rounding, not a reason to wait
            return Booking(earliest - now, None)
        call = next(self._calls)
        for b, busy in books:
            busy[call] = now + hold + b.span
        return Booking(0.0, call)

    def finish(self, buckets: Sequence[Bucket], ref: object) -> None:
        assert isinstance(ref, int)  # the call start() recorded
        now = self._clock()
        for b in buckets:
            self._busy.setdefault(b.key, {})[ref] = now + b.span

    def cancel(self, buckets: Sequence[Bucket], booking: Booking) -> None:
        booked = booking.ref
        assert isinstance(booked, float)  # the time reserve() booked
        for b in buckets:
            times = self._booked.get(b.key, [])
            i = bisect.bisect_left(times, booked)
            if i < len(times) and times[i] == booked:
                del times[i]

    def block(self, bucket: Bucket, seconds: float, *, shortest: bool = False) -> float:
        now = self._clock()
        busy = self._busy_calls(bucket, now)
        if shortest and busy:
            seconds = min(seconds, min(*busy.values(), now + bucket.span) - now)
        until = max(now + seconds, self._blocked.get(bucket.key, now))
        self._blocked[bucket.key] = until
        return until - now

    def learn(self, key: str, rate: float) -> None:
        if rate < self._learned.get(key, math.inf):
            self._learned[key] = rate
            self._generation += 1

    def learned(self) -> tuple[int, Mapping[str, float]]:
        return self._generation, dict(self._learned)

    def _busy_calls(self, bucket: Bucket, now: float) -> dict[int, float]:
        busy = self._busy.setdefault(bucket.key, {})
        for call in [c for c, until in busy.items() if until <= now]:
            del busy[call]
        return busy


def _trimmed(books: dict[str, list[float]], bucket: Bucket, now: float) -> list[float]:
    times = books.setdefault(bucket.key, [])
    stale = bisect.bisect_right(times, now - bucket.span)  # can't share a window with now
    if stale:
        del times[:stale]
    return times


def _earliest_fit(booked: list[float], count: int, span: float, t: float) -> float:
    if len(booked) < count:
        return t
    if t >= booked[-1]:  # the common case: the new booking is the latest
        return max(t, booked[-count] + span)
    # Booking between others (a call that is not held back by a bucket that holds others
    # back). The earliest fit is t itself or the moment a booking leaves t's window.
    start = bisect.bisect_right(booked, t - span)
    for candidate in (t, *(b + span for b in booked[start:])):
        if _fits(booked, count, span, candidate):
            return candidate
    raise AssertionError("unreachable: after the last booking's window there is room")


def _fits(booked: list[float], count: int, span: float, t: float) -> bool:
    i = bisect.bisect_right(booked, t)
    near = [*booked[max(0, i - count) : i], t, *booked[i : i + count]]
    # Within a nanosecond counts as apart: t - span + span may round below t.
    return all(near[j + count] - near[j] >= span - 1e-9 for j in range(len(near) - count))


@dataclass(frozen=True)
class LimiterStats:
    """What a :class:`RateLimiter` did so far."""

    acquired: int
    """Calls let through."""
    waited: float
    """Seconds those calls waited in total."""
    rejections: Mapping[int, int]
    """Rejections reported to :meth:`RateLimiter.on_rejected`, by Kiwoom code
    (``1700``, ``1701``, ``1702``; ``0`` when the message carried no code)."""
    learned: Mapping[str, float]
    """Allowances learned from rejections, calls per second, by bucket key
    (``"api:ka10081"``, ``"group:domestic.chart"``, ``"query"``, ``"order"``)."""


# Compiled on first use (re caches them): only a rejection is read.
_CODE = r"\b(1[0-9]{3})\s*:"
_ALLOWANCE = r"유량\s*=\s*([0-9]+(?:\.[0-9]+)?)"
_MAX_BACKOFF_DOUBLINGS = 4  # a cool-down grows to 16 windows under repeated rejections


_STARTED = Booking(0.0, None)  # a call no bucket limits


def _reading(
    api_id: str, message: str, group: str, is_order: bool
) -> tuple[int, float | None, str]:
    """A rejection's code, stated allowance and bucket key."""
    code_match = re.search(_CODE, message)
    code = int(code_match.group(1)) if code_match else 0
    allowance_match = re.search(_ALLOWANCE, message)
    allowance = float(allowance_match.group(1)) if allowance_match else None
    total_key = "order" if is_order else "query"
    key = {1700: f"api:{api_id}", 1702: f"group:{group}"}.get(code, total_key)
    return code, allowance, key


def _log_unfinished(exc: Exception) -> None:
    logging.getLogger(LOGGER_NAME).warning(
        "rate limiter: a call's answer was not recorded; its slot stays busy until its hold "
        "ends: %s",
        exc,
    )


async def _asyncio_sleep(delay: float) -> None:
    # asyncio is imported when an async client first waits: a sync program never pays its
    # import (~14 ms of a cold start).
    import asyncio

    await asyncio.sleep(delay)


class RateLimiter:
    """Multi-bucket sliding-window limiter shared by the threads and tasks of one process.

    ``backend`` keeps the books (default: a :class:`MemoryBackend` on ``clock``); a shared
    one (``kiwoom.redis``) extends the budget across processes and hosts. ``async_backend``
    keeps the same books for the async road (``begin_async``...); without one, the async
    road calls ``backend`` directly, which suits a backend that never blocks (memory).
    ``clock`` (monotonic seconds, used to time waits), ``sleep`` and ``async_sleep``
    (default ``asyncio.sleep``) are injectable for tests.
    """

    _shared: ClassVar[dict[str, RateLimiter]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        backend: LimiterBackend | None = None,
        async_backend: AsyncLimiterBackend | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
        async_sleep: Callable[[float], Awaitable[object]] | None = None,
    ) -> None:
        self._limits = limits or REAL_LIMITS
        self._backend: LimiterBackend = backend if backend is not None else MemoryBackend(clock)
        self._clock = clock
        self._sleep = sleep
        self._async_sleep = async_sleep or _asyncio_sleep
        self._lock = threading.Lock()
        self._abackend: AsyncLimiterBackend = async_backend or _Awaited(self._backend, self._lock)
        self._learned: Mapping[str, float] = _EMPTY
        self._generation = -1  # not read yet: the backend's first answer asks to read it
        self._buckets: dict[tuple[str, str, bool], tuple[Bucket, ...]] = {}
        self._blocked: dict[str, float] = {}
        self._streak: dict[str, int] = {}  # cool-downs in a row, by bucket key
        self._acquired = 0
        self._waited = 0.0
        self._rejections: dict[int, int] = {}
        self._giving_back: set[Any] = set()  # tasks finishing cancelled starts

    def __repr__(self) -> str:
        lim = self._limits
        return (
            f"<RateLimiter query={lim.query_per_second}/s order={lim.order_per_second}/s "
            f"learned={dict(self._learned)}>"
        )

    @classmethod
    def shared(cls, key: str, limits: Limits) -> RateLimiter:
        """The one limiter of this process for ``key`` (see :func:`limiter_key`).

        Every client of one app key on one host must share a limiter, since Kiwoom counts
        their calls together. The first call creates it with ``limits``; later calls return
        it as is.
        """
        with cls._shared_lock:
            limiter = cls._shared.get(key)
            if limiter is None:
                limiter = cls._shared[key] = cls(limits)
            return limiter

    @property
    def limits(self) -> Limits:
        """The configured limits (learned allowances are in :attr:`stats`)."""
        return self._limits

    @property
    def backend(self) -> LimiterBackend:
        """Where the books are kept."""
        return self._backend

    @property
    def async_backend(self) -> AsyncLimiterBackend:
        """The same books, for the async road."""
        return self._abackend

    @property
    def stats(self) -> LimiterStats:
        with self._lock:
            return LimiterStats(
                acquired=self._acquired,
                waited=self._waited,
                rejections=dict(self._rejections),
                learned=dict(self._learned),
            )

    def begin(
        self, api_id: str, *, group: str, is_order: bool, hold: float | None = None
    ) -> Permit:
        """Wait (``time.sleep``) until a call of ``api_id`` may start, and start it.

        The call holds its slot until one window after :meth:`finish`; ``hold`` bounds the
        seconds it may take (default :attr:`Limits.in_flight`) should ``finish`` never come.
        """
        first = self._clock()
        hold = self._limits.in_flight if hold is None else hold
        with self._lock:
            booking = self._reserve(api_id, group, is_order)
            if booking is None:
                return Permit(self._done(0.0))
        wake = self._clock() + booking.wait
        while True:
            while (delay := wake - self._clock()) > 0:
                self._sleep(delay)
            with self._lock:
                started, buckets = self._start(api_id, group, is_order, hold)
                if started.wait <= 0:
                    return Permit(self._done(self._clock() - first), buckets, started.ref)
            wake = self._clock() + started.wait

    def finish(self, permit: Permit) -> None:
        """The answer of a call from :meth:`begin` came (or it failed): its slot frees one
        window from now.

        Never raises: the call happened, and its outcome must reach the caller. A backend
        that fails to record the answer (Redis went away) leaves the slot busy until its
        hold ends, the safe side; a warning is logged.
        """
        if permit.ref is not None:
            try:
                with self._lock:
                    self._backend.finish(permit.buckets, permit.ref)
            except Exception as exc:
                _log_unfinished(exc)

    def acquire(self, api_id: str, *, group: str, is_order: bool) -> float:
        """Wait until a call of ``api_id`` may start; return seconds waited.

        The call counts as arriving at its start (no :meth:`finish`): for callers that cannot
        report answers, with a :attr:`Limits.margin` for the lag from start to arrival.
        """
        return self.begin(api_id, group=group, is_order=is_order, hold=0.0).waited

    async def begin_async(
        self, api_id: str, *, group: str, is_order: bool, hold: float | None = None
    ) -> Permit:
        """:meth:`begin` for asyncio (``asyncio.sleep``, the async backend).

        A task cancelled while waiting gives its booking back.
        """
        first = self._clock()
        hold = self._limits.in_flight if hold is None else hold
        reserved = await self._reserve_async(api_id, group, is_order)
        if reserved is None:
            with self._lock:
                return Permit(self._done(0.0))
        booking, buckets = reserved
        wake = self._clock() + booking.wait
        # Start only after yielding once: tasks created together (gather over 200 calls) run
        # their first steps in one go, and the first calls would otherwise start before
        # that herd and reach the server tens of milliseconds after their start.
        yielded = False
        while True:
            try:
                while (delay := wake - self._clock()) > 0 or not yielded:
                    await self._async_sleep(max(delay, 0.0))
                    yielded = True
            except BaseException:
                await self._abackend.cancel(buckets, booking)
                raise
            started, now_buckets = await self._start_shielded(api_id, group, is_order, hold)
            if started.wait <= 0:
                with self._lock:
                    waited = self._done(self._clock() - first)
                return Permit(waited, now_buckets, started.ref)
            wake = self._clock() + started.wait

    async def finish_async(self, permit: Permit) -> None:
        """:meth:`finish` for asyncio (never raises either). Done even when the task is
        cancelled meanwhile."""
        if permit.ref is not None:
            import asyncio  # loaded already: an async client is running

            try:
                await asyncio.shield(self._abackend.finish(permit.buckets, permit.ref))
            except Exception as exc:
                _log_unfinished(exc)

    async def release_async(self) -> None:
        """An async client of this limiter closed: close the running event loop's idle
        connections to a shared backend (``kiwoom.redis``); nothing for the memory one. The
        limiter stays usable."""
        release = getattr(self._abackend, "release", None)
        if release is not None:
            await release()

    async def acquire_async(self, api_id: str, *, group: str, is_order: bool) -> float:
        """:meth:`acquire` for asyncio. A task cancelled while waiting gives its booking back."""
        permit = await self.begin_async(api_id, group=group, is_order=is_order, hold=0.0)
        return permit.waited

    def on_rejected(self, api_id: str, message: str, *, group: str, is_order: bool) -> float:
        """Count a rate-limit rejection, learn from it, and cool its bucket down.

        ``message`` is Kiwoom's ``return_msg`` (``[1700:... 유량=1, API ID=ka10081]``). The
        code picks the bucket: ``1700`` the API id, ``1701`` the query or order total,
        ``1702`` the group (no or another code: the total). A stated allowance ``유량=N``
        (calls per second) becomes the bucket's rate unless it already was lower (the
        rejection may stem from another process using the key); a ``1700`` without one
        gives the API id a bucket of its own at the total's rate.

        No call of that bucket starts for the returned number of seconds: until the earliest
        of its busy calls leaves the window (the server's window, too, frees a slot then), at
        most one window; doubled windows for each cool-down in a row (one that starts within
        ten windows after the previous one ended), at most 16. A rejection during a
        cool-down (of a call that left before it) does not extend it. Calls already waiting,
        and a retry's :meth:`begin`, wait it out by themselves.
        """
        code, allowance, key = _reading(api_id, message, group, is_order)
        with self._lock:
            self._rejections[code] = self._rejections.get(code, 0) + 1
            self._read_learned()  # another process may have learned it already
            lesson = self._lesson(key, allowance, is_order)
            if lesson is not None:
                self._learn(*lesson)
            plan = self._cool_down(key, is_order)
            if isinstance(plan, float):
                return plan
            bucket, seconds, now = plan
            got = self._backend.block(bucket, seconds, shortest=self._streak[key] == 0)
            self._blocked[key] = now + got
            return got

    async def on_rejected_async(
        self, api_id: str, message: str, *, group: str, is_order: bool
    ) -> float:
        """:meth:`on_rejected` for asyncio (the async backend)."""
        code, allowance, key = _reading(api_id, message, group, is_order)
        with self._lock:
            self._rejections[code] = self._rejections.get(code, 0) + 1
        await self._read_learned_async()
        with self._lock:
            lesson = self._lesson(key, allowance, is_order)
        if lesson is not None:
            await self._abackend.learn(*lesson)
            await self._read_learned_async()
        with self._lock:
            plan = self._cool_down(key, is_order)
            if isinstance(plan, float):
                return plan
            bucket, seconds, now = plan
            shortest = self._streak[key] == 0
        got = await self._abackend.block(bucket, seconds, shortest=shortest)
        with self._lock:
            self._blocked[key] = now + got
        return got

    async def _reserve_async(
        self, api_id: str, group: str, is_order: bool
    ) -> tuple[Booking, tuple[Bucket, ...]] | None:
        while True:
            with self._lock:
                buckets = self._buckets_of(api_id, group, is_order)
                generation = self._generation
            if not buckets and generation >= 0:
                return None
            booking = await self._abackend.reserve(buckets, generation)
            if booking is not None:
                return (booking, buckets) if buckets else None
            await self._read_learned_async()

    async def _start_async(
        self, api_id: str, group: str, is_order: bool, hold: float
    ) -> tuple[Booking, tuple[Bucket, ...]]:
        while True:
            with self._lock:
                buckets = self._buckets_of(api_id, group, is_order)
                generation = self._generation
            if not buckets and generation >= 0:
                return _STARTED, ()
            started = await self._abackend.start(buckets, generation, hold)
            if started is not None:
                return started, buckets
            await self._read_learned_async()

    async def _start_shielded(
        self, api_id: str, group: str, is_order: bool, hold: float
    ) -> tuple[Booking, tuple[Bucket, ...]]:
        """:meth:`_start_async`, whose start a cancelled task gives back: the backend's
        answer is awaited apart from the task (a Redis script may have started the call
        when the task is cancelled), and a start the task will not use is finished."""
        if isinstance(self._abackend, _Awaited):  # never suspends: nothing to shield
            return await self._start_async(api_id, group, is_order, hold)
        import asyncio  # loaded already: the async road is running

        start = asyncio.ensure_future(self._start_async(api_id, group, is_order, hold))
        try:
            return await asyncio.shield(start)
        except asyncio.CancelledError:
            start.add_done_callback(self._give_back)
            raise

    def _give_back(self, start: Any) -> None:
        """Finish a call started for a task cancelled meanwhile (it never went)."""
        if start.cancelled() or start.exception() is not None:
            return
        started, buckets = start.result()
        if started.wait <= 0 and started.ref is not None:
            import asyncio

            task = asyncio.ensure_future(self.finish_async(Permit(0.0, buckets, started.ref)))
            self._giving_back.add(task)
            task.add_done_callback(self._giving_back.discard)

    async def _read_learned_async(self) -> None:
        generation, learned = await self._abackend.learned()
        with self._lock:
            self._apply_learned(generation, learned)

    # Everything below runs under self._lock.

    def _buckets_of(self, api_id: str, group: str, is_order: bool) -> tuple[Bucket, ...]:
        buckets = self._buckets.get((api_id, group, is_order))
        if buckets is None:
            buckets = self._buckets[api_id, group, is_order] = self._make_buckets(
                api_id, group, is_order
            )
        return buckets

    def _reserve(self, api_id: str, group: str, is_order: bool) -> Booking | None:
        """A booking for the call, or ``None`` when no bucket limits it."""
        while True:
            buckets = self._buckets_of(api_id, group, is_order)
            if not buckets and self._generation >= 0:
                return None
            booking = self._backend.reserve(buckets, self._generation)
            if booking is not None:
                return booking if buckets else None
            self._read_learned()

    def _start(
        self, api_id: str, group: str, is_order: bool, hold: float
    ) -> tuple[Booking, tuple[Bucket, ...]]:
        # The buckets as they are now: a rejection, here or in another process sharing the
        # backend, may have added or lowered one since.
        while True:
            buckets = self._buckets_of(api_id, group, is_order)
            if not buckets and self._generation >= 0:
                return _STARTED, ()
            started = self._backend.start(buckets, self._generation, hold)
            if started is not None:
                return started, buckets
            self._read_learned()

    def _lesson(
        self, key: str, allowance: float | None, is_order: bool
    ) -> tuple[str, float] | None:
        """What a rejection of bucket ``key`` teaches: its rate, or nothing new."""
        current = self._rate(key, is_order)
        if allowance is not None and allowance > 0:
            return key, min(allowance, current)
        if not self._has_bucket(key):
            return key, current  # a bucket of its own, so the cool-down applies
        return None

    def _cool_down(self, key: str, is_order: bool) -> float | tuple[Bucket, float, float]:
        """The cool-down in force (seconds left), or a new one to ask of the backend:
        (bucket, longest seconds, now)."""
        now = self._clock()
        blocked = self._blocked.get(key, now)
        if now < blocked:
            # The call left before the bucket cooled down: a rejection of the same burst.
            return blocked - now
        bucket = self._bucket(key, self._rate(key, is_order))
        # Rejected again soon after the last cool-down ended: the next one is twice as long.
        again = key in self._blocked and now - self._blocked[key] < 10 * bucket.span
        streak = self._streak[key] = self._streak.get(key, -1) + 1 if again else 0
        cooldown = bucket.span * (1 << min(streak, _MAX_BACKOFF_DOUBLINGS))
        self._blocked[key] = now + cooldown
        if not bucket.count:
            return cooldown
        return bucket, cooldown, now

    def _read_learned(self) -> None:
        self._apply_learned(*self._backend.learned())

    def _apply_learned(self, generation: int, learned: Mapping[str, float]) -> None:
        if generation != self._generation:
            self._generation, self._learned = generation, MappingProxyType(dict(learned))
            self._buckets.clear()

    def _done(self, waited: float) -> float:
        self._acquired += 1
        self._waited += waited
        return waited

    def _total(self, is_order: bool) -> float:
        lim = self._limits
        return lim.order_per_second if is_order else lim.query_per_second

    def _rate(self, key: str, is_order: bool) -> float:
        """The rate of a bucket key: learned, else configured, else the total's."""
        learned = self._learned.get(key)
        if learned is not None:
            return learned
        kind, _, name = key.partition(":")
        configured = {"api": self._limits.per_api, "group": self._limits.per_group}.get(kind)
        return (configured or _EMPTY).get(name, self._total(is_order))

    def _has_bucket(self, key: str) -> bool:
        kind, _, name = key.partition(":")
        if key in self._learned or kind in ("query", "order"):
            return True
        return name in (self._limits.per_api if kind == "api" else self._limits.per_group)

    def _learn(self, key: str, rate: float) -> None:
        self._backend.learn(key, rate)
        self._read_learned()

    def _make_buckets(self, api_id: str, group: str, is_order: bool) -> tuple[Bucket, ...]:
        total_key = "order" if is_order else "query"
        keys = [total_key, f"api:{api_id}", f"group:{group}"]
        out = (self._bucket(k, self._rate(k, is_order)) for k in keys if self._has_bucket(k))
        return tuple(b for b in out if b.count)

    def _bucket(self, key: str, rate: float) -> Bucket:
        """The bucket of a rate; ``count`` 0 for an unlimited one."""
        lim = self._limits
        if math.isinf(rate):
            return Bucket(key, 0, 0.0)
        if rate * lim.window >= 1:
            return Bucket(key, math.floor(rate * lim.window + 1e-9), lim.window + lim.margin)
        return Bucket(key, 1, 1 / rate + lim.margin)
