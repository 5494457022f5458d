"""The relay: the one process that holds Kiwoom's socket for every consumer of an app key.

It publishes each ``REAL`` frame, as received, to a Redis stream per real-time type (a frame
mixing types is split, each part keeping its items' raw values), and merges the consumers'
registrations, counted per (type, item) in Redis, into the socket's REG and REMOVE: a pair is
registered when its first holder asks and removed when its last lets go (or its lease ends).
A new relay reads the counts and registers everything again. Decoding is left to consumers.
Condition-search requests of consumers are sent on the socket and answered to them; watches
are counted like registrations (a watch of seq ``s`` is the pair ``02``/``s``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from typing import Any

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from .._errors import KiwoomError
from .._realtime import Realtime, RealtimeError, ReconnectInfo
from .._realtime._defaults import MAX_ITEMS_PER_REGISTRATION
from .._realtime._frames import MALFORMED, Real, decode_frame
from . import _keys
from ._keys import Keys, pair, split_pair

__all__ = ["Relay", "RelayError", "RelayStats"]

log = logging.getLogger("kiwoom.relay")

_encoder = msgspec.json.Encoder()
_RS = _keys.RS.encode()


class RelayError(KiwoomError):
    """The relay cannot run or be reached: Redis is unreachable, or another relay holds the
    namespace."""


class RelayStats(msgspec.Struct):
    """A snapshot of the relay's counters (``Relay.stats()``)."""

    epoch: int = 0
    """This relay's epoch (it grows at every start and socket reconnect)."""
    frames: int = 0
    """REAL frames received from the socket."""
    published: dict[str, int] = {}
    """Items published per real-time type."""
    dropped: int = 0
    """Frames lost before Redis: the publish queue was full or Redis failed (consumers see the
    gap in their ``lost`` counts)."""
    registered: int = 0
    """(type, item) pairs registered on the socket now."""
    rejected: int = 0
    """(type, item) pairs the server rejected and some consumer still holds."""
    requests: int = 0
    """Consumer requests answered."""
    released: int = 0
    """Consumers released because their lease ran out."""
    socket_reconnects: int = 0
    errors: int = 0
    """Turns of the request loop that failed on something other than Redis (logged, with
    the traceback); their requests went unanswered and the loop went on."""


def redis_client(redis: str | aioredis.Redis) -> aioredis.Redis:
    """A client on bytes (frames stay bytes), from a URL or as given."""
    if isinstance(redis, str):
        # redis-py's default read timeout (5 s) fails reads that a busy process's loop
        # resumes late; a read of a live server never takes long (XREAD blocks 0.1 s).
        return aioredis.Redis.from_url(
            redis, decode_responses=False, socket_timeout=_keys.SOCKET_TIMEOUT
        )
    return redis


class Relay:
    """Holds one :class:`kiwoom.Realtime` socket and shares it through Redis.

    >>> async with kiwoom.AsyncKiwoom() as client:
    ...     async with Relay(client.realtime(), "redis://localhost:6379/0") as relay:
    ...         await relay.wait_closed()

    ``namespace`` names the keys (one per app key and socket); ``maxlen`` bounds each type's
    stream (``XADD MAXLEN ~``); ``lease`` is how long (s) the relay's lock outlives it, so a
    restarted relay waits at most that long for a killed one's lock. Consumers connect with
    :class:`kiwoom.relay.RelayClient` on the same Redis and namespace.
    """

    def __init__(
        self,
        realtime: Realtime,
        redis: str | aioredis.Redis,
        *,
        namespace: str = _keys.NAMESPACE,
        group: str = "1",
        maxlen: int = _keys.MAXLEN,
        lease: float = _keys.RELAY_LEASE,
        queue_size: int = 100_000,
    ) -> None:
        self.realtime = realtime
        self.keys = Keys(namespace)
        self.group = group
        self.maxlen = maxlen
        self.lease = lease
        self.queue_size = queue_size
        self.id = uuid.uuid4().hex
        self._redis = redis_client(redis)
        self._stats = RelayStats()
        self._pending: deque[tuple[str, bytes, bytes, int, int]] = deque()
        self._wake = asyncio.Event()
        self._n: dict[str, int] = {}  # items published per type stream, across relays
        self._active: set[str] = set()  # pairs registered on the socket
        self._rejected: dict[str, tuple[int | None, str]] = {}
        self._watching: set[str] = set()  # condition seqs watched on the socket
        self._stopped: dict[str, str] = {}  # seq -> the socket's answer, stopped this turn
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._detached = False
        self._stop_raw: Any = None
        self._failure: BaseException | None = None
        self._closed = asyncio.Event()
        user_hook = realtime.on_reconnect

        async def on_reconnect(info: ReconnectInfo) -> None:
            self._stats.socket_reconnects += 1
            await self._new_epoch()
            if user_hook is not None:
                result = user_hook(info)
                if asyncio.iscoroutine(result):
                    await result

        realtime.on_reconnect = on_reconnect

    def __repr__(self) -> str:
        return f"<Relay {self.keys.ns} epoch={self._stats.epoch}>"

    async def __aenter__(self) -> Relay:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Take the namespace's lock (waiting for a dead relay's to lapse), connect the socket,
        register what the consumers hold, then publish and serve requests until closed."""
        loop = asyncio.get_running_loop()
        try:
            await self._acquire()
            # Kept from now on: the socket's login may take longer than the lease.
            self._tasks = [loop.create_task(self._keep_lock(), name="kiwoom-relay-lock")]
            await self._new_epoch()
        except RedisError as exc:
            await self.detach()
            raise RelayError(f"Redis is unreachable: {exc}") from exc
        self._stop_raw = self.realtime.on_raw(self._on_frame, maxsize=self.queue_size)
        try:
            await self.realtime.connect()
        except BaseException:
            await self.detach()
            raise
        self._tasks += [
            loop.create_task(self._publish(), name="kiwoom-relay-publish"),
            loop.create_task(self._serve(), name="kiwoom-relay-requests"),
        ]

    async def close(self) -> None:
        """Stop publishing and close the socket. The registrations stay counted in Redis for
        the next relay."""
        await self.detach()
        await self.realtime.close()
        self._closed.set()

    async def detach(self) -> None:
        """Stop publishing and serving, and give up the namespace; the socket stays open (the
        way a :class:`kiwoom.Realtime` made with ``relay=`` stops relaying as it closes)."""
        if self._detached:
            return
        self._detached = True
        self._stopping.set()
        self._wake.set()  # the publisher sends what it holds, then ends
        await stop_tasks(self._tasks, self._stopping, 1.0)
        if self._stop_raw is not None:
            await self._stop_raw()
        with contextlib.suppress(RedisError):
            await self._redis.eval(_keys.RELEASE_LOCK, 1, self.keys.relay, self.id)
        with contextlib.suppress(RedisError):
            await self._redis.aclose()

    async def wait_closed(self) -> None:
        """Wait until the relay is closed; raises what stopped it, if anything did."""
        await self._closed.wait()
        if self._failure is not None:
            raise self._failure

    async def run(self) -> None:
        """Start, and serve until cancelled or failed."""
        await self.start()
        try:
            await self.wait_closed()
        finally:
            if not self._closed.is_set():
                await self.close()

    def _fail(self, exc: BaseException) -> None:
        self._failure = exc
        asyncio.get_running_loop().create_task(self.close())

    async def _acquire(self) -> None:
        ttl = int(self.lease * 1000)
        waited = False
        while not await self._redis.set(self.keys.relay, self.id, nx=True, px=ttl):
            if not waited:
                log.warning("another relay holds %s: waiting for its lock", self.keys.relay)
                waited = True
            await asyncio.sleep(self.lease / 10)

    async def _keep_lock(self) -> None:
        ttl = int(self.lease * 1000)
        while not await pause(self._stopping, self.lease / 3):
            try:
                held = await self._redis.eval(_keys.REFRESH_LOCK, 1, self.keys.relay, self.id, ttl)
            except RedisError as exc:
                log.warning("could not refresh the relay lock: %s", exc)
                continue
            if not held:
                log.error("another relay took %s: stopping", self.keys.relay)
                self._fail(RelayError(f"another relay took {self.keys.relay}"))
                return

    async def _new_epoch(self) -> None:
        self._stats.epoch = int(await self._redis.incr(self.keys.epoch))

    def stats(self) -> RelayStats:
        s = self._stats
        return msgspec.structs.replace(
            s,
            frames=s.frames,
            published=dict(s.published),
            dropped=s.dropped + self.realtime.stats().raw_dropped,
            registered=len(self._active),
            rejected=len(self._rejected),
        )

    # -- publishing ------------------------------------------------------------------------

    async def _on_frame(self, raw: str | bytes) -> None:
        data = raw.encode() if isinstance(raw, str) else raw
        try:
            frame = decode_frame(data)
        except MALFORMED:
            return  # counted by the socket
        if type(frame) is not Real or not frame.data:
            return
        self._stats.frames += 1
        types = {it.type for it in frame.data}
        if len(types) == 1:
            parts = [(next(iter(types)), data, frame.data)]
        else:
            parts = []
            for t in types:
                items = [it for it in frame.data if it.type == t]
                parts.append((t, _encoder.encode(Real(data=items)), items))
        for t, body, part in parts:
            k = len(part)
            # The entry names its items, so a consumer keeps or skips it without decoding it.
            codes = _keys.US.join([it.item for it in part]).encode()
            n = self._n.get(t)
            if n is None:
                n = await self._last_n(t)
            n = self._n[t] = n + k
            if len(self._pending) >= self.queue_size:
                self._pending.popleft()
                self._stats.dropped += 1
            self._pending.append((t, body, codes, k, n))
        self._wake.set()

    async def _last_n(self, tick_type: str) -> int:
        """Items published on a type's stream so far (by earlier relays too)."""
        try:
            last: Any = await self._redis.xrevrange(self.keys.stream(tick_type), count=1)
        except RedisError:
            return 0
        return int(last[0][1][b"n"]) if last else 0

    async def _publish(self) -> None:
        """Every frame received since the last turn goes out in one pipeline (one round trip)."""
        pending, keys, maxlen = self._pending, self.keys, self.maxlen
        published = self._stats.published
        epoch_of = self._stats
        while not self._stopping.is_set():
            await self._wake.wait()
            self._wake.clear()
            while pending:
                batch = [pending.popleft() for _ in range(min(len(pending), _keys.READ_COUNT))]
                # One entry per type: its frames in order, RS between them (RFC 7464's
                # separator, which JSON text never contains), and one XADD per type.
                by_type: dict[str, tuple[list[bytes], list[bytes], int, int]] = {}
                for t, body, codes, k, n in batch:
                    group = by_type.get(t)
                    if group is None:
                        by_type[t] = ([body], [codes], k, n)
                    else:
                        group[0].append(body)
                        group[1].append(codes)
                        by_type[t] = (group[0], group[1], group[2] + k, n)
                pipe = self._redis.pipeline(transaction=False)
                epoch = epoch_of.epoch
                for t, (bodies, codes_of, k, n) in by_type.items():
                    fields: Any = {
                        "f": _RS.join(bodies),
                        "i": _RS.join(codes_of),
                        "k": k,
                        "n": n,
                        "e": epoch,
                    }
                    pipe.xadd(keys.stream(t), fields, maxlen=maxlen, approximate=True)
                try:
                    await pipe.execute()
                except RedisError as exc:
                    self._stats.dropped += len(batch)
                    log.warning("publishing %d frames failed: %s", len(batch), exc)
                    await asyncio.sleep(0.5)
                    continue
                for t, _, _, k, _ in batch:
                    published[t] = published.get(t, 0) + k

    # -- registrations ---------------------------------------------------------------------

    async def _serve(self) -> None:
        """Answer requests, release consumers whose lease ended, keep the socket's
        registrations equal to the counted ones."""
        loop = asyncio.get_running_loop()
        last = b"0-0"
        next_sweep = 0.0
        first = True
        while not self._stopping.is_set():
            try:
                got: Any = await self._redis.xread(
                    {self.keys.requests: last}, count=_keys.READ_COUNT, block=250
                )
                requests: list[tuple[bytes, dict[bytes, bytes]]] = []
                for _, entries in got or []:
                    requests.extend(entries)
                if requests:
                    last = requests[-1][0]
                swept = False
                if loop.time() >= next_sweep:
                    swept = await self._sweep()
                    next_sweep = loop.time() + 0.5
                if not (requests or swept or first):
                    continue
                first = False
                ops, answers = _condition_ops(requests)
                answers |= await self._conditions(ops, ("list", "search", "watch"))
                failures = await self._reconcile()
                answers |= await self._conditions(ops, ("stop",))
                if requests:
                    await self._answer(requests, failures, answers)
            except RedisError as exc:
                log.warning("relay request loop: %s", exc)
                await asyncio.sleep(0.5)
            except Exception:  # a request it cannot read: never the end of the relay
                self._stats.errors += 1
                log.exception("relay request loop: a turn failed; its requests are dropped")
                await asyncio.sleep(0.5)

    async def _sweep(self) -> bool:
        """Release every consumer whose lease ended; True if any was."""
        keys = self.keys
        expired = await self._redis.eval(_keys.EXPIRED, 1, keys.consumers)
        released = False
        for raw_id in expired:
            cid = raw_id.decode()
            done = await self._redis.eval(
                _keys.RELEASE, 3, keys.consumer(cid), keys.refs, keys.consumers, cid, "1"
            )
            if done:
                log.info("released consumer %s: its lease ended", cid)
                self._stats.released += 1
                released = True
        return released

    async def _conditions(
        self, requests: list[tuple[str, dict[str, str]]], ops: tuple[str, ...]
    ) -> dict[str, str]:
        """Send the condition-search requests (reply id, request) of kinds ``ops`` on the
        socket: reply id -> the answer to push (``ok<US>`` and the socket's raw answer, or a
        failure). Watches and stops are counted like registrations: a watch is sent for every
        request (its answer is the current matches), a stop only when the last watcher lets
        go."""
        answers: dict[str, str] = {}
        rt = self.realtime
        for rid, op in requests:
            kind, seq = op.get("op"), op.get("seq", "")
            if kind not in ops:
                continue
            try:
                if kind == "list":
                    raw = await rt._condition(0)
                elif kind == "search":
                    raw = await rt._condition(
                        1, seq, op.get("stex_tp", "K"), op.get("cont_yn"), op.get("next_key")
                    )
                elif kind == "watch":
                    raw = await self._watch(seq, op.get("stex_tp", "K"))
                else:  # stop: sent by the reconciliation if this was the last watcher
                    raw = (
                        self._stopped.get(seq)
                        or _encoder.encode(
                            {"trnm": "CNSRCLR", "seq": seq, "return_code": 0, "return_msg": ""}
                        ).decode()
                    )
                answers[rid] = f"ok{_keys.US}{raw}"
            except RealtimeError as exc:
                answers[rid] = f"{exc.code}{_keys.US}{exc.message}"
        if "stop" in ops:
            self._stopped.clear()
        return answers

    async def _watch(self, seq: str, stex_tp: str) -> str:
        """Watch ``seq`` on the socket (restarted after its reconnects); the raw answer."""
        rt = self.realtime
        rt._conditions[seq] = stex_tp
        try:
            raw = await rt._condition(2, seq, stex_tp)
        except RealtimeError:
            if seq not in self._watching:
                rt._conditions.pop(seq, None)
            raise
        self._watching.add(seq)
        return raw

    async def _reconcile_watches(self, wanted: set[str]) -> dict[str, tuple[int | None, str]]:
        """Watch the counted condition seqs not watched (a new relay), stop the others."""
        watches = {split_pair(p)[1] for p in wanted if split_pair(p)[0] == _keys.CONDITION}
        failures: dict[str, tuple[int | None, str]] = {}
        for seq in sorted(watches - self._watching):
            stex_tp: Any = await self._redis.hget(self.keys.conditions, seq)
            try:
                await self._watch(seq, stex_tp.decode() if stex_tp else "K")
            except RealtimeError as exc:
                failures[pair(_keys.CONDITION, seq)] = (exc.code, exc.message)
                log.error("condition watch %s failed: %s", seq, exc)
        for seq in sorted(self._watching - watches):
            self._watching.discard(seq)
            self.realtime._conditions.pop(seq, None)
            try:
                self._stopped[seq] = await self.realtime._condition(3, seq)
            except RealtimeError as exc:
                log.error("stopping condition watch %s failed: %s", seq, exc)
        return failures

    async def _reconcile(self) -> dict[str, tuple[int | None, str]]:
        """REG what is counted and not registered, REMOVE what is registered and no longer
        counted; the pairs that failed, with the server's code and message."""
        counts: Any = await self._redis.hgetall(self.keys.refs)
        wanted = {k.decode() for k, v in counts.items() if v.isdigit() and int(v) > 0}
        watch_failures = await self._reconcile_watches(wanted)
        wanted = {p for p in wanted if split_pair(p)[0] != _keys.CONDITION}
        for p in list(self._rejected):
            if p not in wanted:
                del self._rejected[p]  # let go by everyone: a later request tries again
        add = wanted - self._active - set(self._rejected)
        drop = self._active - wanted
        failures: dict[str, tuple[int | None, str]] = {}
        for items, types in _batches(drop):
            try:
                await self.realtime._remove(self.group, items, types)
            except RealtimeError as exc:
                for p in _pairs(items, types):
                    failures[p] = (exc.code, exc.message)
                log.error("REMOVE of %s %s failed: %s", types, items, exc)
            self._active -= _pairs(items, types)
        for items, types in _batches(add):
            try:
                await self.realtime._register(items, types, self.group, False)
            except RealtimeError as exc:
                for p in _pairs(items, types):
                    failures[p] = self._rejected[p] = (exc.code, exc.message)
                log.error("REG of %s %s rejected: %s", types, items, exc)
                continue
            self._active |= _pairs(items, types)
        return failures | watch_failures

    async def _answer(
        self,
        requests: list[tuple[bytes, dict[bytes, bytes]]],
        failures: dict[str, tuple[int | None, str]],
        answers: dict[str, str],
    ) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for _, fields in requests:
            rid = fields.get(b"r", b"").decode()
            if rid in answers:
                pipe.rpush(self.keys.reply(rid), answers[rid])
                pipe.expire(self.keys.reply(rid), _keys.REPLY_TTL)
            elif rid:
                touched = fields.get(b"p", b"").decode().split(_keys.RS)
                failed = next((failures[p] for p in touched if p in failures), None)
                if failed is None:
                    failed = next((self._rejected[p] for p in touched if p in self._rejected), None)
                answer = "ok" if failed is None else f"{failed[0]}{_keys.US}{failed[1]}"
                pipe.rpush(self.keys.reply(rid), answer)
                pipe.expire(self.keys.reply(rid), _keys.REPLY_TTL)
        pipe.xdel(self.keys.requests, *(entry_id for entry_id, _ in requests))
        await pipe.execute()
        self._stats.requests += len(requests)


async def pause(stopping: asyncio.Event, seconds: float) -> bool:
    """Wait ``seconds`` or until ``stopping`` is set; True if it is."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)
    return stopping.is_set()


async def stop_tasks(tasks: list[asyncio.Task[None]], stopping: asyncio.Event, wait: float) -> None:
    """Let loops that check ``stopping`` end by themselves, cancelling only those still running
    after ``wait`` seconds: redis-py 8.1 can hang for good when a task is cancelled in the middle
    of a blocking command (XREAD BLOCK), so a loop is not cancelled while one is under way."""
    stopping.set()
    if not tasks:
        return
    _, running = await asyncio.wait(tasks, timeout=wait)
    for task in running:
        task.cancel()
    if running:
        await asyncio.wait(running, timeout=wait)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.error("relay task %s failed", task.get_name(), exc_info=task.exception())


def _condition_ops(
    requests: list[tuple[bytes, dict[bytes, bytes]]],
) -> tuple[list[tuple[str, dict[str, str]]], dict[str, str]]:
    """The condition-search requests among ``requests``, read once: (reply id, request)
    pairs, and the answers to those that could not be read."""
    ops: list[tuple[str, dict[str, str]]] = []
    bad: dict[str, str] = {}
    for _, fields in requests:
        if b"c" not in fields:
            continue
        rid = fields.get(b"r", b"").decode()
        try:
            ops.append((rid, msgspec.json.decode(fields[b"c"], type=dict[str, str])))
        except msgspec.DecodeError as exc:
            bad[rid] = f"None{_keys.US}bad request: {exc}"
    return ops, bad


def _pairs(items: list[str], types: list[str]) -> set[str]:
    return {pair(t, i) for t in types for i in items}


def _batches(pairs: set[str]) -> list[tuple[list[str], list[str]]]:
    """(items, types) requests covering exactly ``pairs``, at most 100 items each: items
    wanted with the same types travel together."""
    types_of: dict[str, list[str]] = {}
    for p in sorted(pairs):
        t, item = split_pair(p)
        types_of.setdefault(item, []).append(t)
    by_types: dict[tuple[str, ...], list[str]] = {}
    for item, types in types_of.items():
        by_types.setdefault(tuple(types), []).append(item)
    out = []
    for types_key, items in by_types.items():
        for i in range(0, len(items), MAX_ITEMS_PER_REGISTRATION):
            out.append((items[i : i + MAX_ITEMS_PER_REGISTRATION], list(types_key)))
    return out
