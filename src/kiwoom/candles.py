"""Candles of every chart period Kiwoom serves, as typed rows: paged, sliced, ascending.

>>> rows = await kiwoom.candles.fetch_async(client, "005930", "day", start="20200101")
>>> rows[0].time, rows[0].close          # datetime(2020, 1, 2, 0, 0), 55200

``period`` is ``"tick"`` (``interval`` 1, 3, 5, 10 or 30 ticks), ``"min"`` (``interval`` 1, 3,
5, 10, 15, 30, 45 or 60 minutes), ``"day"``, ``"week"``, ``"month"`` or ``"year"``; ``market``
is ``"stock"`` (ka10079-ka10083, ka10094), ``"sector"`` (ka20004-ka20008, ka20019; codes
such as ``"001"``) or ``"us"`` (usa06010-usa06015; ``exchange`` ``"ND"``/``"NY"``/``"NA"``).

Pages are fetched newest first until one reaches back before ``start`` (then paging stops),
and the rows are sliced to ``[start, end]`` by their date. Without ``start``, day and longer
bars go back as far as Kiwoom serves; tick and minute bars cover the newest bar's session.
Times are naive Korea time (KST) wall clock; day and longer bars are at midnight of their
date. Prices are positive (the wire sign only told the direction), integers in won for KRX
stocks and sector index points as sent, floats in USD for US stocks. The bars' times are read
from the wire text, so Kiwoom's special bar times become real times (:func:`bar_time`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from . import catalog
from ._paging import list_fields
from .errors import DecodeError, InvalidRequestError

if TYPE_CHECKING:
    from ._async import AsyncKiwoom
    from ._client import RawResponse
    from ._sync import Kiwoom

__all__ = [
    "DELAYED_OPENINGS",
    "INTERVALS",
    "PERIODS",
    "Candle",
    "CandleQuery",
    "bar_time",
    "fetch",
    "fetch_async",
    "query",
    "to_date",
]

Period = Literal["tick", "min", "day", "week", "month", "year"]
Market = Literal["stock", "sector", "us"]

PERIODS: tuple[str, ...] = ("tick", "min", "day", "week", "month", "year")
INTERVALS: dict[str, tuple[int, ...]] = {
    "tick": (1, 3, 5, 10, 30),
    "min": (1, 3, 5, 10, 15, 30, 45, 60),
}
"""The tick ranges and minute intervals Kiwoom serves (``tic_scope``)."""

DELAYED_OPENINGS: dict[_dt.date, int] = {
    _dt.date(2020, 12, 3): 1,
    _dt.date(2021, 11, 18): 1,
    _dt.date(2022, 11, 17): 1,
    _dt.date(2023, 11, 16): 1,
    _dt.date(2024, 11, 14): 1,
    _dt.date(2025, 11, 13): 1,
}
"""Days the market opened (and closed) late, in hours: the college entrance exam (수능)."""

_CLOSING_AUCTION = "888888"  # a trade of the closing auction (장마감)
_AFTER_HOURS = "999999"  # the after-hours close (시간외 종료)
_LATEST = _dt.time(18, 0)
_CLOSE = {_CLOSING_AUCTION: _dt.time(16, 0), _AFTER_HOURS: _dt.time(18, 0)}
# Sector codes 253 and 254 (K200 F 매수 콜매도 / 매도 풋매도) close their auction at 17:00.
_SECTOR_CLOSE = {"253": _dt.time(17, 0), "254": _dt.time(17, 0)}

_API_IDS: dict[str, dict[str, str]] = {
    "stock": {
        "tick": "ka10079", "min": "ka10080", "day": "ka10081", "week": "ka10082",
        "month": "ka10083", "year": "ka10094",
    },
    "sector": {
        "tick": "ka20004", "min": "ka20005", "day": "ka20006", "week": "ka20007",
        "month": "ka20008", "year": "ka20019",
    },
    "us": {
        "tick": "usa06010", "min": "usa06011", "day": "usa06012", "week": "usa06013",
        "month": "usa06014", "year": "usa06015",
    },
}  # fmt: skip


class Candle(msgspec.Struct, frozen=True, gc=False):
    """One bar. ``time`` is naive KST; prices positive (won, index points or USD)."""

    time: _dt.datetime
    open: int | float
    high: int | float
    low: int | float
    close: int | float
    volume: int
    """거래량 (shares, or the index's volume as sent)."""
    amount: int | float | None = None
    """거래대금 as sent (day and longer bars; KRX daily charts send millions of won)."""


DateLike = str | _dt.date | None


def to_date(value: DateLike, field: str = "start") -> _dt.date | None:
    """``"20250901"``, ``"2025-09-01"``, a ``date`` or ``datetime`` -> ``date``; ``""`` -> None."""
    if value is None or value == "":
        return None
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    text = value.strip().replace("-", "")
    try:
        return _dt.date(int(text[:4]), int(text[4:6]), int(text[6:8])) if len(text) == 8 else None
    except ValueError:
        pass
    raise InvalidRequestError("candles", field, f"{value!r} is not a date (YYYYMMDD)")


def bar_time(text: str, code: str = "", *, sector: bool = False) -> _dt.datetime:
    """A bar's ``cntr_tm`` (``YYYYMMDDHHmmss``) -> datetime, with Kiwoom's special times.

    ``888888`` (a closing-auction trade) is 16:00:00 and ``999999`` (the after-hours close)
    18:00:00, except sector codes ``253`` and ``254`` where ``888888`` is 17:00:00. On days
    the market opened late (:data:`DELAYED_OPENINGS`) both shift by the delay, at most to
    18:00:00. Raises ``ValueError`` for anything else that is not a time.
    """
    day = _dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    clock = text[8:14]
    if clock in _CLOSE:
        at = _CLOSE[clock]
        if clock == _CLOSING_AUCTION and sector and code in _SECTOR_CLOSE:
            at = _SECTOR_CLOSE[code]
        delay = DELAYED_OPENINGS.get(day)
        if delay:
            at = min(_dt.time(at.hour + delay), _LATEST)
        return _dt.datetime.combine(day, at)
    if not clock:
        return _dt.datetime.combine(day, _dt.time())
    return _dt.datetime.combine(day, _dt.time(int(clock[:2]), int(clock[2:4]), int(clock[4:6])))


def _number(text: str) -> int | float:
    text = text.strip().replace(",", "").lstrip("+-")
    if "." in text:
        return float(text)
    return int(text)


def _int(text: str) -> int:
    text = text.strip().replace(",", "")
    return abs(int(float(text))) if "." in text else abs(int(text or "0"))


@dataclass
class CandleQuery:
    """What to ask for one candle series and how to read its pages (no I/O).

    :func:`fetch` and :func:`fetch_async` drive it; other loops may too: send
    ``api_id``/``request`` with each ``next-key``, feed each body to :meth:`read`, and stop
    when :meth:`covered` says so; :meth:`finish` gives the sliced ascending rows.
    """

    code: str
    period: str
    market: str = "stock"
    interval: int = 1
    start: _dt.date | None = None
    end: _dt.date | None = None
    adjusted: bool = True
    exchange: str | None = None

    def __post_init__(self) -> None:
        ids = _API_IDS.get(self.market)
        if ids is None:
            raise InvalidRequestError(
                "candles", "ctype", f"{self.market!r}: use 'stock', 'sector' or 'us'"
            )
        api_id = ids.get(self.period)
        if api_id is None:
            raise InvalidRequestError(
                "candles", "period", f"{self.period!r}: use one of {', '.join(PERIODS)}"
            )
        allowed = INTERVALS.get(self.period)
        if allowed is not None and self.interval not in allowed:
            raise InvalidRequestError(
                api_id, "tic_scope", f"{self.interval} is not one of {allowed} for {self.period!r}"
            )
        if not isinstance(self.code, str) or not self.code:
            raise InvalidRequestError(
                api_id, "stk_cd", f"a code is a non-empty str, got {self.code!r}"
            )
        if self.market == "us" and not self.exchange:
            raise InvalidRequestError(
                api_id, "stex_tp", "US candles need exchange 'ND', 'NY' or 'NA'"
            )
        if self.start and self.end and self.start > self.end:
            raise InvalidRequestError(api_id, "start", f"{self.start} is after end {self.end}")
        self.api_id = api_id
        self.entry = catalog.get(api_id)
        self._intraday = self.period in ("tick", "min")
        self._oldest: _dt.date | None = None
        self._session: _dt.date | None = None

    @property
    def request(self) -> dict[str, str]:
        """The request body, wire names to values."""
        adjusted = "1" if self.adjusted else "0"
        base = (self.end or _today_kst()).strftime("%Y%m%d")
        scope = str(self.interval)
        if self.market == "us":
            body = {"stex_tp": self.exchange or "", "stk_cd": self.code, "upd_stkpc_tp": adjusted}
            if self._intraday:
                body["tic_scope"] = scope
            if self.period != "tick":
                body["strt_dt"] = base
            return body
        key = "stk_cd" if self.market == "stock" else "inds_cd"
        body = {key: self.code}
        if self._intraday:
            body["tic_scope"] = scope
        if not self._intraday or (self.period == "min" and self.end is not None):
            body["base_dt"] = base
        if self.market == "stock":
            body["upd_stkpc_tp"] = adjusted
        return body

    def read(self, content: bytes) -> list[Candle]:
        """The bars of one page (as sent: newest first), read from the wire text."""
        wire = self.entry.decode_wire(content)
        rows: list[Any] = getattr(wire, list_fields(self.entry.wire_type)[0])
        out: list[Candle] = []
        for i, row in enumerate(rows):
            if not row.cur_prc:
                continue  # Kiwoom's empty placeholder row of a series without data
            try:
                out.append(self._candle(row))
            except (ValueError, IndexError) as exc:
                raise DecodeError(
                    self.api_id, f"row {i}", msgspec.structs.asdict(row), str(exc)
                ) from exc
        if out:
            oldest = min(c.time for c in out).date()
            self._oldest = oldest if self._oldest is None else min(oldest, self._oldest)
            if self._intraday and self.start is None and self._session is None:
                # Without a start, intraday series are the newest bar's session: paging back
                # through years of ticks or minutes is never what a bare call means.
                self._session = max(c.time for c in out).date()
        return out

    @property
    def first_day(self) -> _dt.date | None:
        """``start``; for tick and minute bars without one, the newest bar's day once read."""
        return self.start if self.start is not None else self._session

    def covered(self) -> bool:
        """True once the pages read reach back before ``start`` (so no more are needed)."""
        first = self.first_day
        return first is not None and self._oldest is not None and self._oldest < first

    def finish(self, rows: Iterable[Candle]) -> list[Candle]:
        """Rows ascending by time (stable: the order sent within one time), sliced to the range."""
        ordered = sorted(rows, key=lambda c: c.time)
        start, end = self.first_day, self.end
        return [
            c for c in ordered
            if (start is None or c.time.date() >= start) and (end is None or c.time.date() <= end)
        ]  # fmt: skip

    def _candle(self, row: Any) -> Candle:
        if self._intraday:
            time = bar_time(row.cntr_tm, self.code, sector=self.market == "sector")
        else:
            d = row.dt
            time = _dt.datetime(int(d[:4]), int(d[4:6]), int(d[6:8]))
        close = _number(row.cur_prc)
        # Kiwoom leaves open/high/low empty on 1-tick bars: the bar is its one trade.
        open_ = _number(row.open_pric) if row.open_pric else close
        high = _number(row.high_pric) if row.high_pric else close
        low = _number(row.low_pric) if row.low_pric else close
        volume_text = str(getattr(row, "trde_qty", "") or getattr(row, "acc_trde_qty", ""))
        amount_text = getattr(row, "trde_prica", None) or getattr(row, "acc_trde_prica", None)
        amount = _number(amount_text) if amount_text else None
        return Candle(time, open_, high, low, close, _int(volume_text), amount)


def _today_kst() -> _dt.date:
    return _dt.datetime.now(_dt.timezone(_dt.timedelta(hours=9))).date()


def query(
    code: str,
    period: str = "day",
    *,
    market: str = "stock",
    start: DateLike = None,
    end: DateLike = None,
    interval: int = 1,
    adjusted: bool = True,
    exchange: str | None = None,
) -> CandleQuery:
    """A :class:`CandleQuery` from user-friendly arguments (dates as ``YYYYMMDD`` or ``date``)."""
    return CandleQuery(
        code, period, market, interval, to_date(start, "start"), to_date(end, "end"), adjusted,
        exchange,
    )  # fmt: skip


def _pages(q: CandleQuery, page: Callable[[str | None], RawResponse]) -> list[Candle]:
    rows: list[Candle] = []
    key: str | None = None
    while True:
        raw = page(key)
        rows.extend(q.read(raw.content))
        key = raw.next_key if raw.cont_yn else None
        if key is None or q.covered():
            return q.finish(rows)


def fetch(client: Kiwoom, code: str, period: str = "day", **options: Any) -> list[Candle]:
    """Every bar of ``code`` in ``[start, end]`` through the blocking client; see the module."""
    q = query(code, period, **options)
    return _pages(q, lambda key: client.call_raw(q.api_id, q.request, next_key=key))


async def fetch_async(
    client: AsyncKiwoom, code: str, period: str = "day", **options: Any
) -> list[Candle]:
    """Every bar of ``code`` in ``[start, end]`` through the async client; see the module."""
    q = query(code, period, **options)
    rows: list[Candle] = []
    key: str | None = None
    while True:
        raw = await client.call_raw(q.api_id, q.request, next_key=key)
        rows.extend(q.read(raw.content))
        key = raw.next_key if raw.cont_yn else None
        if key is None or q.covered():
            return q.finish(rows)
