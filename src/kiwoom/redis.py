"""Rate limits and the access token shared through Redis by every process using one app key.

Kiwoom counts calls and issues tokens per app key, not per process: two bots and a data
downloader on one key must share one budget and one token. Install ``kiwoom[redis]`` and::

    from kiwoom.redis import RedisLimiter, RedisTokenStore

    url = "redis://localhost:6379/0"
    client = kiwoom.Kiwoom(limiter=RedisLimiter(url), token_store=RedisTokenStore(url))

or set ``KIWOOM_REDIS_URL``, which gives every client both. The limiter's books (the same
buckets as in one process: query and order totals, per API id, per group) live in Redis,
and each booking is one Lua script, timed by the Redis server's clock (``TIME``), so
processes on hosts whose clocks differ still share one timeline. Allowances learned from
rejections (``유량=N``) are shared. Redis key names carry a hash of the app key, never the
key itself, in a hash tag (``kiwoom:{<hash>@<host>}:...``), so one Redis Cluster slot holds
one key's books.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any, cast

import msgspec
import redis

from ._auth import Token
from .errors import KiwoomError
from .ratelimit import Booking, Bucket, Limits, RateLimiter

__all__ = ["RedisBackend", "RedisLimiter", "RedisTokenStore"]


# Times are whole microseconds of the Redis server's clock: exact in Lua's doubles, where
# seconds since 1970 would be rounded to 0.24 us and a slot one span after another would
# not fit beside it. "%.17g" writes them whole (Lua's tostring keeps 14 digits).
_LUA_COMMON = """
local function num(x) return string.format('%.17g', x) end
local function server_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function stale()
  return tonumber(redis.call('GET', KEYS[1]) or '0') ~= tonumber(ARGV[1])
end
local function keep(key, us)
  redis.call('PEXPIRE', key, math.ceil(us / 1000) + 1000)
end
"""

# KEYS: generation, sequence, then (booked, started, blocked) per bucket.
# ARGV: generation, then (count, span in us) per bucket. Ported from MemoryBackend.reserve.
_RESERVE = (
    _LUA_COMMON
    + """
if stale() then return false end
local now = server_now()
local function upto(times, x)  -- how many times are <= x (bisect_right)
  local lo, hi = 1, #times + 1
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if times[mid] <= x then lo = mid + 1 else hi = mid end
  end
  return lo - 1
end
local function fits(times, count, span, t)
  local i = upto(times, t)
  local near = {}
  for j = math.max(1, i - count + 1), i do near[#near + 1] = times[j] end
  near[#near + 1] = t
  for j = i + 1, math.min(#times, i + count) do near[#near + 1] = times[j] end
  for j = 1, #near - count do
    if near[j + count] - near[j] < span then return false end
  end
  return true
end
local function earliest_fit(times, count, span, t)
  local n = #times
  if n < count then return t end
  if t >= times[n] then return math.max(t, times[n - count + 1] + span) end
  if fits(times, count, span, t) then return t end
  for j = upto(times, t - span) + 1, n do
    local candidate = times[j] + span
    if candidate > t and fits(times, count, span, candidate) then return candidate end
  end
  return times[n] + span
end
local books = {}
local at = now
for i = 0, (#KEYS - 2) / 3 - 1 do
  local key = KEYS[3 + 3 * i]
  local count, span = tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', num(now - span))
  at = math.max(at, tonumber(redis.call('GET', KEYS[5 + 3 * i]) or '0'))
  local raw = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
  local times = {}
  for j = 2, #raw, 2 do times[#times + 1] = tonumber(raw[j]) end
  books[#books + 1] = {key, count, span, times}
end
local moved = true
while moved do
  moved = false
  for _, b in ipairs(books) do
    local fit = earliest_fit(b[4], b[2], b[3], at)
    if fit > at then at, moved = fit, true end
  end
end
local id = tostring(redis.call('INCR', KEYS[2]))
for _, b in ipairs(books) do
  redis.call('ZADD', b[1], num(at), id)
  keep(b[1], at - now + b[3])
end
return {num(at - now), id}
"""
)

# KEYS and ARGV as for _RESERVE. Ported from MemoryBackend.start.
_START = (
    _LUA_COMMON
    + """
if stale() then return false end
local now = server_now()
local earliest = now
for i = 0, (#KEYS - 2) / 3 - 1 do
  local key = KEYS[4 + 3 * i]
  local count, span = tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', num(now - span))
  earliest = math.max(earliest, tonumber(redis.call('GET', KEYS[5 + 3 * i]) or '0'))
  if redis.call('ZCARD', key) >= count then
    local nth = redis.call('ZRANGE', key, -count, -count, 'WITHSCORES')
    earliest = math.max(earliest, tonumber(nth[2]) + span)
  end
end
if earliest > now then return num(earliest - now) end
local id = tostring(redis.call('INCR', KEYS[2]))
for i = 0, (#KEYS - 2) / 3 - 1 do
  redis.call('ZADD', KEYS[4 + 3 * i], num(now), id)
  keep(KEYS[4 + 3 * i], tonumber(ARGV[3 + 2 * i]))
end
return '0'
"""
)

# KEYS: blocked. ARGV: microseconds.
_BLOCK = (
    _LUA_COMMON
    + """
local us = tonumber(ARGV[1])
local untl = server_now() + us
if untl > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], num(untl))
  keep(KEYS[1], us)
end
"""
)

# KEYS: generation, learned (hash). ARGV: bucket key, rate.
_LEARN = """
local old = redis.call('HGET', KEYS[2], ARGV[1])
if not old or tonumber(ARGV[2]) < tonumber(old) then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  redis.call('INCR', KEYS[1])
end
"""


@contextmanager
def _errors(what: str) -> Iterator[None]:
    """Redis failures leave the SDK as :class:`KiwoomError` (the URL may hold a password)."""
    try:
        yield
    except redis.RedisError as exc:
        raise KiwoomError(f"{what} in Redis: {type(exc).__name__}: {exc}") from None


def connect(url: str | redis.Redis) -> redis.Redis:
    """A client for ``url`` (``redis://host:port/db``), or the client given."""
    if isinstance(url, redis.Redis):
        return url
    return redis.Redis.from_url(url)


def _prefix(prefix: str, key: str) -> str:
    # The hash tag keeps one app key's keys in one Redis Cluster slot, as scripts require.
    return f"{prefix}:{{{key}}}"


class RedisBackend:
    """The books of :class:`~kiwoom.ratelimit.RateLimiter` in Redis, for one app key and host.

    ``key`` is :func:`kiwoom.ratelimit.limiter_key` (a hash of the app key and the host).
    Every method is one atomic step on the server (a Lua script or a transaction); times are
    the server's.
    """

    def __init__(self, client: redis.Redis, key: str, *, prefix: str = "kiwoom") -> None:
        self._redis = client
        self._prefix = _prefix(prefix, key)
        self._generation_key = f"{self._prefix}:generation"
        self._sequence_key = f"{self._prefix}:sequence"
        self._learned_key = f"{self._prefix}:learned"
        self._reserve = client.register_script(_RESERVE)
        self._start = client.register_script(_START)
        self._block = client.register_script(_BLOCK)
        self._learn = client.register_script(_LEARN)

    def __repr__(self) -> str:
        return f"<RedisBackend {self._prefix}>"

    def _books(self, buckets: Sequence[Bucket], generation: int) -> tuple[list[str], list[Any]]:
        keys = [self._generation_key, self._sequence_key]
        args: list[Any] = [generation]
        for b in buckets:
            keys += [self._key("booked", b), self._key("started", b), self._key("blocked", b)]
            args += [b.count, _us(b.span)]
        return keys, args

    def _key(self, book: str, bucket: Bucket) -> str:
        return f"{self._prefix}:{book}:{bucket.key}"

    def reserve(self, buckets: Sequence[Bucket], generation: int) -> Booking | None:
        keys, args = self._books(buckets, generation)
        with _errors("the rate limiter's books"):
            answer = self._reserve(keys, args)
        if answer is None:
            return None
        wait, ref = answer
        return Booking(int(wait) / 1e6, ref)

    def start(self, buckets: Sequence[Bucket], generation: int) -> float | None:
        keys, args = self._books(buckets, generation)
        with _errors("the rate limiter's books"):
            answer = self._start(keys, args)
        return None if answer is None else int(answer) / 1e6

    def cancel(self, buckets: Sequence[Bucket], booking: Booking) -> None:
        with _errors("the rate limiter's books"), self._redis.pipeline(False) as pipe:
            for b in buckets:
                pipe.zrem(self._key("booked", b), cast(Any, booking.ref))
            pipe.execute()

    def block(self, bucket: Bucket, seconds: float) -> None:
        with _errors("the rate limiter's books"):
            self._block([self._key("blocked", bucket)], [_us(seconds)])

    def learn(self, key: str, rate: float) -> None:
        with _errors("the rate limiter's books"):
            self._learn([self._generation_key, self._learned_key], [key, repr(rate)])

    def learned(self) -> tuple[int, Mapping[str, float]]:
        with _errors("the rate limiter's books"), self._redis.pipeline() as pipe:
            pipe.get(self._generation_key)
            pipe.hgetall(self._learned_key)
            generation, learned = pipe.execute()
        rates = {_text(k): float(v) for k, v in learned.items()}
        return int(generation or 0), rates


def _us(seconds: float) -> int:
    return round(seconds * 1_000_000)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisLimiter:
    """Rate limits kept in Redis: ``kiwoom.Kiwoom(limiter=RedisLimiter(url))``.

    Every client given a ``RedisLimiter`` for the same Redis shares the budget of its app
    key and host with every other process doing so, on any host. ``url`` is a
    ``redis://`` URL or a ``redis.Redis`` client; ``limits`` replaces the host's default
    limits (:func:`kiwoom.ratelimit.limits_for`); ``prefix`` starts every Redis key name.
    """

    def __init__(
        self,
        url: str | redis.Redis,
        *,
        limits: Limits | None = None,
        prefix: str = "kiwoom",
    ) -> None:
        self._redis = connect(url)
        self._limits = limits
        self._prefix = prefix
        self._bound: dict[str, RateLimiter] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<RedisLimiter prefix={self._prefix!r}>"

    def bind(self, key: str, limits: Limits) -> RateLimiter:
        """The limiter of one app key and host (``key`` from :func:`~kiwoom.ratelimit.
        limiter_key`); ``limits`` apply unless this object was given its own."""
        with self._lock:
            limiter = self._bound.get(key)
            if limiter is None:
                backend = RedisBackend(self._redis, key, prefix=self._prefix)
                limiter = RateLimiter(self._limits or limits, backend=backend)
                self._bound[key] = limiter
            return limiter


class _TokenRecord(msgspec.Struct):
    value: str
    expires_at: float


_RECORD = msgspec.json.Decoder(_TokenRecord)


class _RedisLock:
    """redis-py's lock (SET NX PX, released only by its holder's token), errors as ours."""

    def __init__(self, lock: Any) -> None:
        self._lock = lock

    def acquire(self) -> None:
        with _errors("the shared token's lock"):
            self._lock.acquire(blocking=True)

    def release(self) -> None:
        # Held past its timeout, the lock may be another process's now, and stays so.
        with _errors("the shared token's lock"), suppress(redis.exceptions.LockError):
            self._lock.release()


class RedisTokenStore:
    """One access token for every process of an app key and host, kept in Redis.

    ``kiwoom.Kiwoom(token_store=RedisTokenStore(url))``: the first process to need a token
    issues it under a lock (the others wait and read it), stores it with its expiry, and
    the token is issued again once, by one process, when it nears expiry or is rejected
    (8005). ``lock_timeout`` bounds how long a crashed issuer can hold the lock (seconds).
    """

    def __init__(
        self, url: str | redis.Redis, *, prefix: str = "kiwoom", lock_timeout: float = 60.0
    ) -> None:
        self._redis = connect(url)
        self._prefix = prefix
        self._lock_timeout = lock_timeout

    def __repr__(self) -> str:
        return f"<RedisTokenStore prefix={self._prefix!r}>"

    def _key(self, key: str) -> str:
        return f"{_prefix(self._prefix, key)}:token"

    def load(self, key: str) -> Token | None:
        with _errors("the shared token"):
            raw = self._redis.get(self._key(key))
        if raw is None:
            return None
        try:
            record = _RECORD.decode(cast(bytes, raw))
        except msgspec.MsgspecError:
            return None  # unreadable: issue a new one over it
        return Token(record.value, record.expires_at)

    def save(self, key: str, token: Token) -> None:
        record = msgspec.json.encode(_TokenRecord(token.value, token.expires_at))
        ttl_ms = max(1, math.ceil((token.expires_at - time.time()) * 1000))
        with _errors("the shared token"):
            self._redis.set(self._key(key), record, px=ttl_ms)

    def lock(self, key: str) -> _RedisLock:
        name = f"{self._key(key)}:lock"
        # Not thread-local: an async client takes and releases it in worker threads.
        lock = self._redis.lock(name, timeout=self._lock_timeout, sleep=0.05, thread_local=False)
        return _RedisLock(lock)


_FROM_ENV: dict[str, tuple[RedisLimiter, RedisTokenStore]] = {}
_FROM_ENV_LOCK = threading.Lock()


def from_env(url: str) -> tuple[RedisLimiter, RedisTokenStore]:
    """The limiter and token store of ``KIWOOM_REDIS_URL``, one pair per process and URL."""
    with _FROM_ENV_LOCK:
        pair = _FROM_ENV.get(url)
        if pair is None:
            client = connect(url)
            pair = _FROM_ENV[url] = (RedisLimiter(client), RedisTokenStore(client))
        return pair
