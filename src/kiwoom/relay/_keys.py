"""The relay's Redis layout, its defaults and its Lua scripts, shared by relay and consumers.

Under one namespace (default ``kiwoom:rt``; one per app key and socket):

- ``{ns}:s:{type}``    stream of REAL frames of one type, an entry per publishing turn; fields
  ``f`` (the frames' bytes, ``RS`` between frames), ``i`` (their items: ``US`` between items,
  ``RS`` between frames), ``k`` (items in the entry), ``n`` (items published on this stream so
  far, this entry's included) and ``e`` (the relay epoch: it grows at every relay start and
  socket reconnect)
- ``{ns}:refs``        hash ``type<US>item`` -> how many (consumer, group) registrations hold it
- ``{ns}:c:{id}``      set of one consumer's registrations, ``group<US>type<US>item``
- ``{ns}:consumers``   sorted set consumer id -> end of its lease (ms, Redis server time)
- ``{ns}:req``         stream of requests to reconcile (``r`` reply id, ``p`` the pairs touched)
- ``{ns}:reply:{r}``   list the relay pushes its answer to (``ok`` or ``code<US>message``)
- ``{ns}:relay``       the relay's lock, holding its id, kept alive while it runs
- ``{ns}:epoch``       counter of relay epochs
- ``{ns}:cond``        hash condition seq -> its ``stex_tp`` (a watch is counted as the pair
  ``02<US>seq``; a request ``c`` field carries a condition-search request as JSON)

Every time is Redis's own (``TIME`` in the scripts), so hosts' clocks never matter.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["NAMESPACE", "Keys", "member", "pair", "split_pair"]

NAMESPACE = "kiwoom:rt"
"""Default key prefix."""
MAXLEN = 10_000
"""Entries kept per type stream (trimmed approximately: ``XADD MAXLEN ~``); an entry holds the
frames of one type the relay received in one turn of its loop (one, unless frames come fast)."""
LEASE = 10.0
"""Seconds a consumer's registrations outlive its last heartbeat (it beats every third)."""
RELAY_LEASE = 5.0
"""Seconds the relay's lock outlives its last heartbeat; a restarted relay waits at most this."""
REPLY_TTL = 60
"""Seconds an unread answer stays in Redis."""
BLOCK = 0.1
"""Seconds a consumer's XREAD blocks while nothing comes (it returns as soon as an entry does),
so the streams of newly registered types are read within this."""
SOCKET_TIMEOUT = 30.0
"""Seconds a Redis read may take before the connection is taken for dead."""
READ_COUNT = 1000
"""Frames published (and requests read) in one round trip at most."""
READ_ENTRIES = 100
"""Entries a consumer reads in one round trip at most (each up to ``READ_COUNT`` frames)."""

CONDITION = "02"
"""The type of condition-search events; a watch of condition ``seq`` counts as (02, seq)."""
US = "\x1f"
"""Separator inside a pair or member (ASCII unit separator: never in a code or type)."""
RS = "\x1e"
"""Separator between pairs in a request (ASCII record separator)."""


class Keys:
    """Key names of one namespace."""

    def __init__(self, namespace: str) -> None:
        self.ns = namespace
        self.refs = f"{namespace}:refs"
        self.consumers = f"{namespace}:consumers"
        self.requests = f"{namespace}:req"
        self.relay = f"{namespace}:relay"
        self.epoch = f"{namespace}:epoch"
        self.conditions = f"{namespace}:cond"

    def stream(self, tick_type: str) -> str:
        return f"{self.ns}:s:{tick_type}"

    def type_of(self, stream: bytes | str) -> str:
        name = stream.decode() if isinstance(stream, bytes) else stream
        return name[len(self.ns) + 3 :]

    def consumer(self, consumer_id: str) -> str:
        return f"{self.ns}:c:{consumer_id}"

    def wake(self, consumer_id: str) -> str:
        """A consumer's own stream, written to end its blocking read (a new type to read)."""
        return f"{self.ns}:w:{consumer_id}"

    def reply(self, request_id: str) -> str:
        return f"{self.ns}:reply:{request_id}"


def pair(tick_type: str, item: str) -> str:
    return f"{tick_type}{US}{item}"


def split_pair(text: str) -> tuple[str, str]:
    tick_type, _, item = text.partition(US)
    return tick_type, item


def member(group: str, tick_type: str, item: str) -> str:
    return f"{group}{US}{tick_type}{US}{item}"


def pairs_of(members: Iterable[str]) -> set[str]:
    """The ``type<US>item`` pairs of some members."""
    return {m.partition(US)[2] for m in members}


_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

_PAIR = """
local function pair_of(m)
  return string.match(m, '^[^\\31]*\\31(.*)$')
end
local function release(refs, m)
  local p = pair_of(m)
  if redis.call('HINCRBY', refs, p, -1) <= 0 then
    redis.call('HDEL', refs, p)
  end
end
"""

APPLY = (
    _NOW
    + _PAIR
    + """
-- KEYS: consumer set, refs, consumers; ARGV: id, lease ms, number added, added..., removed...
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), ARGV[1])
local n = tonumber(ARGV[3])
for i = 4, 3 + n do
  if redis.call('SADD', KEYS[1], ARGV[i]) == 1 then
    redis.call('HINCRBY', KEYS[2], pair_of(ARGV[i]), 1)
  end
end
for i = 4 + n, #ARGV do
  if redis.call('SREM', KEYS[1], ARGV[i]) == 1 then
    release(KEYS[2], ARGV[i])
  end
end
return 1
"""
)
"""A consumer's registrations change: each member counts once in the refcounts."""

RELEASE = (
    _NOW
    + _PAIR
    + """
-- KEYS: consumer set, refs, consumers; ARGV: id, '1' to release only if the lease ended
if ARGV[2] == '1' then
  local score = redis.call('ZSCORE', KEYS[3], ARGV[1])
  if score and tonumber(score) > now then
    return 0
  end
end
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  release(KEYS[2], m)
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
"""
)
"""Every registration of a consumer released (it closed, or its lease ran out)."""

HEARTBEAT = (
    _NOW
    + """
-- KEYS: consumers; ARGV: id, lease ms. 1: the consumer had been released (re-apply).
return redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
"""
)

EXPIRED = (
    _NOW
    + """
-- KEYS: consumers. The ids whose lease ended.
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
"""
)

REFRESH_LOCK = """
-- KEYS: relay lock; ARGV: id, ttl ms. 0: another relay holds it. A lock that lapsed while
-- its relay stalled is taken again if nobody else took it meanwhile.
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
