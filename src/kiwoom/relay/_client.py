"""A consumer of the relay: the socket runtime's interface, fed from Redis instead of a socket.

Frames are read from the type streams from this consumer's own position (``XREAD``), kept to
this consumer's registrations, and handed to the socket runtime's own per-frame path
(:meth:`kiwoom.Realtime.process`), so ticks, streams, callbacks, queues and counters are the
socket's. Falling behind costs only this consumer's position: entries trimmed before it read
them are counted (``lost``), the relay never waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from .._errors import InvalidRequestError
from .._realtime import Realtime, RealtimeError, Registration, Stats
from .._realtime._defaults import MAX_ITEMS_PER_REGISTRATION, QUEUE_SIZE, REQUEST_TIMEOUT
from .._realtime._dispatch import StopRaw
from .._realtime._frames import MALFORMED, Real, decode_frame
from .._realtime._registry import Registry
from . import _keys
from ._keys import Keys, member
from ._relay import RelayError, pause, redis_client, stop_tasks

if TYPE_CHECKING:
    from .._generated._realtime_typing import OnMethod, StreamMethod

__all__ = ["RelayClient", "RelayClientStats"]

log = logging.getLogger("kiwoom.relay")

_encoder = msgspec.json.Encoder()
_RS = _keys.RS.encode()


class RelayClientStats(Stats):
    """The socket runtime's counters (``frames``: entries read; ``types``: per type, as on a
    socket), and what the relay adds."""

    gaps: int = 0
    """Interruptions of the feed upstream: the relay restarted or its socket reconnected;
    what the server sent meanwhile never reached Redis."""
    lost: dict[str, int] = msgspec.field(default_factory=dict)
    """Items per type trimmed from a stream before this consumer read them (it fell behind;
    counted over every item of the stream, this consumer's or not)."""
    redis_errors: int = 0
    """Failed reads from Redis (retried)."""
    bad_entries: int = 0
    """Stream entries that were not the relay's (a field missing or unreadable): skipped and
    logged."""


class RelayClient:
    """The real-time interface of :class:`kiwoom.Realtime`, served by a :class:`Relay`.

    >>> async with RelayClient("redis://localhost:6379/0") as rt:
    ...     await rt.register(["005930"], ["0B"])
    ...     async for tick in rt.stream("0B"):
    ...         tick.item, tick.values.cur_prc

    Registrations are counted in Redis per (type, item): the relay sends one REG for the
    first holder and a REMOVE when the last lets go. They are held under a lease this client
    renews (``lease`` seconds); if the process dies, the relay releases them when it ends.
    A client sees only the items it registered, as on its own socket. Condition search
    (``conditions``, ``condition_search``, ``watch_condition``, ``stop_condition``,
    ``condition_events``) is sent on the relay's socket. ``read=False`` makes
    a client that only registers (the one a ``Realtime(..., relay=...)`` holds its own
    registrations with: its frames come from its socket).
    """

    def __init__(
        self,
        redis: str | aioredis.Redis,
        *,
        namespace: str = _keys.NAMESPACE,
        lease: float = _keys.LEASE,
        request_timeout: float = REQUEST_TIMEOUT,
        queue_size: int = QUEUE_SIZE,
        block: float = _keys.BLOCK,
        read: bool = True,
    ) -> None:
        self.keys = Keys(namespace)
        self._reading = read
        self.id = uuid.uuid4().hex
        self.lease = lease
        self.request_timeout = request_timeout
        self.block = block
        self._redis = redis_client(redis)
        # The socket runtime without a socket: its decoders, consumers and counters.
        self._rt = Realtime("", url="relay://" + namespace, queue_size=queue_size)
        self._registry = Registry()
        self._own: set[tuple[str, str]] = set()
        self._whole_types: set[str] = set()  # types registered without an item (00, 04)
        self._watches: dict[str, str] = {}  # condition seq -> stex_tp, watched through the relay
        self._every_item = False  # only such types: every frame read is this consumer's
        self._pos: dict[str, bytes] = {}  # type -> last entry id read
        self._n: dict[str, int] = {}  # type -> the ``n`` of that entry
        self._epoch: int | None = None
        self._gaps = 0
        self._lost: dict[str, int] = {}
        self._redis_errors = 0
        self._bad_entries = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._blocking = False  # a read of the streams is under way
        self._wake_pos = b"0-0"  # the last entry read from this consumer's wake stream

    def __repr__(self) -> str:
        return f"<RelayClient {self.keys.ns} {self.id}>"

    async def __aenter__(self) -> RelayClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- lifecycle -------------------------------------------------------------------------

    async def connect(self) -> None:
        """Start reading and renewing the lease. Nothing is registered yet."""
        if self._tasks:
            return
        try:
            await self._redis.ping()
        except RedisError as exc:
            raise RelayError(f"Redis is unreachable: {exc}") from exc
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._beat(), name="kiwoom-relay-lease")]
        if self._reading:
            self._tasks.append(loop.create_task(self._read(), name="kiwoom-relay-read"))

    async def close(self) -> None:
        """Release every registration (the relay removes what nobody else holds) and stop."""
        await stop_tasks(self._tasks, self._stopping, self.block + 1)
        with contextlib.suppress(RedisError):
            keys = self.keys
            await self._redis.eval(
                _keys.RELEASE, 3, keys.consumer(self.id), keys.refs, keys.consumers, self.id, "0"
            )
            await self._redis.xadd(keys.requests, {"p": ""})
            await self._redis.delete(keys.wake(self.id))
        await self._rt.close()
        with contextlib.suppress(RedisError):
            await self._redis.aclose()

    # -- registrations ---------------------------------------------------------------------

    def _members(self, group: str | None = None) -> set[str]:
        groups = [group] if group is not None else self._registry.groups()
        members = {
            member(g, t, i)
            for g in groups
            for t, items in self._registry.group(g).items()
            for i in items
        }
        if group is None:
            members |= {_watch_member(seq) for seq in self._watches}
        return members

    async def register(
        self,
        items: Iterable[str] | str,
        types: Iterable[str] | str,
        *,
        group: str = "1",
        replace: bool = False,
    ) -> None:
        """As :meth:`kiwoom.Realtime.register`, through the relay: returns once the relay has
        registered it (or holds it already for another consumer).

        Raises :class:`RealtimeError` if the server rejects it. While no relay runs, the
        registration is counted and the next relay registers it.
        """
        item_list = _as_list(items) or [""]
        type_list = _as_list(types)
        # The socket runtime's checks, with its wording.
        self._rt._check_types(type_list, allow_events=False)
        if len(item_list) > MAX_ITEMS_PER_REGISTRATION:
            raise InvalidRequestError(
                "REG",
                "item",
                f"{len(item_list)} items, at most {MAX_ITEMS_PER_REGISTRATION} per"
                " registration: split them over several calls or groups",
            )
        before = self._members(group)
        self._registry.want(group, item_list, type_list, replace)
        after = self._members(group)
        added, removed = after - before, before - after
        try:
            await self._follow(type_list)
            await self._apply(added, removed)
            failure = await self._ask(added | removed)
        except RedisError as exc:
            self._registry.drop(group, item_list, type_list)
            self._refresh_own()
            raise RelayError(f"Redis is unreachable: {exc}") from exc
        if failure is not None:
            self._registry.drop(group, item_list, type_list)
            self._refresh_own()
            with contextlib.suppress(RedisError):
                await self._apply(set(), added)
            raise RealtimeError("REG", *failure)

    async def remove(
        self,
        group: str = "1",
        items: Iterable[str] | str | None = None,
        types: Iterable[str] | str | None = None,
    ) -> None:
        """As :meth:`kiwoom.Realtime.remove`: the relay sends REMOVE for what no other
        consumer holds."""
        before = self._members(group)
        self._registry.drop(
            group,
            None if items is None else _as_list(items),
            None if types is None else _as_list(types),
        )
        removed = before - self._members(group)
        self._refresh_own()
        try:
            await self._apply(set(), removed)
            failure = await self._ask(removed)
        except RedisError as exc:
            raise RelayError(f"Redis is unreachable: {exc}") from exc
        if failure is not None:
            raise RealtimeError("REMOVE", *failure)

    def registrations(self) -> list[Registration]:
        """This consumer's registrations (``acknowledged``: those it holds through the relay)."""
        return [msgspec.structs.replace(r, acknowledged=r.items) for r in self._registry.snapshot()]

    async def _apply(self, added: set[str], removed: set[str]) -> None:
        if not (added or removed):
            return
        keys = self.keys
        await self._redis.eval(
            _keys.APPLY,
            3,
            keys.consumer(self.id),
            keys.refs,
            keys.consumers,
            self.id,
            int(self.lease * 1000),
            len(added),
            *sorted(added),
            *sorted(removed),
        )

    async def _ask(self, members: set[str]) -> tuple[int | None, str] | None:
        """Ask the relay to reconcile and wait for its answer: None, or the failure of one of
        ``members`` (code, message). Without a running relay, nothing to wait for."""
        if not members or not await self._redis.exists(self.keys.relay):
            return None
        rid = uuid.uuid4().hex
        touched = _keys.RS.join(sorted(_keys.pairs_of(members)))
        await self._redis.xadd(self.keys.requests, {"r": rid, "p": touched})
        got: Any = await self._redis.blpop([self.keys.reply(rid)], timeout=self.request_timeout)
        if got is None:
            if not await self._redis.exists(self.keys.relay):
                return None  # the relay went: the next one registers from the counts
            message = f"the relay did not answer within {self.request_timeout}s"
            raise RealtimeError("REG", None, message)
        answer = got[1].decode()
        if answer == "ok":
            return None
        code, _, message = answer.partition(_keys.US)
        return (None if code == "None" else int(code)), message

    def _refresh_own(self) -> None:
        own = {(t, i) for r in self._registry.snapshot() for t in [r.type] for i in r.items}
        self._own = own
        self._whole_types = {t for t, i in own if i == ""}
        if self._watches:  # every condition event is read; condition_events(seq) picks
            self._whole_types.add(_keys.CONDITION)
        self._every_item = all(i == "" for _, i in own)
        followed = {t for t, _ in own} | self._whole_types
        for t in [t for t in self._pos if t not in followed]:
            del self._pos[t]
            self._n.pop(t, None)

    async def _follow(self, types: list[str]) -> None:
        """Start reading the streams of newly registered types from their current end, before
        the relay registers them, so nothing the registration brings is missed."""
        added = False
        for t in types:
            if t in self._pos or not self._reading:
                continue
            last: Any = await self._redis.xrevrange(self.keys.stream(t), count=1)
            self._pos[t] = last[0][0] if last else b"0-0"
            self._n[t] = int(last[0][1][b"n"]) if last else 0
            added = True
        self._refresh_own()
        if added and self._blocking:
            # The read under way waits on the other streams (or on none yet): end it, so
            # the next one reads this type's first ticks as they come.
            async with self._redis.pipeline(transaction=False) as pipe:
                wake = self.keys.wake(self.id)
                pipe.xadd(wake, {"w": ""}, maxlen=1, approximate=False)
                pipe.pexpire(wake, int(max(self.lease, 60) * 1000))
                await pipe.execute()

    async def _beat(self) -> None:
        keys = self.keys
        while not await pause(self._stopping, self.lease / 3):
            try:
                released = await self._redis.eval(
                    _keys.HEARTBEAT, 1, keys.consumers, self.id, int(self.lease * 1000)
                )
                if released and self._registry:
                    # Taken for dead (a stall longer than the lease): hold everything again.
                    log.warning("relay consumer %s had been released: registering again", self.id)
                    members = self._members()
                    await self._apply(members, set())
                    await self._redis.xadd(keys.requests, {"p": ""})
            except RedisError as exc:
                log.warning("relay consumer heartbeat failed: %s", exc)

    # -- condition search: sent on the relay's socket --------------------------------------

    async def _call(self, trnm: str, op: dict[str, Any], members: set[str] | None = None) -> str:
        """Have the relay send a condition-search request on its socket; its raw answer."""
        try:
            if not await self._redis.exists(self.keys.relay):
                raise RealtimeError(trnm, None, "no relay is running")
            rid = uuid.uuid4().hex
            touched = _keys.RS.join(sorted(_keys.pairs_of(members or set())))
            await self._redis.xadd(
                self.keys.requests, {"r": rid, "p": touched, "c": _encoder.encode(op)}
            )
            got: Any = await self._redis.blpop([self.keys.reply(rid)], timeout=self.request_timeout)
        except RedisError as exc:
            raise RelayError(f"Redis is unreachable: {exc}") from exc
        if got is None:
            raise RealtimeError(
                trnm, None, f"the relay did not answer within {self.request_timeout}s"
            )
        answer: str = got[1].decode()
        code, _, rest = answer.partition(_keys.US)
        if code != "ok":
            raise RealtimeError(trnm, None if code == "None" else int(code), rest)
        return rest

    async def conditions(self) -> Any:
        """As :meth:`kiwoom.Realtime.conditions` (ka10171), on the relay's socket."""
        return self._rt._condition_entry(0).decode(await self._call("CNSRLST", {"op": "list"}))

    async def condition_search(
        self,
        seq: str,
        *,
        stex_tp: str = "K",
        cont_yn: str | None = None,
        next_key: str | None = None,
    ) -> Any:
        """As :meth:`kiwoom.Realtime.condition_search` (ka10172), on the relay's socket."""
        op = {"op": "search", "seq": seq, "stex_tp": stex_tp}
        op |= {k: v for k, v in (("cont_yn", cont_yn), ("next_key", next_key)) if v is not None}
        return self._rt._condition_entry(1).decode(await self._call("CNSRREQ", op))

    async def watch_condition(self, seq: str, *, stex_tp: str = "K") -> Any:
        """As :meth:`kiwoom.Realtime.watch_condition` (ka10173): the current matches, then the
        events in :meth:`condition_events`. Watches are counted per seq like registrations:
        the relay stops it on its socket when the last watcher lets go."""
        mine = {_watch_member(seq)}
        try:
            await self._redis.hset(self.keys.conditions, seq, stex_tp)
            self._watches[seq] = stex_tp
            await self._follow([_keys.CONDITION])
            await self._apply(mine, set())
        except RedisError as exc:
            self._watches.pop(seq, None)
            self._refresh_own()
            raise RelayError(f"Redis is unreachable: {exc}") from exc
        try:
            raw = await self._call("CNSRREQ", {"op": "watch", "seq": seq, "stex_tp": stex_tp}, mine)
        except RealtimeError:
            self._watches.pop(seq, None)
            self._refresh_own()
            with contextlib.suppress(RedisError):
                await self._apply(set(), mine)
            raise
        return self._rt._condition_entry(2).decode(raw)

    async def stop_condition(self, seq: str) -> Any:
        """As :meth:`kiwoom.Realtime.stop_condition` (ka10174): the socket's answer when this
        was the last watcher of ``seq``, otherwise the relay's (return_code 0)."""
        mine = {_watch_member(seq)}
        self._watches.pop(seq, None)
        self._refresh_own()
        try:
            await self._apply(set(), mine)
        except RedisError as exc:
            raise RelayError(f"Redis is unreachable: {exc}") from exc
        raw = await self._call("CNSRCLR", {"op": "stop", "seq": seq}, mine)
        return self._rt._condition_entry(3).decode(raw)

    def condition_events(self, seq: str | None = None, *, maxsize: int | None = None) -> Any:
        """As :meth:`kiwoom.Realtime.condition_events`: type ``02`` ticks of the watched
        conditions (of ``seq`` only, when given)."""
        return self._rt.condition_events(seq, maxsize=maxsize)

    # -- reading ---------------------------------------------------------------------------

    async def _read(self) -> None:
        keys, process = self.keys, self._rt.process
        wake = keys.wake(self.id).encode()
        while not self._stopping.is_set():
            # The streams followed, and this consumer's wake stream: a new type ends the
            # read (see _follow), with nothing followed yet too.
            streams: Any = {keys.stream(t): p for t, p in self._pos.items()}
            streams[wake] = self._wake_pos
            self._blocking = True
            try:
                got: Any = await self._redis.xread(
                    streams, count=_keys.READ_ENTRIES, block=max(1, int(self.block * 1000))
                )
            except RedisError as exc:
                self._redis_errors += 1
                if self._redis_errors <= 10 or self._redis_errors % 1000 == 0:
                    log.warning("reading the relay's streams failed: %s", exc)
                await asyncio.sleep(self.block)
                continue
            finally:
                self._blocking = False
            for stream, entries in got or []:
                if stream == wake:
                    self._wake_pos = entries[-1][0]
                    continue
                t = keys.type_of(stream)
                if t not in self._pos:
                    continue  # removed while the read was under way
                for entry_id, fields in entries:
                    try:
                        frames = self._entry(t, entry_id, fields)
                    except (KeyError, ValueError, TypeError, UnicodeError) as exc:
                        self._pos[t] = entry_id  # skipped: never the end of the reading
                        self._bad_entries += 1
                        if self._bad_entries <= 10 or self._bad_entries % 1000 == 0:
                            log.warning("skipped entry %r of the %s stream: %r", entry_id, t, exc)
                        continue
                    for frame in frames:
                        process(frame)
                    # Consumers take each entry's ticks before the next: a socket's reader
                    # yields between frames too, and queues would overflow otherwise.
                    await asyncio.sleep(0)

    def _entry(self, tick_type: str, entry_id: bytes, fields: dict[bytes, bytes]) -> list[bytes]:
        """Account for one entry (gaps, lost items); the parts of its frames this consumer
        registered."""
        self._pos[tick_type] = entry_id
        n, k, epoch = int(fields[b"n"]), int(fields[b"k"]), int(fields[b"e"])
        first = n - k
        last = self._n.get(tick_type)
        if last is not None and first > last:
            self._lost[tick_type] = self._lost.get(tick_type, 0) + first - last
        self._n[tick_type] = n
        if self._epoch is None or epoch > self._epoch:
            if self._epoch is not None:
                self._gaps += 1
            self._epoch = epoch
        frames = fields[b"f"].split(_RS)
        if self._every_item or tick_type in self._whole_types:
            return frames
        if b"i" not in fields or fields[b"i"].count(_RS) != len(frames) - 1:
            return [mine for raw in frames if (mine := self._mine(raw)) is not None]
        own = self._own
        out = []
        for raw, codes in zip(frames, fields[b"i"].split(_RS), strict=True):
            held = [(tick_type, code) in own for code in codes.decode().split(_keys.US)]
            if all(held):
                out.append(raw)
            elif any(held):
                mine = self._mine(raw)
                if mine is not None:
                    out.append(mine)
        return out

    def _mine(self, raw: bytes) -> bytes | None:
        """The part of a frame of some items (this consumer's and others') that is its own."""
        try:
            frame = decode_frame(raw)
        except MALFORMED:
            return raw  # the socket runtime counts it
        if type(frame) is not Real:
            return raw
        own, whole = self._own, self._whole_types
        kept = [it for it in frame.data if it.type in whole or (it.type, it.item) in own]
        if len(kept) == len(frame.data):
            return raw
        if not kept:
            return None
        return _encoder.encode(Real(data=kept))

    # -- consumption: the socket runtime's own -----------------------------------------------

    if TYPE_CHECKING:
        stream: StreamMethod
        on: OnMethod
    else:

        @property
        def stream(self) -> Callable[..., Any]:
            """As :meth:`kiwoom.Realtime.stream`: typed ticks of the registered items."""
            return self._rt.stream

        @property
        def on(self) -> Callable[..., Any]:
            """As :meth:`kiwoom.Realtime.on`: a callback per tick."""
            return self._rt.on

    def on_raw(
        self, callback: Callable[[str | bytes], Any], *, maxsize: int | None = None
    ) -> StopRaw:
        """As :meth:`kiwoom.Realtime.on_raw`: ``callback(frame)`` with the bytes of every
        ``REAL`` frame of this consumer's registrations, as the relay's socket received it (a
        frame that also carried other consumers' items arrives re-encoded with only this
        consumer's). Control frames (PING, REG answers) stay on the relay's socket."""
        return self._rt.on_raw(callback, maxsize=maxsize)

    def stats(self) -> RelayClientStats:
        """The socket runtime's counters and the relay's (``gaps``, ``lost``)."""
        s = self._rt.stats()
        return RelayClientStats(
            **msgspec.structs.asdict(s),
            gaps=self._gaps,
            lost=dict(self._lost),
            redis_errors=self._redis_errors,
            bad_entries=self._bad_entries,
        )


def _watch_member(seq: str) -> str:
    """A condition watch, counted as the pair (02, seq) in a group of its own."""
    return member("", _keys.CONDITION, seq)


def _as_list(values: Iterable[str] | str) -> list[str]:
    return [values] if isinstance(values, str) else list(values)
