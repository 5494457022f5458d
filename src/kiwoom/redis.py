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

import asyncio
import math
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any, cast

import msgspec
import redis
import redis.asyncio
import redis.asyncio.connection
import redis.asyncio.lock
from redis.commands.core import AsyncScript

from ._auth import Token
from .errors import KiwoomError
from .ratelimit import Booking, Bucket, Limits, RateLimiter

__all__ = ["AsyncRedisBackend", "RedisBackend", "RedisLimiter", "RedisTokenStore"]


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

# KEYS as for _RESERVE. ARGV: generation, hold in us, then (count, span in us) per bucket.
# A started book holds each busy call's end (its answer's time plus the span; until then
# its start plus hold plus the span). Ported from MemoryBackend.start.
_START = (
    _LUA_COMMON
    + """
if stale() then return false end
local now = server_now()
local hold = tonumber(ARGV[2])
local earliest = now
for i = 0, (#KEYS - 2) / 3 - 1 do
  local key = KEYS[4 + 3 * i]
  local count, span = tonumber(ARGV[3 + 2 * i]), tonumber(ARGV[4 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', num(now))
  earliest = math.max(earliest, tonumber(redis.call('GET', KEYS[5 + 3 * i]) or '0'))
  local busy = redis.call('ZCARD', key)
  if busy >= count then
    -- an unfinished call leaves a span after its answer, which is still to come
    local nth = redis.call('ZRANGE', key, busy - count, busy - count, 'WITHSCORES')
    earliest = math.max(earliest, math.min(tonumber(nth[2]), now + span))
  end
end
if earliest > now then return {num(earliest - now)} end
local id = tostring(redis.call('INCR', KEYS[2]))
for i = 0, (#KEYS - 2) / 3 - 1 do
  local span = tonumber(ARGV[4 + 2 * i])
  redis.call('ZADD', KEYS[4 + 3 * i], num(now + hold + span), id)
  keep(KEYS[4 + 3 * i], hold + span)
end
return {'0', id}
"""
)

# KEYS: started per bucket. ARGV: the call's id, then the span in us per bucket.
_FINISH = (
    _LUA_COMMON
    + """
local now = server_now()
for i = 1, #KEYS do
  local span = tonumber(ARGV[i + 1])
  redis.call('ZADD', KEYS[i], num(now + span), ARGV[1])
  keep(KEYS[i], span)
end
"""
)

# KEYS: blocked, started. ARGV: microseconds, "1" for the shortest, span in us.
_BLOCK = (
    _LUA_COMMON
    + """
local now = server_now()
local us = tonumber(ARGV[1])
if ARGV[2] == '1' then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', num(now))
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if first[2] then
    us = math.min(us, math.min(tonumber(first[2]), now + tonumber(ARGV[3])) - now)
  end
end
local untl = now + us
local old = tonumber(redis.call('GET', KEYS[1]) or '0')
if untl > old then
  redis.call('SET', KEYS[1], num(untl))
  keep(KEYS[1], us)
else
  untl = old
end
return num(untl - now)
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


# What an asyncio client made after a sync one keeps of its settings (the rest, such as
# a sync Retry, belongs to the sync client).
_ASYNC_SETTINGS = (
    "host", "port", "db", "username", "password", "path", "client_name", "socket_timeout",
    "socket_connect_timeout", "socket_keepalive", "ssl_keyfile", "ssl_certfile",
    "ssl_cert_reqs", "ssl_ca_certs", "ssl_check_hostname",
)  # fmt: skip


class _Server:
    """The connections to one Redis server: a client for threads, and one ``redis.asyncio``
    client per event loop (its connections belong to the loop that opened them, so a second
    ``asyncio.run`` gets clients of its own)."""

    def __init__(self, url: str | redis.Redis) -> None:
        if isinstance(url, redis.Redis):
            self.sync = url
            pool = url.connection_pool
            kind = getattr(redis.asyncio.connection, pool.connection_class.__name__, None)
            settings = {k: v for k, v in pool.connection_kwargs.items() if k in _ASYNC_SETTINGS}

            def make() -> redis.asyncio.Redis:
                return redis.asyncio.Redis(
                    connection_pool=redis.asyncio.ConnectionPool(
                        connection_class=kind or redis.asyncio.Connection, **settings
                    )
                )
        else:
            self.sync = redis.Redis.from_url(url)

            def make() -> redis.asyncio.Redis:
                return redis.asyncio.Redis.from_url(url)

        self._make = make
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, redis.asyncio.Redis]
        self._loops = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def for_loop(self) -> redis.asyncio.Redis:
        """The asyncio client of the running event loop."""
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._loops.get(loop)
            if client is None:
                client = self._loops[loop] = self._make()
            return client

    async def release_loop(self) -> None:
        """Close the running event loop's idle connections (an async client closing: left
        open, they outlive ``asyncio.run`` and warn). Connections in use by other tasks are
        left alone; a later command opens a new one."""
        with self._lock:
            client = self._loops.get(asyncio.get_running_loop())
        if client is not None:
            with suppress(redis.RedisError, OSError):
                await client.connection_pool.disconnect(inuse_connections=False)

    @classmethod
    def of(cls, url: str | redis.Redis) -> _Server:
        """The connections of ``url``, or of a client (one set per client object)."""
        if isinstance(url, str):
            return cls(url)
        with _SERVERS_LOCK:
            server = _SERVERS.get(url)
            if server is None:
                server = _SERVERS[url] = cls(url)
            return server


_SERVERS: weakref.WeakKeyDictionary[redis.Redis, _Server] = weakref.WeakKeyDictionary()
_SERVERS_LOCK = threading.Lock()


def connect(url: str | redis.Redis) -> redis.Redis:
    """A client for ``url`` (``redis://host:port/db``), or the client given."""
    return _Server.of(url).sync


def _prefix(prefix: str, key: str) -> str:
    # The hash tag keeps one app key's keys in one Redis Cluster slot, as scripts require.
    return f"{prefix}:{{{key}}}"


class _Books:
    """The Redis keys and script arguments of one app key's books, and the answers read:
    shared by :class:`RedisBackend` and :class:`AsyncRedisBackend`, so threads and event
    loops keep one set of books."""

    def __init__(self, key: str, prefix: str) -> None:
        self.prefix = _prefix(prefix, key)
        self.generation = f"{self.prefix}:generation"
        self.sequence = f"{self.prefix}:sequence"
        self.learned = f"{self.prefix}:learned"

    def key(self, book: str, bucket: Bucket) -> str:
        return f"{self.prefix}:{book}:{bucket.key}"

    def books(
        self, buckets: Sequence[Bucket], generation: int, *extra: int
    ) -> tuple[list[str], list[Any]]:
        keys = [self.generation, self.sequence]
        args: list[Any] = [generation, *extra]
        for b in buckets:
            keys += [self.key("booked", b), self.key("started", b), self.key("blocked", b)]
            args += [b.count, _us(b.span)]
        return keys, args

    def finish(self, buckets: Sequence[Bucket], ref: object) -> tuple[list[str], list[Any]]:
        return [self.key("started", b) for b in buckets], [ref, *(_us(b.span) for b in buckets)]

    def block(self, bucket: Bucket, seconds: float, shortest: bool) -> tuple[list[str], list[Any]]:
        keys = [self.key("blocked", bucket), self.key("started", bucket)]
        return keys, [_us(seconds), int(shortest), _us(bucket.span)]

    @staticmethod
    def booking(answer: Any) -> Booking | None:
        if answer is None:
            return None
        wait, ref = answer
        return Booking(int(wait) / 1e6, ref)

    @staticmethod
    def started(answer: Any) -> Booking | None:
        if answer is None:
            return None
        return Booking(int(answer[0]) / 1e6, answer[1] if len(answer) > 1 else None)

    @staticmethod
    def rates(generation: Any, learned: Mapping[Any, Any]) -> tuple[int, Mapping[str, float]]:
        return int(generation or 0), {_text(k): float(v) for k, v in learned.items()}


_BOOKS = "the rate limiter's books"


class RedisBackend:
    """The books of :class:`~kiwoom.ratelimit.RateLimiter` in Redis, for one app key and host.

    ``key`` is :func:`kiwoom.ratelimit.limiter_key` (a hash of the app key and the host).
    Every method is one atomic step on the server (a Lua script or a transaction); times are
    the server's.
    """

    def __init__(self, client: redis.Redis, key: str, *, prefix: str = "kiwoom") -> None:
        self._redis = client
        self._books = _Books(key, prefix)
        self._reserve = client.register_script(_RESERVE)
        self._start = client.register_script(_START)
        self._finish = client.register_script(_FINISH)
        self._block = client.register_script(_BLOCK)
        self._learn = client.register_script(_LEARN)

    def __repr__(self) -> str:
        return f"<RedisBackend {self._books.prefix}>"

    def reserve(self, buckets: Sequence[Bucket], generation: int) -> Booking | None:
        keys, args = self._books.books(buckets, generation)
        with _errors(_BOOKS):
            return self._books.booking(self._reserve(keys, args))

    def start(self, buckets: Sequence[Bucket], generation: int, hold: float) -> Booking | None:
        keys, args = self._books.books(buckets, generation, _us(hold))
        with _errors(_BOOKS):
            return self._books.started(self._start(keys, args))

    def finish(self, buckets: Sequence[Bucket], ref: object) -> None:
        keys, args = self._books.finish(buckets, ref)
        with _errors(_BOOKS):
            self._finish(keys, args)

    def cancel(self, buckets: Sequence[Bucket], booking: Booking) -> None:
        with _errors(_BOOKS), self._redis.pipeline(False) as pipe:
            for b in buckets:
                pipe.zrem(self._books.key("booked", b), cast(Any, booking.ref))
            pipe.execute()

    def block(self, bucket: Bucket, seconds: float, *, shortest: bool = False) -> float:
        keys, args = self._books.block(bucket, seconds, shortest)
        with _errors(_BOOKS):
            return int(cast(Any, self._block(keys, args))) / 1e6

    def learn(self, key: str, rate: float) -> None:
        with _errors(_BOOKS):
            self._learn([self._books.generation, self._books.learned], [key, repr(rate)])

    def learned(self) -> tuple[int, Mapping[str, float]]:
        with _errors(_BOOKS), self._redis.pipeline() as pipe:
            pipe.get(self._books.generation)
            pipe.hgetall(self._books.learned)
            generation, learned = pipe.execute()
        return self._books.rates(generation, learned)


class AsyncRedisBackend:
    """:class:`RedisBackend` on ``redis.asyncio``: the same scripts and keys, so sync and
    async clients of one app key share one budget, and the event loop never waits for Redis.

    ``client`` gives the asyncio client of the running event loop; ``release``, if given,
    closes that loop's idle connections (:meth:`release`).
    """

    def __init__(
        self,
        client: Callable[[], redis.asyncio.Redis],
        key: str,
        *,
        prefix: str = "kiwoom",
        release: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._client = client
        self._release = release
        self._books = _Books(key, prefix)
        self._scripts: weakref.WeakKeyDictionary[redis.asyncio.Redis, dict[str, AsyncScript]]
        self._scripts = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return f"<AsyncRedisBackend {self._books.prefix}>"

    async def _run(self, source: str, keys: list[str], args: list[Any]) -> Any:
        client = self._client()
        scripts = self._scripts.get(client)
        if scripts is None:
            scripts = self._scripts[client] = {}
        script = scripts.get(source)
        if script is None:
            script = scripts[source] = client.register_script(source)
        with _errors(_BOOKS):
            return await script(keys, args)

    async def release(self) -> None:
        """Close the running event loop's idle connections to Redis (an async client of
        this budget closed)."""
        if self._release is not None:
            await self._release()

    async def reserve(self, buckets: Sequence[Bucket], generation: int) -> Booking | None:
        keys, args = self._books.books(buckets, generation)
        return self._books.booking(await self._run(_RESERVE, keys, args))

    async def start(
        self, buckets: Sequence[Bucket], generation: int, hold: float
    ) -> Booking | None:
        keys, args = self._books.books(buckets, generation, _us(hold))
        return self._books.started(await self._run(_START, keys, args))

    async def finish(self, buckets: Sequence[Bucket], ref: object) -> None:
        await self._run(_FINISH, *self._books.finish(buckets, ref))

    async def cancel(self, buckets: Sequence[Bucket], booking: Booking) -> None:
        with _errors(_BOOKS):
            async with self._client().pipeline(False) as pipe:
                for b in buckets:
                    pipe.zrem(self._books.key("booked", b), cast(Any, booking.ref))
                await pipe.execute()

    async def block(self, bucket: Bucket, seconds: float, *, shortest: bool = False) -> float:
        answer = await self._run(_BLOCK, *self._books.block(bucket, seconds, shortest))
        return int(answer) / 1e6

    async def learn(self, key: str, rate: float) -> None:
        await self._run(_LEARN, [self._books.generation, self._books.learned], [key, repr(rate)])

    async def learned(self) -> tuple[int, Mapping[str, float]]:
        with _errors(_BOOKS):
            async with self._client().pipeline() as pipe:
                pipe.get(self._books.generation)
                pipe.hgetall(self._books.learned)
                generation, learned = await pipe.execute()
        return self._books.rates(generation, learned)


def _us(seconds: float) -> int:
    return round(seconds * 1_000_000)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisLimiter:
    """Rate limits kept in Redis: ``kiwoom.Kiwoom(limiter=RedisLimiter(url))``.

    Every client given a ``RedisLimiter`` for the same Redis shares the budget of its app
    key and host with every other process doing so, on any host; ``kiwoom.AsyncKiwoom``
    books through ``redis.asyncio``, in the same books. ``url`` is a ``redis://`` URL or a
    ``redis.Redis`` client; ``limits`` replaces the host's default limits
    (:func:`kiwoom.ratelimit.limits_for`); ``prefix`` starts every Redis key name.
    """

    def __init__(
        self,
        url: str | redis.Redis,
        *,
        limits: Limits | None = None,
        prefix: str = "kiwoom",
    ) -> None:
        self._server = _Server.of(url)
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
                server, prefix = self._server, self._prefix
                limiter = RateLimiter(
                    self._limits or limits,
                    backend=RedisBackend(server.sync, key, prefix=prefix),
                    async_backend=AsyncRedisBackend(
                        server.for_loop, key, prefix=prefix, release=server.release_loop
                    ),
                )
                self._bound[key] = limiter
            return limiter


class _TokenRecord(msgspec.Struct):
    value: str
    expires_at: float


_RECORD = msgspec.json.Decoder(_TokenRecord)
_TOKEN = "the shared token"
_TOKEN_LOCK = "the shared token's lock"


class _RedisLock:
    """redis-py's lock (SET NX PX, released only by its holder's token), errors as ours."""

    def __init__(self, lock: Any) -> None:
        self._lock = lock

    def acquire(self) -> None:
        with _errors(_TOKEN_LOCK):
            self._lock.acquire(blocking=True)

    def release(self) -> None:
        # Held past its timeout, the lock may be another process's now, and stays so.
        with _errors(_TOKEN_LOCK), suppress(redis.exceptions.LockError):
            self._lock.release()


class _AsyncRedisLock:
    """:class:`_RedisLock` on ``redis.asyncio``: waiting for it never blocks the loop."""

    def __init__(self, lock: redis.asyncio.lock.Lock) -> None:
        self._lock = lock

    async def acquire(self) -> None:
        with _errors(_TOKEN_LOCK):
            await self._lock.acquire(blocking=True)

    async def release(self) -> None:
        with _errors(_TOKEN_LOCK), suppress(redis.exceptions.LockError):
            await self._lock.release()


class RedisTokenStore:
    """One access token for every process of an app key and host, kept in Redis.

    ``kiwoom.Kiwoom(token_store=RedisTokenStore(url))``: the first process to need a token
    issues it under a lock (the others wait and read it), stores it with its expiry, and
    the token is issued again once, by one process, when it nears expiry or is rejected
    (8005). ``kiwoom.AsyncKiwoom`` reads, writes and locks it through ``redis.asyncio``.
    ``lock_timeout`` bounds how long a crashed issuer can hold the lock (seconds).
    """

    def __init__(
        self, url: str | redis.Redis, *, prefix: str = "kiwoom", lock_timeout: float = 60.0
    ) -> None:
        self._server = _Server.of(url)
        self._redis = self._server.sync
        self._prefix = prefix
        self._lock_timeout = lock_timeout

    def __repr__(self) -> str:
        return f"<RedisTokenStore prefix={self._prefix!r}>"

    def _key(self, key: str) -> str:
        return f"{_prefix(self._prefix, key)}:token"

    def load(self, key: str) -> Token | None:
        with _errors(_TOKEN):
            raw = self._redis.get(self._key(key))
        return _token(raw)

    def save(self, key: str, token: Token) -> None:
        record, ttl_ms = _record(token)
        with _errors(_TOKEN):
            self._redis.set(self._key(key), record, px=ttl_ms)

    def lock(self, key: str) -> _RedisLock:
        name = f"{self._key(key)}:lock"
        lock = self._redis.lock(name, timeout=self._lock_timeout, sleep=0.05, thread_local=False)
        return _RedisLock(lock)

    async def load_async(self, key: str) -> Token | None:
        with _errors(_TOKEN):
            raw = await self._server.for_loop().get(self._key(key))
        return _token(raw)

    async def save_async(self, key: str, token: Token) -> None:
        record, ttl_ms = _record(token)
        with _errors(_TOKEN):
            await self._server.for_loop().set(self._key(key), record, px=ttl_ms)

    async def release_async(self) -> None:
        """Close the running event loop's idle connections (an async client closed)."""
        await self._server.release_loop()

    def lock_async(self, key: str) -> _AsyncRedisLock:
        name = f"{self._key(key)}:lock"
        client = self._server.for_loop()
        lock = client.lock(name, timeout=self._lock_timeout, sleep=0.05, thread_local=False)
        return _AsyncRedisLock(lock)


def _token(raw: Any) -> Token | None:
    if raw is None:
        return None
    try:
        record = _RECORD.decode(cast(bytes, raw))
    except msgspec.MsgspecError:
        return None  # unreadable: issue a new one over it
    return Token(record.value, record.expires_at)


def _record(token: Token) -> tuple[bytes, int]:
    """The stored form of ``token`` and its time to live in Redis (milliseconds)."""
    ttl_ms = max(1, math.ceil((token.expires_at - time.time()) * 1000))
    return msgspec.json.encode(_TokenRecord(token.value, token.expires_at)), ttl_ms


_FROM_ENV: dict[str, tuple[RedisLimiter, RedisTokenStore]] = {}
_FROM_ENV_LOCK = threading.Lock()


def from_env(url: str) -> tuple[RedisLimiter, RedisTokenStore]:
    """The limiter and token store of ``KIWOOM_REDIS_URL``, one pair per process and URL,
    on one set of connections."""
    with _FROM_ENV_LOCK:
        pair = _FROM_ENV.get(url)
        if pair is None:
            client = connect(url)
            pair = _FROM_ENV[url] = (RedisLimiter(client), RedisTokenStore(client))
        return pair
