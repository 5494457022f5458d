"""The account's orders and executions (kt00009, 계좌별주문체결현황), day by day, as typed rows
and in the layout of Kiwoom's 0343 screen (매매내역).

Kiwoom answers kt00009 for one order date at a time and only for about the last two
months: :func:`fetch_async` asks for each weekday of ``[start, end]`` within
:data:`QUERYABLE_DAYS` of today (Korea time) and follows every page.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

import msgspec

from .candles import DateLike, to_date

if TYPE_CHECKING:
    from ._async import AsyncKiwoom
    from ._sync import Kiwoom

__all__ = [
    "QUERYABLE_DAYS",
    "SCREEN_0343",
    "SCREEN_0343_LINES",
    "Trade",
    "fetch",
    "fetch_async",
    "order_dates",
]

QUERYABLE_DAYS = 65
"""Days back kt00009 is asked for: two months and a few days, as the reference wrapper."""

API_ID = "kt00009"
_LIST = "acnt_ord_cntr_prst_array"

SCREEN_0343_LINES: tuple[tuple[str, ...], tuple[str, ...]] = (
    (
        "주식채권", "주문번호", "원주문번호", "종목번호", "매매구분", "주문유형구분", "주문수량",
        "주문단가", "확인수량", "체결번호", "스톱가",
    ),
    (
        "주문일자", "종목명", "접수구분", "신용거래구분", "체결수량", "체결평균단가", "정정/취소",
        "통신", "예약/반대", "체결시간", "거래소",
    ),
)  # fmt: skip
"""The two header lines of the 0343 screen's Excel export."""
SCREEN_0343: tuple[str, ...] = SCREEN_0343_LINES[0] + SCREEN_0343_LINES[1]
"""The columns of the 0343 layout, in order."""

_BOND = {"1": "주식", "2": "채권"}


class Trade(msgspec.Struct, frozen=True, kw_only=True):
    """One order of the account with its executions (kt00009 row), plus its order date.

    Attributes keep kt00009's wire names; :meth:`screen_0343` gives the screen's layout.
    """

    ord_dt: _dt.date
    """주문일자 (the date asked for)."""
    stk_bond_tp: str | None = None
    """주식채권구분. 1: 주식, 2: 채권"""
    ord_no: str | None = None
    """주문번호"""
    orig_ord_no: str | None = None
    """원주문번호"""
    stk_cd: str | None = None
    """종목번호"""
    stk_nm: str | None = None
    """종목명"""
    trde_tp: str | None = None
    """매매구분"""
    io_tp_nm: str | None = None
    """주문유형구분"""
    ord_qty: int | None = None
    """주문수량"""
    ord_uv: int | None = None
    """주문단가"""
    cnfm_qty: int | None = None
    """확인수량"""
    cntr_no: str | None = None
    """체결번호"""
    cond_uv: int | None = None
    """스톱가"""
    acpt_tp: str | None = None
    """접수구분"""
    crd_deal_tp: str | None = None
    """신용거래구분"""
    cntr_qty: int | None = None
    """체결수량"""
    cntr_uv: int | None = None
    """체결평균단가"""
    mdfy_cncl_tp: str | None = None
    """정정/취소구분"""
    comm_ord_tp: str | None = None
    """통신구분"""
    rsrv_oppo: str | None = None
    """예약/반대"""
    cntr_tm: _dt.time | None = None
    """체결시간"""
    dmst_stex_tp: str | None = None
    """국내거래소구분 (KRX, NXT, SOR)"""

    def screen_0343(self) -> dict[str, Any]:
        """This row under the 0343 screen's column names, valued as the screen shows them."""
        return {
            "주식채권": _BOND.get(self.stk_bond_tp or "", self.stk_bond_tp),
            "주문번호": _number(self.ord_no),
            "원주문번호": _number(self.orig_ord_no) or "",
            "종목번호": (self.stk_cd or "")[-6:],
            "매매구분": self.trde_tp,
            "주문유형구분": self.io_tp_nm,
            "주문수량": self.ord_qty or 0,
            "주문단가": self.ord_uv or 0,
            "확인수량": self.cnfm_qty or 0,
            "체결번호": _number(self.cntr_no),
            "스톱가": self.cond_uv or 0,
            "주문일자": self.ord_dt.isoformat(),
            "종목명": self.stk_nm,
            "접수구분": self.acpt_tp,
            "신용거래구분": self.crd_deal_tp,
            "체결수량": self.cntr_qty or 0,
            "체결평균단가": self.cntr_uv or 0,
            "정정/취소": self.mdfy_cncl_tp,
            "통신": self.comm_ord_tp,
            "예약/반대": self.rsrv_oppo,
            "체결시간": self.cntr_tm.strftime("%H%M%S").lstrip("0") if self.cntr_tm else "",
            "거래소": self.dmst_stex_tp,
        }


def _number(text: str | None) -> int:
    return int(text) if text and text.strip().isdigit() else 0


_FIELDS = tuple(f for f in Trade.__struct_fields__ if f != "ord_dt")


def _today_kst() -> _dt.date:
    return _dt.datetime.now(_dt.timezone(_dt.timedelta(hours=9))).date()


def order_dates(
    start: DateLike, end: DateLike = None, *, today: _dt.date | None = None
) -> list[_dt.date]:
    """The weekdays of ``[start, end]`` kt00009 can answer for (end defaults to today)."""
    today = today or _today_kst()
    first = to_date(start, "start") or today
    last = min(to_date(end, "end") or today, today)
    first = max(first, today - _dt.timedelta(days=QUERYABLE_DAYS))
    days = []
    day = first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += _dt.timedelta(days=1)
    return days


def _request(day: _dt.date) -> dict[str, str]:
    return {
        "ord_dt": day.strftime("%Y%m%d"),
        "qry_tp": "1",  # 체결 only, as the 0343 screen
        "stk_bond_tp": "1",  # 주식
        "mrkt_tp": "0",  # every market
        "sell_tp": "0",  # buys and sells
        "dmst_stex_tp": "%",  # KRX, NXT and SOR
    }


def _rows(day: _dt.date, response: Any) -> list[Trade]:
    return [
        Trade(ord_dt=day, **{name: getattr(row, name) for name in _FIELDS})
        for row in getattr(response, _LIST)
    ]


def fetch(client: Kiwoom, start: DateLike, end: DateLike = None) -> list[Trade]:
    """The account's executions of ``[start, end]``, oldest day first (blocking client)."""
    out: list[Trade] = []
    for day in order_dates(start, end):
        out.extend(_rows(day, client.pages(API_ID, _request(day)).collect()))
    return out


async def fetch_async(
    client: AsyncKiwoom, start: DateLike, end: DateLike = None, *, today: _dt.date | None = None
) -> list[Trade]:
    """The account's executions of ``[start, end]``, oldest day first (async client)."""
    out: list[Trade] = []
    for day in order_dates(start, end, today=today):
        out.extend(_rows(day, await client.pages(API_ID, _request(day)).collect()))
    return out
