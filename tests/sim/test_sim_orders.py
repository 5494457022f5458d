"""Order flow against the simulator through the SDK: place, partial fill, modify, cancel, full
fill, sell; balances, unfilled orders, executions and P&L agree with the 00/04 events."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import kiwoom

CODE = "005930"
KEYS = {"appkey": "order-appkey", "secretkey": "order-secretkey"}


async def _events(rt: Any, into: list[Any]) -> None:
    async for tick in rt.stream(["00", "04"]):
        into.append(tick)


async def _settle(events: list[Any], n: int) -> None:
    """Wait until at least ``n`` events arrived."""
    async with asyncio.timeout(5):
        while len(events) < n:
            await asyncio.sleep(0.01)


def test_order_flow(sim):
    asyncio.run(_flow(sim))


async def _flow(sim: Any) -> None:
    market, account = sim.market, sim.account
    start_cash = account.cash
    events: list[Any] = []
    async with kiwoom.AsyncKiwoom(host=sim.url, **KEYS) as client, client.realtime() as rt:
        await rt.register([], ["00", "04"], group="9")
        consumer = asyncio.create_task(_events(rt, events))
        await asyncio.sleep(0.05)

        # 1. A buy at the best ask for more than it offers: part fills at once, the rest rests.
        asks, bids = market.order_book(CODE)
        ask_price, ask_size = asks[0]
        qty = ask_size + 40
        placed = await client.order.buy(
            dmst_stex_tp="KRX", stk_cd=CODE, ord_qty=str(qty), ord_uv=str(ask_price), trde_tp="0"
        )
        first = placed.ord_no
        await _settle(events, 3)  # 접수, 체결, 잔고
        unfilled = await client.account.open_orders(all_stk_tp="0", trde_tp="0", stex_tp="0")
        assert [(o.ord_no, o.oso_qty) for o in unfilled.oso] == [(first, 40)]

        # 2. Modify the rest to a price below the market: a new order number; the first is done.
        low = bids[1][0]
        modified = await client.order.modify(
            dmst_stex_tp="KRX", orig_ord_no=first, stk_cd=CODE, mdfy_qty="40", mdfy_uv=str(low)
        )
        second = modified.ord_no
        assert second != first and modified.mdfy_qty == 40

        # 3. Cancel half of it.
        cancelled = await client.order.cancel(
            dmst_stex_tp="KRX", orig_ord_no=second, stk_cd=CODE, cncl_qty="15"
        )
        assert cancelled.ord_no not in (first, second)
        unfilled = await client.account.open_orders(all_stk_tp="0", trde_tp="0", stex_tp="0")
        assert [(o.ord_no, o.oso_qty, o.ord_pric) for o in unfilled.oso] == [(second, 25, low)]

        # 4. The clock runs until the market trades down to the order: it fills in full.
        for _ in range(2000):
            sim.clock.advance(30)
            account.sweep()
            if not account.orders[second].open:
                break
        assert account.orders[second].filled == 25
        unfilled = await client.account.open_orders(all_stk_tp="0", trde_tp="0", stex_tp="0")
        assert unfilled.return_code == 20 and unfilled.oso == []

        # 5. Sell part of the position at the market: realised P&L.
        sold = await client.order.sell(
            dmst_stex_tp="KRX", stk_cd=CODE, ord_qty="30", ord_uv="0", trde_tp="3"
        )
        position_qty = ask_size + 25 - 30
        await _settle(events, 1)
        await asyncio.sleep(0.2)

        balance = await client.account.balance(qry_tp="1", dmst_stex_tp="KRX")
        executions = await client.account.executions(qry_tp="0", sell_tp="0", stex_tp="0")
        deposit = await client.account.deposit(qry_tp="2")
        realised = await client.account.today_realized_pnl(stk_cd=CODE)
        day = account.orders[first].time.date()
        status = await client.account.order_status(
            ord_dt=day, stk_bond_tp="0", mrkt_tp="0", sell_tp="0", qry_tp="0", dmst_stex_tp="%"
        )
        consumer.cancel()

    # 계좌별주문체결현황 (kt00009) lists that day's orders, newest first, with what filled.
    placed_that_day = [o for o in account.orders.values() if o.time.date() == day]
    assert [r.ord_no for r in status.acnt_ord_cntr_prst_array] == [
        o.ord_no for o in reversed(placed_that_day)
    ]
    assert {r.ord_no: r.cntr_qty for r in status.acnt_ord_cntr_prst_array if r.cntr_qty} == {
        o.ord_no: o.filled for o in placed_that_day if o.filled
    }
    assert status.buy_engg_amt == sum(o.filled_amount for o in placed_that_day if o.side == "buy")

    # Events: every 체결 of 00 adds up per order to what the executions query says.
    fills: dict[str, int] = defaultdict(int)
    statuses: dict[str, list[str]] = defaultdict(list)
    balances = [t.values for t in events if t.type == "04"]
    for t in events:
        if t.type == "00":
            statuses[t.values.ord_no].append(t.values.ord_stt)
            if t.values.ord_stt == "체결":
                fills[t.values.ord_no] += t.values.cntr_qty
    assert statuses[first][:2] == ["접수", "체결"]
    assert statuses[second][0] == "확인" and statuses[second][-1] == "체결"
    assert statuses[cancelled.ord_no] == ["확인"]
    assert fills == {first: ask_size, second: 25, sold.ord_no: 30}
    assert {e.ord_no: e.cntr_qty for e in executions.cntr} == fills
    assert all(e.oso_qty == 0 for e in executions.cntr)

    # Balance: the query, the last 04 event and the account agree.
    (row,) = balance.acnt_evlt_remn_indv_tot
    assert row.stk_cd == "A" + CODE and row.rmnd_qty == position_qty
    assert balances[-1].rmnd_qty == position_qty and balances[-1].stk_cd == CODE
    assert account.positions[CODE].qty == position_qty
    assert row.pur_pric == account.positions[CODE].avg_price == balances[-1].buy_uv

    # Cash moved by exactly the fills, fees and tax.
    spent = sum(e.price * e.qty + e.fee for e in account.executions if e.side == "buy")
    received = sum(e.price * e.qty - e.fee - e.tax for e in account.executions if e.side == "sell")
    assert deposit.entr == account.cash == start_cash - spent + received
    assert realised.tdy_rlzt_pl == account.realised == balances[-1].tdy_rlzt_pl_stk
    assert realised.tdy_rlzt_pl != 0


def test_rejections_name_the_problem(sim):
    with kiwoom.Kiwoom(host=sim.url, **KEYS) as client:
        q = sim.market.quote(CODE)
        try:
            client.order.buy(
                dmst_stex_tp="KRX", stk_cd=CODE, ord_qty="1", ord_uv=str(q.upper + 1000),
                trde_tp="0",
            )  # fmt: skip
        except kiwoom.errors.APIError as exc:
            assert "상하한가" in exc.return_msg or "호가단위" in exc.return_msg
        else:
            raise AssertionError("an order above the upper limit was accepted")
        try:
            client.order.cancel(
                dmst_stex_tp="KRX", orig_ord_no="9999999", stk_cd=CODE, cncl_qty="0"
            )
        except kiwoom.errors.APIError as exc:
            assert "주문이 없습니다" in exc.return_msg
        else:
            raise AssertionError("a cancel of an unknown order was accepted")


def test_us_orders_show_in_the_us_account_queries(sim):
    with kiwoom.Kiwoom(host=sim.url, **KEYS) as client:
        usd = sim.account.usd_cash
        bought = client.us.order.buy(
            stex_tp="ND", stk_cd="NVDA", ord_qty="5", ord_uv="0", trde_tp="03"
        )
        resting = client.us.order.buy(
            stex_tp="ND", stk_cd="NVDA", ord_qty="2", trde_tp="00",
            ord_uv=f"{sim.market.order_book('NVDA')[1][5][0] / 100:.2f}",
        )  # fmt: skip
        balance = client.us.account.balance(stex_tp="ND")
        unfilled = client.us.account.open_orders()
        deposit = client.us.account.deposit()
    (row,) = [r for r in balance.result_list if r.stk_cd == "NVDA"]
    assert row.poss_qty == 5 == sim.account.positions["NVDA"].qty
    assert [(o.ord_no, o.ord_remnq) for o in unfilled.result_list] == [(resting.ord_no, 2)]
    spent = sum(e.price * e.qty for e in sim.account.executions if e.ord_no == bought.ord_no)
    assert deposit.result_list[0].fc_entra == (usd - spent) / 100
