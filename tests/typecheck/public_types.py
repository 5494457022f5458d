"""What a type checker sees of the public API: ``make typecheck`` (mypy --strict) fails when
any of these types changes. Never run; every ``assert_type`` is checked statically."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, assert_type

import kiwoom
from kiwoom import Ka10081Response, Real0B, Real0DWire, Real00


def rest(client: kiwoom.Kiwoom) -> None:
    resp = client.chart.daily(stk_cd="005930", base_dt=dt.date(2025, 9, 8), upd_stkpc_tp="1")
    assert_type(resp, Ka10081Response)
    row = resp.stk_dt_pole_chart_qry[0]
    assert_type(row.cur_prc, int | None)  # "" on the wire is None
    assert_type(row.dt, dt.date | None)
    pages = client.pages(client.chart.daily, stk_cd="005930", base_dt="20250908", upd_stkpc_tp="1")
    assert_type(pages.collect(), Ka10081Response)


async def rest_async(client: kiwoom.AsyncKiwoom) -> None:
    resp = await client.chart.daily(stk_cd="005930", base_dt="20250908", upd_stkpc_tp="1")
    assert_type(resp, Ka10081Response)


async def realtime(client: kiwoom.AsyncKiwoom) -> None:
    async with client.realtime() as rt:
        async for tick in rt.stream("0B", ["005930"]):
            assert_type(tick, kiwoom.Tick[Real0B])
            assert_type(tick.values.cur_prc, int | None)
        async for raw in rt.stream("0D", wire=True):
            assert_type(raw.values, Real0DWire)
        async for mixed in rt.stream(["0B", "0D"]):
            assert_type(mixed.values, Any)

        def on_order(tick: kiwoom.Tick[Real00]) -> None:
            print(tick.values.ord_no)

        rt.on("00", on_order)


def codes(client: kiwoom.Kiwoom) -> None:
    # A request code field is a Literal of its codes (IDE completion; mypy refuses "NASD").
    req = kiwoom.Usa06012Request(stex_tp="ND", stk_cd="AAPL")
    assert_type(req.stex_tp, Literal["NA", "ND", "NY"])
    daily = kiwoom.Ka10081Request(stk_cd="005930", base_dt="20250908", upd_stkpc_tp="1")
    assert_type(daily.upd_stkpc_tp, Literal["0", "1"])
    client.us.chart.daily(stex_tp="NY", stk_cd="IBM")
    # A code table known incomplete (sector codes) stays text.
    sector = kiwoom.Ka20005Request(inds_cd="253", tic_scope="1")
    assert_type(sector.inds_cd, str)
