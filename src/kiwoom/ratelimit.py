"""Client-side rate limits: reach Kiwoom's allowed call rate without ever exceeding it.

Kiwoom limits calls per app key, in three ways, each answered by its own error code:

- ``1700`` per API id (``[1700:허용된 요청 개수를 초과하였습니다. 유량=1, API ID=ka10081]``),
- ``1701`` in total, with separate budgets for queries and orders,
- ``1702`` per API group.

A rejection arrives as ``return_code`` 5 and/or HTTP 429 with that text in ``return_msg``.
:class:`RateLimiter` keeps one sliding-window *bucket* per limit that applies to a call
(the query or order total, the API id and the group when their allowance is known).
:meth:`RateLimiter.acquire` books the earliest moment at which every one of them has room
and sleeps until then; on waking, the call starts only if the calls that really started
before it leave room (else it waits the difference). Bookings are made in call order under
one lock, so threads and asyncio tasks of one process share the budget fairly. When a
rejection states its allowance (``유량=N``), :meth:`RateLimiter.on_rejected` makes the
bucket adopt it.

How a client uses it, once per HTTP call (``entry`` from :mod:`kiwoom.catalog`)::

    limiter = RateLimiter.shared(limiter_key(appkey, base_url), limits_for(base_url))
    limiter.acquire(entry.api_id, group=entry.group, is_order=entry.is_order)  # or await
    response = http.post(...)                                   # acquire_async(...)
    if rejected(response):  # HTTP 429 and/or return_code 5 with [1700:...]
        limiter.on_rejected(entry.api_id, return_msg, group=entry.group, is_order=entry.is_order)
        # queries: retry (acquire waits out the cool-down); orders: never retried
"""

from __future__ import annotations

import bisect
import hashlib
import math
import re
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar, Protocol
from urllib.parse import urlsplit

import msgspec

__all__ = [
    "MOCK_LIMITS",
    "REAL_LIMITS",
    "UNLIMITED",
    "Booking",
    "Bucket",
    "LimiterBackend",
    "LimiterFactory",
    "LimiterStats",
    "Limits",
    "MemoryBackend",
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
    margin: float = 0.025
    """Seconds added to every window.

    The limiter lets calls start at least ``window + margin`` apart (counting late wake-ups
    exactly), but they reach the server after client-side work and network latency that
    vary from call to call: started exactly one window apart, two calls may arrive 0.999 s
    apart and both count in one server window. The margin absorbs up to 25 ms of such
    jitter and costs 2.4% of the rate in steady state (N calls per 1.025 s). On a loaded
    2-core machine, 20 ms hiccups between start and arrival were measured on 127.0.0.1
    (bench/limiter.py). Raise it on a jittery link.
    """

    def __post_init__(self) -> None:
        # Read-only copies: a profile such as REAL_LIMITS is shared by every client.
        object.__setattr__(self, "per_api", MappingProxyType(dict(self.per_api)))
        object.__setattr__(self, "per_group", MappingProxyType(dict(self.per_group)))
        rates = [self.query_per_second, self.order_per_second]
        rates += [*self.per_api.values(), *self.per_group.values()]
        if any(not r > 0 for r in rates):
            raise ValueError(f"every rate must be positive (math.inf for none): {self}")
        if not self.window > 0 or not self.margin >= 0:
            raise ValueError(f"window must be positive and margin not negative: {self}")


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
    """A slot booked by :meth:`LimiterBackend.reserve`."""

    wait: float
    """Seconds from the booking to the slot (0.0: now)."""
    ref: object
    """What :meth:`LimiterBackend.cancel` needs to give the slot back."""


class LimiterBackend(Protocol):
    """Where the limiter keeps its books: :class:`MemoryBackend` in this process, or
    ``kiwoom.redis.RedisBackend``, shared by every process using one app key.

    Two books per bucket. *Bookings* plan the queue: each waiting call holds the earliest
    slot that was free when it asked, so calls wake in turn. *Starts* keep the truth: a call
    goes only when the calls that really went before it leave room, so a call that wakes
    late (a busy event loop, a descheduled process) delays the ones after it instead of
    crowding them. A backend keeps its books on its own clock (one clock for every process
    that shares them: Redis uses the server's) and answers in seconds to wait, so no caller's
    clock is ever compared with another's.

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

    def start(self, buckets: Sequence[Bucket], generation: int) -> float | None:
        """Record a start now and return ``0.0`` if every bucket's starts (and cool-down)
        allow it; else record nothing and return the seconds until one may."""
        ...

    def cancel(self, buckets: Sequence[Bucket], booking: Booking) -> None:
        """Give back a booking made by :meth:`reserve` (a call that will not go)."""
        ...

    def block(self, bucket: Bucket, seconds: float) -> None:
        """No call of ``bucket`` starts in the next ``seconds`` (a cool-down)."""
        ...

    def learn(self, key: str, rate: float) -> None:
        """Make ``rate`` (calls per second) the allowance of bucket ``key``, unless the one
        already learned is lower; a change raises the generation."""
        ...

    def learned(self) -> tuple[int, Mapping[str, float]]:
        """The current generation and the allowances learned so far, by bucket key."""
        ...


class LimiterFactory(Protocol):
    """Makes the limiter of an app key and host when a client is created:
    ``Kiwoom(limiter=kiwoom.redis.RedisLimiter(url))``."""

    def bind(self, key: str, limits: Limits) -> RateLimiter:
        """The limiter for ``key`` (:func:`limiter_key`), with the host's default ``limits``."""
        ...


class MemoryBackend:
    """The books in this process: per bucket, sorted times, trimmed lazily.

    ``clock`` gives monotonic seconds. Not locked itself: :class:`RateLimiter` calls it
    under its lock.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._booked: dict[str, list[float]] = {}
        self._started: dict[str, list[float]] = {}
        self._blocked: dict[str, float] = {}
        self._learned: dict[str, float] = {}
        self._generation = 0

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

    def start(self, buckets: Sequence[Bucket], generation: int) -> float | None:
        if generation != self._generation:
            return None
        earliest = now = self._clock()
        lists = []
        for b in buckets:
            started = _trimmed(self._started, b, now)
            earliest = max(earliest, self._blocked.get(b.key, now))
            if len(started) >= b.count:  # starts only ever come at the end: one check
                earliest = max(earliest, started[-b.count] + b.span)
            lists.append(started)
        if earliest - now > 1e-9:  # a nanosecond is rounding, not a reason to wait
            return earliest - now
        for started in lists:
            started.append(now)
        return 0.0

    def cancel(self, buckets: Sequence[Bucket], booking: Booking) -> None:
        booked = booking.ref
        assert isinstance(booked, float)  # the time reserve() booked
        for b in buckets:
            times = self._booked.get(b.key, [])
            i = bisect.bisect_left(times, booked)
            if i < len(times) and times[i] == booked:
                del times[i]

    def block(self, bucket: Bucket, seconds: float) -> None:
        until = self._clock() + seconds
        self._blocked[bucket.key] = max(until, self._blocked.get(bucket.key, until))

    def learn(self, key: str, rate: float) -> None:
        if rate < self._learned.get(key, math.inf):
            self._learned[key] = rate
            self._generation += 1

    def learned(self) -> tuple[int, Mapping[str, float]]:
        return self._generation, dict(self._learned)


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


async def _asyncio_sleep(delay: float) -> None:
    # asyncio is imported when an async client first waits: a sync program never pays its
    # import (~14 ms of a cold start).
    import asyncio

    await asyncio.sleep(delay)


class RateLimiter:
    """Multi-bucket sliding-window limiter shared by the threads and tasks of one process.

    ``backend`` keeps the books (default: a :class:`MemoryBackend` on ``clock``); a shared
    one (``kiwoom.redis``) extends the budget across processes and hosts. ``clock``
    (monotonic seconds, used to time waits), ``sleep`` and ``async_sleep`` (default
    ``asyncio.sleep``) are injectable for tests.
    """

    _shared: ClassVar[dict[str, RateLimiter]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        backend: LimiterBackend | None = None,
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
        self._learned: Mapping[str, float] = _EMPTY
        self._generation = -1  # not read yet: the backend's first answer asks to read it
        self._buckets: dict[tuple[str, str, bool], tuple[Bucket, ...]] = {}
        self._blocked: dict[str, float] = {}
        self._streak: dict[str, int] = {}  # cool-downs in a row, by bucket key
        self._acquired = 0
        self._waited = 0.0
        self._rejections: dict[int, int] = {}

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
    def stats(self) -> LimiterStats:
        with self._lock:
            return LimiterStats(
                acquired=self._acquired,
                waited=self._waited,
                rejections=dict(self._rejections),
                learned=dict(self._learned),
            )

    def acquire(self, api_id: str, *, group: str, is_order: bool) -> float:
        """Wait (``time.sleep``) until a call of ``api_id`` may start; return seconds waited."""
        first = self._clock()
        with self._lock:
            booking = self._reserve(api_id, group, is_order)
            if booking is None:
                return self._done(0.0)
        wake = self._clock() + booking.wait
        while True:
            while (delay := wake - self._clock()) > 0:
                self._sleep(delay)
            with self._lock:
                wait = self._start(api_id, group, is_order)
                if wait <= 0:
                    return self._done(self._clock() - first)
            wake = self._clock() + wait

    async def acquire_async(self, api_id: str, *, group: str, is_order: bool) -> float:
        """Wait (``asyncio.sleep``) until a call of ``api_id`` may start; return seconds waited.

        A task cancelled while waiting gives its booking back.
        """
        first = self._clock()
        with self._lock:
            booking = self._reserve(api_id, group, is_order)
            if booking is None:
                return self._done(0.0)
            buckets = self._buckets_of(api_id, group, is_order)
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
                with self._lock:
                    self._backend.cancel(buckets, booking)
                raise
            with self._lock:
                wait = self._start(api_id, group, is_order)
                if wait <= 0:
                    return self._done(self._clock() - first)
            wake = self._clock() + wait

    def on_rejected(self, api_id: str, message: str, *, group: str, is_order: bool) -> float:
        """Count a rate-limit rejection, learn from it, and cool its bucket down.

        ``message`` is Kiwoom's ``return_msg`` (``[1700:... 유량=1, API ID=ka10081]``). The
        code picks the bucket: ``1700`` the API id, ``1701`` the query or order total,
        ``1702`` the group (no or another code: the total). A stated allowance ``유량=N``
        (calls per second) becomes the bucket's rate unless it already was lower (the
        rejection may stem from another process using the key); a ``1700`` without one
        gives the API id a bucket of its own at the total's rate.

        No call of that bucket starts for the returned number of seconds: one window, doubled
        for each cool-down in a row (one that starts within ten windows after the previous
        one ended), at most 16 windows. A rejection during a cool-down (of a call that left
        before it) does not extend it. Calls already waiting, and a retry's :meth:`acquire`,
        wait it out by themselves.
        """
        code_match = re.search(_CODE, message)
        code = int(code_match.group(1)) if code_match else 0
        allowance_match = re.search(_ALLOWANCE, message)
        allowance = float(allowance_match.group(1)) if allowance_match else None
        total_key = "order" if is_order else "query"
        key = {1700: f"api:{api_id}", 1702: f"group:{group}"}.get(code, total_key)
        with self._lock:
            now = self._clock()
            self._rejections[code] = self._rejections.get(code, 0) + 1
            self._read_learned()  # another process may have learned it already
            current = self._rate(key, is_order)
            if allowance is not None and allowance > 0:
                self._learn(key, min(allowance, current))
            elif not self._has_bucket(key):
                self._learn(key, current)  # a bucket of its own, so the cool-down applies
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
            if bucket.count:
                self._backend.block(bucket, cooldown)
            return cooldown

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

    def _start(self, api_id: str, group: str, is_order: bool) -> float:
        # The buckets as they are now: a rejection, here or in another process sharing the
        # backend, may have added or lowered one since.
        while True:
            buckets = self._buckets_of(api_id, group, is_order)
            if not buckets and self._generation >= 0:
                return 0.0
            wait = self._backend.start(buckets, self._generation)
            if wait is not None:
                return wait
            self._read_learned()

    def _read_learned(self) -> None:
        generation, learned = self._backend.learned()
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
