"""``kiwoom.Bot``: the kiwoom-restful wrapper's Bot, on our async client and real-time runtime.

>>> class MyBot(kiwoom.Bot):
...     async def run(self):
...         df = await self.candle("005930_AL", period="min", ctype="stock", start="20250901")
...
>>> async with MyBot(kiwoom.MOCK, "appkey.txt", "secretkey.txt") as bot:
...     await bot.run()

The names and arguments are the wrapper's (``candle``, ``trade``, ``stock_list``,
``sector_list``, ``bot.api.register_tick``, ``add_callback_on_real_data``, ``debugging``),
so its users can move over; the typed rows behind the frames are one call away
(``candles``, ``trades``, ``stocks``), and ``bot.orders`` places checked, journalled orders.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any

import msgspec

from . import candles as _candles
from . import listings as _listings
from . import trades as _trades
from ._debug import logger

if TYPE_CHECKING:
    from ._async import AsyncKiwoom
    from ._realtime import Realtime
    from ._realtime._dispatch import StopRaw
    from .candles import Candle, DateLike
    from .listings import Listing
    from .orders import SafeOrders
    from .trades import Trade

__all__ = ["API", "Bot", "RealData"]


class RealData(str):
    """One real-time item as its JSON text (``{"type", "name", "item", "values"}``).

    A ``str``, so ``json.loads(raw)`` (or ``orjson.loads``) reads it as the wrapper's README
    does; ``type``, ``name``, ``item`` and ``values`` (the values object's UTF-8 bytes, as the
    wrapper's ``RealData`` had them) are attributes.
    """

    __slots__ = ("item", "name", "type", "values")

    type: str
    name: str
    item: str
    values: bytes


class _Item(msgspec.Struct):
    type: str = ""
    name: str = ""
    item: str = ""
    values: msgspec.Raw = msgspec.Raw(b"{}")


class _Frame(msgspec.Struct):
    trnm: str = ""
    data: list[msgspec.Raw] | None = None


_FRAME = msgspec.json.Decoder(_Frame)
_ITEM = msgspec.json.Decoder(_Item)


def _real_data(raw: msgspec.Raw) -> RealData:
    item = _ITEM.decode(raw)
    text = RealData(bytes(raw).decode("utf-8"))
    text.type, text.name, text.item, text.values = (
        item.type,
        item.name,
        item.item,
        bytes(item.values),
    )
    return text


class API:
    """``bot.api``: the REST client (``api.client``) and the real-time socket (``api.realtime``).

    Real-time callbacks (:meth:`add_callback_on_real_data`) receive each item as a
    :class:`RealData`, one at a time and in the order received: ``async def`` callbacks on
    the event loop, plain functions on a thread of their own (fed in batches, so a slow one
    never holds the socket's reading). A raising callback is logged and counted
    (``callback_errors``) and keeps being called.
    """

    def __init__(
        self, host: str, appkey: str, secretkey: str, *, realtime: bool = True, **options: Any
    ) -> None:
        from ._async import AsyncKiwoom

        self.client: AsyncKiwoom = AsyncKiwoom(appkey, secretkey, host=host, **options)
        self.use_realtime = realtime
        self.realtime: Realtime | None = None
        self._callbacks: dict[str, Callable[[Any], Any]] = {}
        # Errors counted on the loop and on the plain callbacks' thread: one writer each.
        self._errors = [0, 0]
        self._stops: list[StopRaw] = []
        self._threaded = False  # the plain callbacks' dispatcher is fed
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handler: logging.Handler | None = None

    @property
    def callback_errors(self) -> int:
        """Calls of real-time callbacks that raised."""
        return sum(self._errors)

    @property
    def debugging(self) -> bool:
        """Print every request and response (keys and tokens masked)."""
        return self.client.debug

    @debugging.setter
    def debugging(self, on: bool) -> None:
        self.client.debug = on
        if on and self._handler is None:
            self._handler = logging.StreamHandler(sys.stdout)
            logger.addHandler(self._handler)
            logger.setLevel(logging.DEBUG)
        elif not on and self._handler is not None:
            logger.removeHandler(self._handler)
            self._handler = None

    async def connect(self) -> None:
        """Issue the token and open the real-time socket (logged in)."""
        if self.realtime is not None:
            return
        if not self.use_realtime:
            await self.client._valid_token()  # issues the token
            return
        rt = self.client.realtime()
        await rt.connect()
        self.realtime = rt
        self._loop = asyncio.get_running_loop()
        self._stops.append(rt.on_raw(self._dispatch))
        self._feed_thread()

    async def close(self) -> None:
        """Close the socket, revoke the token and close the connections."""
        try:
            if self.realtime is not None:
                await self.realtime.close()
                self.realtime = None
            # The socket is closed: every frame it received still reaches its callbacks.
            while self._stops:
                await self._stops.pop()(drain=True)
            self._threaded = False
        finally:
            await self.client.aclose()
            self.debugging = False

    def _socket(self) -> Realtime:
        if self.realtime is None:
            from .errors import KiwoomError

            raise KiwoomError("the real-time socket is not open: use `async with` or connect()")
        return self.realtime

    # --- registrations, the wrapper's names -----------------------------------------------

    async def register_tick(self, grp_no: str, codes: list[str], refresh: str = "1") -> None:
        """Register 주식체결 (``0B``) for ``codes`` (at most 100) in group ``grp_no``.

        ``refresh`` ``"1"`` keeps the group's earlier registrations, ``"0"`` replaces them.
        """
        await self._socket().register(codes, ["0B"], group=grp_no, replace=refresh == "0")

    async def register_hoga(self, grp_no: str, codes: list[str], refresh: str = "1") -> None:
        """Register 주식호가잔량 (``0D``) for ``codes`` (at most 100) in group ``grp_no``."""
        await self._socket().register(codes, ["0D"], group=grp_no, replace=refresh == "0")

    async def register(
        self, grp_no: str, codes: list[str], types: Iterable[str], refresh: str = "1"
    ) -> None:
        """Register any real-time ``types`` for ``codes`` in group ``grp_no``."""
        await self._socket().register(codes, list(types), group=grp_no, replace=refresh == "0")

    async def remove_register(
        self,
        grp_no: str,
        codes: list[str] | None = None,
        type: str | list[str] | None = None,
    ) -> None:
        """Stop real-time data of group ``grp_no``: of ``codes`` (all when omitted) and
        ``type`` (``"0B"``, ``["0B", "0D"]``; every type when omitted)."""
        await self._socket().remove(grp_no, items=codes, types=type)

    def add_callback_on_real_data(self, real_type: str, callback: Callable[[Any], Any]) -> None:
        """Call ``callback(raw)`` for each item of real-time type ``real_type`` (``"0B"``).

        ``raw`` is a :class:`RealData`. A ``trnm`` (``"REG"``, ``"SYSTEM"``) as ``real_type``
        gets those frames' text; PINGs are answered by the runtime either way.
        """
        self._callbacks[real_type.upper()] = callback
        if not inspect.iscoroutinefunction(callback):
            self._feed_thread()

    def _feed_thread(self) -> None:
        """Feed the plain callbacks' dispatcher once one is added and the socket is open.
        (Not before: a thread woken for every frame and calling nothing is waste.)"""
        if self._threaded or self.realtime is None:
            return
        if all(inspect.iscoroutinefunction(c) for c in self._callbacks.values()):
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not self._loop:  # added from another thread: fed on the bot's loop
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._feed_thread)
            return
        self._stops.append(self.realtime.on_raw(self._dispatch_plain))
        self._threaded = True

    async def _dispatch(self, frame: str | bytes) -> None:
        """The ``async def`` callbacks, on the loop."""
        for callback, arg in self._calls(frame, plain=False):
            try:
                await callback(arg)
            except Exception:
                self._errors[0] += 1
                logger.exception("real-time callback %r failed", callback)

    def _dispatch_plain(self, frame: str | bytes) -> None:
        """The plain callbacks, on their thread (the runtime's worker for a sync ``on_raw``)."""
        for callback, arg in self._calls(frame, plain=True):
            try:
                callback(arg)
            except Exception:
                self._errors[1] += 1
                logger.exception("real-time callback %r failed", callback)

    def _calls(
        self, frame: str | bytes, *, plain: bool
    ) -> Iterator[tuple[Callable[..., Any], Any]]:
        """(callback, argument) for a frame's items whose callback is plain (or async)."""
        try:
            head = _FRAME.decode(frame)
        except msgspec.DecodeError:
            return  # the runtime logs and counts malformed frames
        callbacks = self._callbacks
        if head.trnm != "REAL":
            callback = callbacks.get(head.trnm)
            if callback is not None and inspect.iscoroutinefunction(callback) != plain:
                yield callback, frame.decode("utf-8") if isinstance(frame, bytes) else frame
            return
        for raw in head.data or ():
            item = _real_data(raw)
            callback = callbacks.get(item.type)
            if callback is not None and inspect.iscoroutinefunction(callback) != plain:
                yield callback, item


class Bot:
    """A trading bot: subclass it and write :meth:`run`. Use it as ``async with Bot(...)``.

        ``host`` is ``kiwoom.REAL``, ``kiwoom.MOCK`` or any base URL (the simulator's);
        ``appkey``/``secretkey`` the keys or paths of files holding them. ``realtime=False``
        skips the socket. ``journal`` is the order journal's path and ``dry_run`` checks orders
    without sending them (``bot.orders``); other keyword
        arguments go to :class:`kiwoom.AsyncKiwoom` (``limiter``, ``timeout``, ``transport``...).
    """

    def __init__(
        self,
        host: str,
        appkey: str,
        secretkey: str,
        api: API | None = None,
        *,
        realtime: bool = True,
        journal: str | None = None,
        dry_run: bool = False,
        **options: Any,
    ) -> None:
        self.api = api or API(host, appkey, secretkey, realtime=realtime, **options)
        self._journal = journal
        self._dry_run = dry_run

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.api.client.host}>"

    @property
    def debugging(self) -> bool:
        """Print every request and response (keys and tokens masked)."""
        return self.api.debugging

    @debugging.setter
    def debugging(self, on: bool) -> None:
        self.api.debugging = on

    def debug(self, debugging: bool = True) -> None:
        """Switch :attr:`debugging` on or off (the wrapper's method)."""
        self.debugging = debugging

    async def connect(self) -> None:
        """Issue the token and open the real-time socket."""
        await self.api.connect()

    async def close(self) -> None:
        """Close the socket and the client (the token is revoked)."""
        await asyncio.shield(self.api.close())

    async def __aenter__(self) -> Bot:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def run(self) -> None:
        """The strategy: override it."""

    def start(self) -> None:
        """Blocking: connect, :meth:`run`, close (``asyncio.run``; for scripts)."""

        async def main() -> None:
            async with self:
                await self.run()

        asyncio.run(main())

    # --- market data ------------------------------------------------------------------------

    async def candles(
        self,
        code: str,
        period: str = "day",
        ctype: str = "stock",
        start: DateLike = None,
        end: DateLike = None,
        *,
        interval: int = 1,
        adjusted: bool = True,
        exchange: str | None = None,
    ) -> list[Candle]:
        """The bars of ``code`` in ``[start, end]`` as typed rows; see :mod:`kiwoom.candles`."""
        return await _candles.fetch_async(
            self.api.client, code, period, market=ctype, start=start, end=end,
            interval=interval, adjusted=adjusted, exchange=exchange,
        )  # fmt: skip

    async def candle(
        self,
        code: str,
        period: str,
        ctype: str = "stock",
        start: DateLike = "",
        end: DateLike = "",
        *,
        interval: int = 1,
        adjusted: bool = True,
        exchange: str | None = None,
        columns: str = "korean",
        backend: str = "pandas",
    ) -> Any:
        """The bars of ``code`` in ``[start, end]`` (``YYYYMMDD``; ``""`` open) as a DataFrame.

        ``period`` ``'tick'`` | ``'min'`` | ``'day'`` | ``'week'`` | ``'month'`` | ``'year'``
        (``interval``: tick range or minutes), ``ctype`` ``'stock'`` | ``'sector'`` | ``'us'``;
        ``adjusted`` asks for 수정주가. Columns as :mod:`kiwoom.frames` (``columns='korean'``
        keeps the wrapper's: 체결시간/일자 index; 시가, 고가, 저가, 종가, 거래량, ...).
        """
        from .frames import candles_frame

        rows = await self.candles(
            code, period, ctype, start, end, interval=interval, adjusted=adjusted,
            exchange=exchange,
        )  # fmt: skip
        return candles_frame(rows, period, columns=columns, backend=backend)

    async def trades(self, start: DateLike, end: DateLike = None) -> list[Trade]:
        """The account's executions of ``[start, end]`` (about two months back) as typed rows."""
        return await _trades.fetch_async(self.api.client, start, end)

    async def trade(self, start: DateLike, end: DateLike = "", *, backend: str = "pandas") -> Any:
        """The account's executions as Kiwoom's 0343 screen lays them out, as a DataFrame."""
        from .frames import trades_frame

        return trades_frame(await self.trades(start, end or None), backend=backend)

    async def stocks(self, market: str) -> list[Listing]:
        """Every instrument of ``market`` as typed rows; see :mod:`kiwoom.listings`."""
        return await _listings.stocks_async(self.api.client, market)

    async def stock_list(
        self, market: str, ats: bool = True, *, etf: bool = True, etn: bool = True,
        spac: bool = True,
    ) -> list[str]:  # fmt: skip
        """The codes of ``market`` (``'0'`` KOSPI, ``'10'`` KOSDAQ, ``'8'`` ETF, ``'NXT'``...),
        sorted; ``ats`` gives integrated ``005930_AL`` codes for stocks also on NXT;
        ``etf``/``etn``/``spac`` False leave those out."""
        listing = await self.stocks(market)
        return _listings.codes(listing, ats=ats, etf=etf, etn=etn, spac=spac)

    async def sector_list(self, market: str) -> list[str]:
        """The sector codes of ``market`` (``'0'`` KOSPI, ``'1'`` KOSDAQ, ``'2'`` KOSPI200...)."""
        rows = await _listings.sectors_async(self.api.client, market)
        return [s.code for s in rows]

    # --- orders -----------------------------------------------------------------------------

    @cached_property
    def orders(self) -> SafeOrders:
        """Checked, journalled orders (:class:`kiwoom.orders.SafeOrders`)."""
        from .orders import SafeOrders

        return SafeOrders(self.api.client, journal=self._journal, dry_run=self._dry_run)
