"""The example bot that ``kiwoom demo`` runs: the SDK end to end, in one readable function.

It fetches the KOSPI stock list and a year of daily candles (paged), subscribes to trades
(``0B``) and order books (``0D``) of a few stocks, buys the one trading furthest above its
20-day average at the market, watches the order fill through the ``00`` (order) and ``04``
(balance) events, and sums up position, cash and P&L. Against the simulator
(``kiwoom demo``) no account or network is needed; the same bot runs against Kiwoom's
mock-trading server with a mock account's keys::

    import asyncio
    import kiwoom
    from kiwoom.demo import run

    async def main() -> None:
        # keys from KIWOOM_APPKEY / KIWOOM_SECRETKEY
        async with kiwoom.AsyncKiwoom(host=kiwoom.MOCK) as client:
            print(await run(client))

    asyncio.run(main())
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Sequence

import msgspec

from ._async import AsyncKiwoom
from ._constants import KST_OFFSET_HOURS
from ._generated.domestic.chart import Ka10081Response, Ka10081StkDtPoleChartQry
from .errors import KiwoomError

__all__ = ["Fill", "Position", "Summary", "run"]

CODES = ("005930", "000660", "035420")
"""Samsung Electronics, SK hynix, NAVER: the stocks the demo watches (those listed)."""

_KST = dt.timezone(dt.timedelta(hours=KST_OFFSET_HOURS))


class Fill(msgspec.Struct, kw_only=True):
    """One execution of the demo's order, from a ``00`` event."""

    price: int
    """체결가 (원)."""
    qty: int
    """체결량 of this execution."""


class Position(msgspec.Struct, kw_only=True):
    """The bought stock as the account reports it (kt00018)."""

    code: str
    name: str
    qty: int
    """보유수량."""
    avg_price: int
    """매입가 (원)."""
    price: int
    """현재가 (원)."""
    pnl: int
    """평가손익 (원)."""
    return_pct: float
    """수익률 (%)."""


class Summary(msgspec.Struct, kw_only=True):
    """What the demo did and where the account stands."""

    listed: int
    """KOSPI stocks in the stock list (ka10099)."""
    candles: dict[str, int]
    """Daily candles fetched per stock over the last year (ka10081, paged)."""
    pages: int
    """Pages those candles took."""
    ticks: dict[str, int]
    """Real-time ticks received per type (0B, 0D, 00, 04)."""
    order_no: str
    """주문번호 of the buy (kt10000)."""
    fills: list[Fill]
    """Executions reported by the ``00`` events."""
    balance_events: int
    """``04`` events about the bought stock."""
    position: Position | None
    cash: int | None
    """D+2 추정예수금 (원): cash once today's trades settle (kt00001)."""
    pnl: int | None
    """총평가손익금액 (원): the unrealised P&L of every holding (kt00018)."""
    seconds: float


Step = Callable[[str], None]
Progress = Callable[[str, int, int], None]
"""``progress(task, done, total)``: the CLI draws these as progress bars."""


def _quiet(*_: object) -> None:
    pass


async def run(
    client: AsyncKiwoom,
    *,
    codes: Sequence[str] = CODES,
    qty: int = 10,
    watch: float = 2.0,
    fill_timeout: float = 20.0,
    step: Step = _quiet,
    progress: Progress = _quiet,
) -> Summary:
    """Run the bot on ``client``; ``step`` hears what it does, ``progress`` how far paging is."""
    started = time.monotonic()
    today = dt.datetime.now(_KST).date()

    step("ka10099: the KOSPI stock list")
    listing = await client.pages(client.stock_info.stocks, mrkt_tp="0").collect()
    names = {s.code: s.name or "" for s in listing.list_ if s.code}
    watched = [c for c in codes if c in names] or sorted(names)[:3]
    if not watched:
        raise KiwoomError("ka10099 listed no KOSPI stock: nothing to trade")

    step(f"ka10081: a year of daily candles of {', '.join(watched)}")
    start = today - dt.timedelta(days=365)
    closes: dict[str, list[int]] = {}
    pages = 0
    for code in watched:
        rows: list[Ka10081StkDtPoleChartQry] = []
        async for page in client.pages(
            client.chart.daily, stk_cd=code, base_dt=today.strftime("%Y%m%d"), upd_stkpc_tp="1"
        ).until(lambda p: bool(p.stk_dt_pole_chart_qry) and _oldest(p) < start):
            pages += 1
            rows.extend(r for r in page.stk_dt_pole_chart_qry if r.dt and r.dt >= start)
            oldest = min((r.dt for r in rows if r.dt), default=today)
            progress(code, (today - oldest).days, 365)
        progress(code, 365, 365)
        rows.sort(key=lambda r: r.dt or start)
        closes[code] = [r.cur_prc for r in rows if r.cur_prc]

    def momentum(code: str) -> float:
        last20 = closes[code][-20:]
        return last20[-1] / (sum(last20) / len(last20)) if last20 else 0.0

    pick = max(watched, key=momentum)
    step(f"picked {pick} {names[pick]}: {momentum(pick):.3f}x its 20-day average close")

    ticks: Counter[str] = Counter()
    fills: list[Fill] = []
    balance_events = 0
    async with client.realtime() as rt, rt.stream(["0B", "0D", "00", "04"]) as stream:
        await rt.register(watched, ["0B", "0D"], group="1")
        await rt.register([], ["00", "04"], group="9")
        step(f"0B/0D: trades and order books of {len(watched)} stocks for {watch:.0f} s")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(watch):
                async for tick in stream:
                    ticks[tick.type] += 1

        step(f"kt10000: buy {qty} {pick} at the market")
        order = await client.order.buy(
            dmst_stex_tp="KRX", stk_cd=pick, ord_qty=str(qty), trde_tp="3"
        )
        order_no = order.ord_no or ""
        step(f"order {order_no} accepted; waiting for 00 (order) and 04 (balance) events")
        try:
            async with asyncio.timeout(fill_timeout):
                async for tick in stream:
                    ticks[tick.type] += 1
                    v = tick.values
                    if tick.type == "00" and v.ord_no == order_no and v.cntr_qty:
                        fills.append(Fill(price=v.unit_cntr_pric or v.cntr_pric or 0,
                                          qty=v.unit_cntr_qty or v.cntr_qty))  # fmt: skip
                        step(f"00: {v.ord_stt} {v.unit_cntr_qty or v.cntr_qty} at "
                             f"{v.unit_cntr_pric or v.cntr_pric}, {v.ord_remnq} left")  # fmt: skip
                    elif tick.type == "04" and v.stk_cd and v.stk_cd.endswith(pick):
                        balance_events += 1
                        step(f"04: holding {v.rmnd_qty} {pick} bought at {v.buy_uv}")
                    if sum(f.qty for f in fills) >= qty and balance_events:
                        break
        except TimeoutError:
            step(f"no complete fill within {fill_timeout:.0f} s")

    step("kt00018, kt00001: position, cash and P&L")
    balance = await client.account.balance(qry_tp="1", dmst_stex_tp="KRX")
    deposit = await client.account.deposit(qry_tp="3")
    position = None
    for row in balance.acnt_evlt_remn_indv_tot:
        if row.stk_cd and row.stk_cd.endswith(pick):
            position = Position(
                code=pick,
                name=row.stk_nm or names[pick],
                qty=row.rmnd_qty or 0,
                avg_price=row.pur_pric or 0,
                price=row.cur_prc or 0,
                pnl=row.evltv_prft or 0,
                return_pct=row.prft_rt or 0.0,
            )
    return Summary(
        listed=len(names),
        candles={c: len(v) for c, v in closes.items()},
        pages=pages,
        ticks=dict(sorted(ticks.items())),
        order_no=order_no,
        fills=fills,
        balance_events=balance_events,
        position=position,
        cash=deposit.d2_entra if deposit.d2_entra is not None else deposit.entr,
        pnl=balance.tot_evlt_pl,
        seconds=round(time.monotonic() - started, 2),
    )


def _oldest(page: Ka10081Response) -> dt.date:
    return min((r.dt for r in page.stk_dt_pole_chart_qry if r.dt), default=dt.date.max)
