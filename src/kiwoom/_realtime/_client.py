"""The real-time socket: login, registrations, condition search, reconnects and a watchdog.

>>> async with kiwoom.Realtime(token) as rt:
...     await rt.register(["005930", "000660"], ["0B"], group="1")
...     async for tick in rt.stream("0B"):
...         tick.item, tick.values.cur_prc          # ('005930', 60700)

One task reads the socket and never waits for a consumer (see ``_dispatch`` for the queue
policy). When the connection drops, or goes silent while subscriptions are active, the client
reconnects with capped exponential backoff and jitter, logs in again (asking ``refresh_token``
for a new token if the login is rejected), registers every wanted registration again and
restarts every condition watch, then calls ``on_reconnect``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

import msgspec
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from .. import catalog
from .._errors import InvalidRequestError, KiwoomError
from . import _defaults
from ._dispatch import Dispatcher, Stats, StopRaw, Stream, Subscription, Tick, Typed
from ._frames import (
    MALFORMED,
    Control,
    Head,
    Login,
    Ping,
    System,
    decode_frame,
    encode,
    return_code,
)
from ._frames import trnm_of as _trnm_of
from ._registry import Registration, Registry

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from .._generated._realtime_typing import OnMethod, StreamMethod

__all__ = ["LoginError", "Realtime", "RealtimeError", "ReconnectInfo"]

log = logging.getLogger("kiwoom.realtime")


class _HideLogin(logging.Filter):
    """websockets logs frames at DEBUG level; the LOGIN frame carries the token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "LOGIN" not in record.getMessage()


_socket_log = logging.getLogger("kiwoom.realtime.websockets")
_socket_log.addFilter(_HideLogin())

Token = str | Callable[[], str | Awaitable[str]]
"""A token, or a function (sync or async) returning the current one."""

CONDITION_EVENT = "02"
"""The ``REAL`` type of condition-search events (조건검색 실시간 편입/이탈)."""

# Condition-search API ids per socket: list, one-shot, real-time, stop.
_CONDITION_IDS = {
    "domestic": ("ka10171", "ka10172", "ka10173", "ka10174"),
    "us": ("usa20280", "usa20281", "usa20290", "usa20291"),
}


class RealtimeError(KiwoomError):
    """A socket request failed: rejected (``code`` is Kiwoom's return code) or unanswered."""

    def __init__(self, trnm: str, code: int | None, message: str) -> None:
        self.trnm = trnm
        self.code = code
        self.message = message
        where = f"{trnm} rejected (return_code {code})" if code is not None else trnm
        super().__init__(f"{where}: {message}")


class LoginError(RealtimeError):
    """The server rejected the LOGIN (after one token refresh, when ``refresh_token`` is given)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__("LOGIN", code, message)


class ReconnectInfo(msgspec.Struct):
    """Passed to ``on_reconnect`` once a lost connection is back and restored."""

    attempts: int
    """Connection attempts it took."""
    downtime: float
    """Seconds from the loss to the restored login."""
    registrations: list[Registration]
    """Every registration, as acknowledged again."""
    conditions: dict[str, Any]
    """Condition seq -> the fresh answer of its real-time request (the current matches: events
    of the downtime were missed, this is the state to resynchronise from)."""


def _abort(ws: Any) -> None:
    """Drop a connection at once, without a closing handshake (a silent peer would not answer)."""
    transport = getattr(ws, "transport", None)
    if transport is not None:
        transport.abort()
    else:
        asyncio.get_running_loop().create_task(ws.close())


class Realtime:
    """Kiwoom's real-time WebSocket: typed ticks, registrations and condition search.

    ``token`` is the access token (au10001), or a function (sync or async) returning the current
    one. ``refresh_token`` (async) is asked for a new token when a login is rejected. ``url``
    chooses the socket (``DOMESTIC_URL``, ``DOMESTIC_MOCK_URL``, ``US_URL`` or any ``ws://``).
    ``on_reconnect`` (sync or async) receives a :class:`ReconnectInfo` after each restore.

    Timings (seconds) and limits default to ``kiwoom._realtime._defaults``. ``connect_options``
    go to ``websockets.connect``; per-message deflate is not offered unless
    ``{"compression": "deflate"}`` asks for it.

    ``relay`` (a Redis URL or ``redis.asyncio.Redis``; extra ``kiwoom[redis]``): once connected
    this socket also serves as the relay (:class:`kiwoom.relay.Relay`, with ``relay_options``):
    every ``REAL`` frame is published for :class:`kiwoom.relay.RelayClient` consumers, and their
    registrations and this client's own are counted together into the one socket's REG/REMOVE.
    Its own ``stream``/``on`` then see every item the socket carries (pass ``codes`` to narrow).
    """

    def __init__(
        self,
        token: Token,
        *,
        url: str = _defaults.DOMESTIC_URL,
        refresh_token: Callable[[], Awaitable[str]] | None = None,
        on_reconnect: Callable[[ReconnectInfo], Any] | None = None,
        reconnect: bool = True,
        backoff_initial: float = _defaults.BACKOFF_INITIAL,
        backoff_max: float = _defaults.BACKOFF_MAX,
        backoff_jitter: float = _defaults.BACKOFF_JITTER,
        stable_after: float = _defaults.STABLE_AFTER,
        watchdog: float | None = _defaults.WATCHDOG,
        request_timeout: float = _defaults.REQUEST_TIMEOUT,
        queue_size: int = _defaults.QUEUE_SIZE,
        connect_options: dict[str, Any] | None = None,
        relay: str | aioredis.Redis | None = None,
        relay_options: dict[str, Any] | None = None,
    ) -> None:
        self.url = url
        self.region = "us" if "/api/us/" in url else "domestic"
        self._token = token
        self._refresh_token = refresh_token
        self.on_reconnect = on_reconnect
        self.reconnect = reconnect
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.backoff_jitter = backoff_jitter
        self.stable_after = stable_after
        self.watchdog = watchdog
        self.request_timeout = request_timeout
        self.queue_size = queue_size
        self._connect_options = connect_options or {}
        self._relay_to = relay
        self._relay_options = relay_options or {}
        self._relay: Any = None  # the Relay serving from this socket, and the client holding
        self._relay_client: Any = None  # this process's own registrations in its counts

        self._dispatcher = Dispatcher(
            self._decoder_for,
            self._typed_for,
            tuple(e.api_id for e in catalog.entries("realtime")),
            _name_of,
        )
        self._registry = Registry()
        self._conditions: dict[str, str] = {}  # seq -> stex_tp of every real-time condition watch
        self._stats = Stats()
        self._ws: Any = None
        self._pending: dict[str, deque[asyncio.Future[tuple[Control | Head, str]]]] = {}
        self._lock: asyncio.Lock | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._watchdog_task: asyncio.Task[None] | None = None
        self._closing = False
        self._failure: BaseException | None = None

    def __repr__(self) -> str:
        state = "connected" if self._ws is not None else "closed" if self._closing else "offline"
        return f"<Realtime {self.url} {state}>"

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> Realtime:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        """Connect and log in; raises :class:`LoginError` if the token is rejected.

        Registrations and condition watches made before are sent once logged in.
        """
        if self._closing:
            raise RealtimeError("connect", None, "this client is closed: make a new one")
        if self._supervisor is not None:
            return
        self._lock = asyncio.Lock()
        try:
            ws = self._ws = await self._open()
        except (OSError, TimeoutError, WebSocketException) as exc:
            # The first connection is the caller's to retry: say why, as a KiwoomError.
            raise RealtimeError(
                "connect", None, f"{self.url}: {type(exc).__name__}: {exc}"
            ) from exc
        self._supervisor = asyncio.get_running_loop().create_task(
            self._supervise(ws), name="kiwoom-realtime"
        )
        if self.watchdog:
            self._watchdog_task = asyncio.get_running_loop().create_task(
                self._watch(self.watchdog), name="kiwoom-realtime-watchdog"
            )
        if self._relay_to is not None:
            try:
                await self._start_relay()
            except BaseException:
                await self.close()
                raise
            return
        # What was registered before connecting is sent now, before the caller goes on.
        await self._restore(None)

    async def _start_relay(self) -> None:
        from ..relay._client import RelayClient
        from ..relay._relay import Relay

        redis = self._relay_to
        assert redis is not None
        wanted, self._registry = self._registry.snapshot(), Registry()
        options = self._relay_options
        self._relay = Relay(self, redis, **options)
        await self._relay.start()
        ns = {"namespace": options["namespace"]} if "namespace" in options else {}
        self._relay_client = RelayClient(redis, read=False, **ns)
        await self._relay_client.connect()
        for r in wanted:  # registered before connecting: now counted with the consumers'
            await self._relay_client.register(list(r.items), [r.type], group=r.group)

    async def close(self) -> None:
        """Close the socket cleanly; streams end, callbacks finish what is queued."""
        relay, holder, self._relay, self._relay_client = self._relay, self._relay_client, None, None
        if holder is not None:
            await holder.close()  # this process lets go of its registrations
        if relay is not None:
            await relay.detach()
        self._closing = True
        if self._watchdog_task is not None:
            self._watchdog_task.cancel()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        elif self._supervisor is not None:
            self._supervisor.cancel()  # between connections: stop waiting for the next one
        if self._supervisor is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        await self._dispatcher.close(self._failure)

    async def wait_closed(self) -> None:
        """Wait until the client is closed; raises the failure that closed it, if any."""
        if self._supervisor is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        await self._dispatcher.finished()
        if self._failure is not None:
            raise self._failure

    @property
    def connected(self) -> bool:
        """True while logged in on a live socket."""
        return self._ws is not None

    async def _current_token(self) -> str:
        token = self._token
        if isinstance(token, str):
            return token
        value = token()
        if inspect.isawaitable(value):
            value = await value
        return value

    async def _open(self) -> Any:
        """A new logged-in connection (one token refresh on rejection)."""
        token = await self._current_token()
        refreshed = False
        while True:
            options = {
                "open_timeout": self.request_timeout,
                "close_timeout": self.request_timeout,
                "max_size": 2**22,
                "compression": _defaults.COMPRESSION,
                "logger": _socket_log,
                **self._connect_options,
            }
            ws = await connect(self.url, **options)
            try:
                code, message = await self._login(ws, token)
            except BaseException:
                _abort(ws)
                raise
            if code == 0:
                self._stats.connects += 1
                return ws
            with contextlib.suppress(Exception):
                await ws.close()
            if self._refresh_token is None or refreshed:
                raise LoginError(code, message)
            log.info("LOGIN rejected (return_code %s): refreshing the token", code)
            token = await self._refresh_token()
            refreshed = True
            if isinstance(self._token, str):
                self._token = token

    async def _login(self, ws: Any, token: str) -> tuple[int, str]:
        await ws.send(encode({"trnm": "LOGIN", "token": token}))
        async with asyncio.timeout(self.request_timeout):
            while True:
                raw = await ws.recv()
                self._stats.frames += 1
                try:
                    frame = decode_frame(raw)
                except MALFORMED:
                    self._malformed(raw)
                    continue
                if isinstance(frame, Login):
                    return return_code(frame), frame.return_msg
                if isinstance(frame, Ping):
                    self._stats.pings += 1
                    await ws.send(raw)
                elif isinstance(frame, System):
                    log.info("SYSTEM %s %s", frame.code, frame.message or frame.return_msg)

    async def _supervise(self, ws: Any) -> None:
        loop = asyncio.get_running_loop()
        attempts = 0
        info: tuple[int, float] | None = None  # (attempts, loss time) after a reconnect
        while True:
            self._ws = ws
            connected_at = loop.time()
            restore = (
                None
                if info is None
                else loop.create_task(self._restore(info), name="kiwoom-realtime-restore")
            )
            try:
                await self._read(ws)
            finally:
                self._ws = None
                if restore is not None:
                    restore.cancel()
                self._lost()
            if self._closing or not self.reconnect:
                # Not waiting for the callbacks here: one of them may be the caller of
                # close(), which waits for this task (close() waits for them itself).
                await self._dispatcher.close(self._failure, wait=False)
                return
            lost_at = loop.time()
            if lost_at - connected_at >= self.stable_after:
                attempts = 0
            tries = 0
            while True:
                delay = min(self.backoff_max, self.backoff_initial * 2 ** min(attempts, 32))
                delay *= 1 - self.backoff_jitter * random.random()
                attempts += 1
                tries += 1
                log.info("real-time socket lost; reconnecting in %.2fs (attempt %d)", delay, tries)
                await asyncio.sleep(delay)
                if self._closing:
                    return
                try:
                    ws = await self._open()
                except LoginError as exc:
                    log.error("real-time socket closed: %s", exc)
                    self._failure = exc
                    self._closing = True
                    await self._dispatcher.close(exc, wait=False)
                    return
                except Exception as exc:  # refused, timed out, a failing token provider, ...
                    log.warning("reconnect attempt %d failed: %r", tries, exc)
                    continue
                break
            self._stats.reconnects += 1
            info = (tries, lost_at)

    def _lost(self) -> None:
        self._registry.unacknowledge_all()
        for futures in self._pending.values():
            while futures:
                fut = futures.popleft()
                if not fut.done():
                    fut.set_exception(RealtimeError("socket", None, "connection lost"))

    async def _read(self, ws: Any) -> None:
        process = self.process
        turn = _defaults.READ_TURN
        n = 0
        try:
            while True:
                # Bytes, not text: msgspec reads UTF-8 itself, faster than decoding it first.
                raw = await ws.recv(decode=False)
                if process(raw):
                    # A PING: echoed unchanged, as Kiwoom requires (a text frame, as it came).
                    await ws.send(raw if isinstance(raw, str) else raw.decode())
                n += 1
                if n == turn:
                    # recv() does not yield while frames are buffered: in a burst, give the
                    # consumers their turn now, while their ticks are still in the CPU's cache.
                    n = 0
                    await asyncio.sleep(0)
        except ConnectionClosed as exc:
            if not self._closing:
                log.warning("real-time socket closed: %s", exc)
        except Exception:
            if not self._closing:
                log.exception("real-time socket failed")

    def process(self, raw: str | bytes) -> bool:
        """Handle one received frame as the receive loop does; True for a PING to echo.

        The receive loop's whole per-frame path, public for replays and benchmarks.
        """
        stats = self._stats
        stats.frames += 1
        dispatcher = self._dispatcher
        if dispatcher.has_raw:
            dispatcher.dispatch_raw(raw)
        stripped = dispatcher.stripped
        if stripped is not None:  # the common case, a REAL frame of typed values: inline
            ticks = stripped.fast(raw)
            if ticks is None:
                ticks = stripped.decode(raw)
            if ticks is not None:
                dispatcher.dispatch_ready(ticks)
                return False
        try:
            frame = dispatcher.handle(raw) if stripped is None else dispatcher.handle_as_sent(raw)
        except MALFORMED:
            self._malformed(raw)
            return False
        if frame is None:
            return False
        if type(frame) is Ping:
            stats.pings += 1
            return True
        self._control(frame, raw)
        return False

    def _malformed(self, raw: str | bytes) -> None:
        self._stats.malformed_frames += 1
        n = self._stats.malformed_frames
        if n <= 10 or n % 1000 == 0:
            log.warning("skipped a malformed frame (%d so far): %.80r", n, raw)

    def _control(self, frame: Control | Head, raw: str | bytes) -> None:
        trnm = _trnm_of(frame)
        futures = self._pending.get(trnm)
        if futures:
            fut = futures.popleft()
            if not fut.done():
                text = raw if isinstance(raw, str) else raw.decode()
                fut.set_result((frame, text))
        elif isinstance(frame, System):
            log.info("SYSTEM %s %s", frame.code, frame.message or frame.return_msg)
        else:
            log.debug("unsolicited %s frame: %.80r", trnm, raw)

    async def _watch(self, limit: float) -> None:
        # The receive loop counts frames (``stats.frames``) and reads no clock: the watchdog
        # notes when the count, or the connection, last changed. Silence is seen within
        # limit / 4, as when each frame was timed.
        loop = asyncio.get_running_loop()
        seen: tuple[Any, int] = (None, -1)
        changed_at = loop.time()
        while not self._closing:
            await asyncio.sleep(limit / 4)
            ws, now = self._ws, loop.time()
            if (ws, self._stats.frames) != seen:
                seen, changed_at = (ws, self._stats.frames), now
                continue
            if ws is None or not (self._registry or self._conditions):
                continue
            if now - changed_at > limit:
                self._stats.watchdog_trips += 1
                log.warning("real-time socket silent for over %.1fs: reconnecting", limit)
                changed_at = now
                _abort(ws)

    async def _restore(self, info: tuple[int, float] | None) -> None:
        """Register every wanted registration and condition watch on a fresh connection."""
        try:
            for group in self._registry.groups():
                for items, types in self._registry.batches(group):
                    await self._send_reg(group, items, types, replace=False)
            conditions = {}
            for seq, stex_tp in list(self._conditions.items()):
                conditions[seq] = await self._condition_request(seq, "1", stex_tp)
        except RealtimeError as exc:
            if exc.code is None:
                return  # the connection went again; the next one restores
            log.error("restoring subscriptions after a reconnect failed: %s", exc)
            return
        if info is None or self.on_reconnect is None:
            return
        attempts, lost_at = info
        downtime = asyncio.get_running_loop().time() - lost_at
        event = ReconnectInfo(attempts, downtime, self._registry.snapshot(), conditions)
        try:
            result = self.on_reconnect(event)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("on_reconnect hook failed")

    # -- requests --------------------------------------------------------------------------

    async def _request(self, trnm: str, message: dict[str, Any] | msgspec.Struct) -> str:
        """Send one request and wait for its answer (answers come back in request order)."""
        if self._lock is None:
            raise RealtimeError(trnm, None, "not connected: call connect() first")
        async with self._lock:
            ws = self._ws
            if ws is None:
                raise RealtimeError(trnm, None, "not connected")
            fut: asyncio.Future[tuple[Control | Head, str]] = (
                asyncio.get_running_loop().create_future()
            )
            futures = self._pending.setdefault(trnm, deque())
            futures.append(fut)
            try:
                await ws.send(encode(message))
                async with asyncio.timeout(self.request_timeout):
                    frame, raw = await fut
            except TimeoutError:
                raise RealtimeError(
                    trnm, None, f"no answer within {self.request_timeout}s"
                ) from None
            except ConnectionClosed:
                raise RealtimeError(trnm, None, "connection lost") from None
            finally:
                if fut in futures:
                    futures.remove(fut)
        code = return_code(frame)
        if code != 0:
            raise RealtimeError(trnm, code, frame.return_msg)
        return raw

    async def _send_reg(
        self, group: str, items: list[str], types: list[str], replace: bool
    ) -> None:
        message = {
            "trnm": "REG",
            "grp_no": group,
            "refresh": "0" if replace else "1",
            "data": [{"item": items, "type": types}],
        }
        await self._request("REG", message)
        self._registry.ack(group, items, types)

    async def register(
        self,
        items: Iterable[str] | str,
        types: Iterable[str] | str,
        *,
        group: str = "1",
        replace: bool = False,
    ) -> None:
        """Register real-time ``types`` (``0B``, ``0D``, ...) for ``items`` (codes) in a group.

        ``replace=True`` sends ``refresh "0"``: the group's earlier registrations are dropped;
        otherwise (``refresh "1"``) they are kept. At most 100 items per call
        (:class:`InvalidRequestError` before anything is sent); a group may grow past 100 over
        several calls, and is re-registered after a reconnect in requests of 100.
        Types ``00`` (orders) and ``04`` (balance) need no item: pass ``[]``.

        Raises :class:`RealtimeError` if the server rejects it. While the socket is down the
        registration is recorded and sent on reconnect.
        """
        if self._relay_client is not None:
            await self._relay_client.register(items, types, group=group, replace=replace)
            return
        await self._register(items, types, group, replace)

    async def _register(
        self, items: Iterable[str] | str, types: Iterable[str] | str, group: str, replace: bool
    ) -> None:
        item_list = _as_list(items) or [""]
        type_list = _as_list(types)
        self._check_types(type_list, allow_events=False)
        if len(item_list) > _defaults.MAX_ITEMS_PER_REGISTRATION:
            raise InvalidRequestError(
                "REG",
                "item",
                f"{len(item_list)} items, at most {_defaults.MAX_ITEMS_PER_REGISTRATION} per"
                " registration: split them over several calls or groups",
            )
        self._registry.want(group, item_list, type_list, replace)
        if self._ws is None:
            return
        try:
            await self._send_reg(group, item_list, type_list, replace)
        except RealtimeError as exc:
            if exc.code is None and self.reconnect and not self._closing:
                return  # the connection went: the restore after reconnect sends it
            self._registry.drop(group, item_list, type_list)
            raise

    async def remove(
        self,
        group: str = "1",
        items: Iterable[str] | str | None = None,
        types: Iterable[str] | str | None = None,
    ) -> None:
        """Stop real-time data of a whole group, or of some items (and types) in it."""
        if self._relay_client is not None:
            await self._relay_client.remove(group, items, types)
            return
        await self._remove(group, items, types)

    async def _remove(
        self,
        group: str,
        items: Iterable[str] | str | None,
        types: Iterable[str] | str | None,
    ) -> None:
        item_list = None if items is None else _as_list(items)
        type_list = None if types is None else _as_list(types)
        wanted = self._registry.group(group)
        if item_list is None and type_list is None:
            batches = list(self._registry.batches(group))
        else:
            ts = type_list if type_list is not None else list(wanted)
            its = (
                item_list
                if item_list is not None
                else sorted({i for t in ts for i in wanted.get(t, [])})
            )
            batches = [
                (its[i : i + _defaults.MAX_ITEMS_PER_REGISTRATION], ts)
                for i in range(0, len(its), _defaults.MAX_ITEMS_PER_REGISTRATION)
            ]
        self._registry.drop(group, item_list, type_list)
        if self._ws is None:
            return
        for its, ts in batches:
            message = {
                "trnm": "REMOVE",
                "grp_no": group,
                "refresh": "1",
                "data": [{"item": its, "type": ts}],
            }
            try:
                await self._request("REMOVE", message)
            except RealtimeError as exc:
                if exc.code is None:
                    return  # the connection went: a fresh one has nothing registered
                raise

    def registrations(self) -> list[Registration]:
        """Every registration: what is wanted and what the server acknowledged (with ``relay``:
        this process's own, held through the relay)."""
        if self._relay_client is not None:
            return list(self._relay_client.registrations())
        return self._registry.snapshot()

    # -- condition search ------------------------------------------------------------------

    def _condition_entry(self, which: int) -> catalog.Entry:
        return catalog.get(_CONDITION_IDS[self.region][which])

    async def conditions(self) -> Any:
        """The saved condition formulas (ka10171 / usa20280 ``CNSRLST``): ``.data`` rows."""
        return self._condition_entry(0).decode(await self._condition(0))

    async def _condition(
        self,
        which: int,
        seq: str = "",
        stex_tp: str = "K",
        cont_yn: str | None = None,
        next_key: str | None = None,
    ) -> str:
        """The raw answer of condition request ``which``: 0 list, 1 search, 2 watch, 3 stop."""
        entry = self._condition_entry(which)
        body: dict[str, Any]
        if which == 0:
            body = {"trnm": "CNSRLST"}
        elif which == 3:
            body = {"trnm": "CNSRCLR", "seq": seq}
        else:
            body = {"trnm": "CNSRREQ", "seq": seq, "search_type": "0" if which == 1 else "1"}
            if self.region == "domestic":
                body["stex_tp"] = stex_tp
            if cont_yn is not None:
                body["cont_yn"] = cont_yn
            if next_key is not None:
                body["next_key"] = next_key
        return await self._request(body["trnm"], entry.build_request(body))

    async def _condition_request(
        self,
        seq: str,
        search_type: str,
        stex_tp: str,
        cont_yn: str | None = None,
        next_key: str | None = None,
    ) -> Any:
        which = 1 if search_type == "0" else 2
        raw = await self._condition(which, seq, stex_tp, cont_yn, next_key)
        return self._condition_entry(which).decode(raw)

    async def condition_search(
        self,
        seq: str,
        *,
        stex_tp: str = "K",
        cont_yn: str | None = None,
        next_key: str | None = None,
    ) -> Any:
        """One search of condition ``seq`` (ka10172 / usa20281, ``search_type`` 0): the matches.

        Paging: pass the answer's ``cont_yn="Y"`` and ``next_key`` to get the next page.
        """
        return await self._condition_request(seq, "0", stex_tp, cont_yn, next_key)

    async def watch_condition(self, seq: str, *, stex_tp: str = "K") -> Any:
        """Search condition ``seq`` and keep it live (ka10173 / usa20290, ``search_type`` 1).

        Returns the current matches; then every stock entering (``I``) or leaving (``D``) comes
        as a type ``02`` tick (see :meth:`condition_events`). Restarted after a reconnect.
        """
        if self._relay_client is not None:  # counted with the relay's consumers' watches
            return await self._relay_client.watch_condition(seq, stex_tp=stex_tp)
        self._conditions[seq] = stex_tp
        try:
            return await self._condition_request(seq, "1", stex_tp)
        except RealtimeError:
            del self._conditions[seq]
            raise

    async def stop_condition(self, seq: str) -> Any:
        """Stop the live condition ``seq`` (ka10174 / usa20291, ``CNSRCLR``)."""
        if self._relay_client is not None:
            return await self._relay_client.stop_condition(seq)
        self._conditions.pop(seq, None)
        return self._condition_entry(3).decode(await self._condition(3, seq))

    def condition_events(
        self, seq: str | None = None, *, maxsize: int | None = None
    ) -> Stream[Any]:
        """Stream of condition events (type ``02``; ``values``: seq, stk_cd, fid_843 I/D, time)."""
        predicate = None if seq is None else (lambda t: t.values.seq == seq)
        return self._dispatcher.stream(
            frozenset({CONDITION_EVENT}), None, predicate, maxsize or self.queue_size
        )

    # -- consumption -----------------------------------------------------------------------

    def _stream(
        self,
        types: Iterable[str] | str,
        codes: Iterable[str] | str | None = None,
        *,
        maxsize: int | None = None,
        wire: bool = False,
    ) -> Stream[Any]:
        """An async iterator of typed ticks of ``types`` (for ``codes`` only, when given).

        It consumes what registrations bring; it does not register by itself. ``wire=True``:
        ``tick.values`` is the wire Struct (``Real0BWire``: every value the string Kiwoom sent,
        no conversion), for consumers that parse only a few fields themselves.
        """
        type_list = _as_list(types)
        self._check_types(type_list, allow_events=not wire)
        return self._dispatcher.stream(
            frozenset(type_list), _codes(codes), None, maxsize or self.queue_size, wire
        )

    def _on(
        self,
        types: Iterable[str] | str,
        callback: Callable[[Tick[Any]], Any],
        codes: Iterable[str] | str | None = None,
        *,
        maxsize: int | None = None,
        wire: bool = False,
        thread: bool | None = None,
    ) -> Subscription:
        """Call ``callback(tick)`` for every tick of ``types`` (for ``codes`` only, when given).

        An ``async def`` callback runs in its own task. A plain one, by default, is called on
        the loop with each frame's ticks (no thread hop per tick); once its calls take over
        1 ms each (``_defaults.INLINE_CALLBACK_LIMIT``, three frames in a row) it moves to a
        worker thread for good, so a slow one stalls the receive loop only for those frames.
        ``thread=True``: in a thread of its own from the first tick, for a callback that blocks
        (I/O, a sync order call): the receive loop never waits for it, and its ticks go in
        batches (one thread hop per loop turn's ticks). ``thread=False``: on the loop for good,
        however slow. In order, every tick. A raising callback is logged and counted
        (``callback_errors``) and keeps being called. ``await handle.aclose()`` stops it.
        ``wire=True`` hands over the wire Struct, as :meth:`stream` does.
        """
        type_list = _as_list(types)
        self._check_types(type_list, allow_events=not wire)
        if thread is not None and inspect.iscoroutinefunction(callback):
            raise InvalidRequestError(
                "REG", "thread", "an async def callback runs in its own task, not in a thread"
            )
        return self._dispatcher.callback(
            callback,
            frozenset(type_list),
            _codes(codes),
            None,
            maxsize or self.queue_size,
            wire,
            thread,
        )

    # Type checkers see one overload per real-time type (``rt.stream("0B")`` yields
    # ``Tick[Real0B]``); the signatures are generated from the catalogue.
    if TYPE_CHECKING:
        stream: StreamMethod
        on: OnMethod
    else:
        stream = _stream
        on = _on

    def on_raw(
        self, callback: Callable[[str | bytes], Any], *, maxsize: int | None = None
    ) -> StopRaw:
        """Call ``callback(frame)`` with every frame exactly as received, every ``trnm``: the
        UTF-8 bytes of the text frame (the socket is read without decoding it to ``str``).

        Returns an async function that stops it: ``await stop()`` drops the frames not given
        to the callback yet, ``await stop(drain=True)`` gives them first (after
        :meth:`close`, nothing is lost). Drops beyond ``maxsize`` count in
        ``stats().raw_dropped``.
        """
        return self._dispatcher.raw_callback(callback, maxsize or self.queue_size)

    def stats(self) -> Stats:
        """A snapshot of every counter (frames, reconnects, per-type received/dispatched/...)."""
        s = self._stats
        return Stats(
            connects=s.connects,
            reconnects=s.reconnects,
            frames=s.frames,
            malformed_frames=s.malformed_frames,
            pings=s.pings,
            watchdog_trips=s.watchdog_trips,
            raw_dropped=self._dispatcher.raw_dropped,
            types={t: msgspec.structs.replace(c) for t, c in self._dispatcher.counters.items()},
        )

    # -- decoding --------------------------------------------------------------------------

    def _check_types(self, types: list[str], *, allow_events: bool) -> None:
        if not types:
            raise InvalidRequestError("REG", "type", "at least one real-time type is needed")
        for t in types:
            if allow_events and t == CONDITION_EVENT:
                continue
            try:
                ok = catalog.get(t).kind == "realtime"
            except KeyError:
                ok = False
            if not ok:
                known = ", ".join(e.api_id for e in catalog.entries("realtime"))
                raise InvalidRequestError("REG", "type", f"{t!r} is not a real-time type ({known})")

    def _typed_for(self, tick_type: str) -> Typed | None:
        try:
            entry = catalog.get(tick_type)
        except KeyError:
            return None
        if entry.kind != "realtime":
            return None
        return Typed(entry.wire_type, entry.convert, entry.decode_wire, entry.response_type)

    def _decoder_for(self, tick_type: str) -> Callable[[msgspec.Raw], Any] | None:
        if tick_type == CONDITION_EVENT:
            entry = catalog.get(_CONDITION_IDS["domestic"][2])

            def decode_event(raw: msgspec.Raw) -> Any:
                # The event's values are ka10173's data[].values: decode them through the entry.
                body = b'{"data":[{"values":' + bytes(raw) + b"}]}"
                return entry.decode(body).data[0].values

            return decode_event
        try:
            entry = catalog.get(tick_type)
        except KeyError:
            return None
        return entry.decode if entry.kind == "realtime" else None


def _name_of(tick_type: str) -> str:
    """A real-time type's Korean name (a tick's ``name``)."""
    if tick_type == CONDITION_EVENT:
        return "조건검색"
    try:
        return catalog.get(tick_type).name
    except KeyError:
        return ""


def _as_list(values: Iterable[str] | str) -> list[str]:
    return [values] if isinstance(values, str) else list(values)


def _codes(codes: Iterable[str] | str | None) -> frozenset[str] | None:
    return None if codes is None else frozenset(_as_list(codes))
