"""Trade history (kt00009, the 0343 layout) and the stock and sector lists (ka10099, ka10101)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import httpx
import pytest
from _fake import APPKEY, SECRET, FakeKiwoom, ok

from kiwoom import Bot, trades
from kiwoom.errors import InvalidRequestError
from kiwoom.proc import trade as proc_trade

TODAY = trades._today_kst()


def execution(ord_no: str, qty: str) -> dict[str, str]:
    return {
        "stk_bond_tp": "1", "ord_no": ord_no, "stk_cd": "A005930", "trde_tp": "보통",
        "io_tp_nm": "현금매수", "ord_qty": qty, "ord_uv": "0000070000", "cnfm_qty": qty,
        "rsrv_oppo": "", "cntr_no": "0000045", "acpt_tp": "체결", "orig_ord_no": "0000000",
        "stk_nm": "삼성전자", "setl_tp": "", "crd_deal_tp": "보통매매", "cntr_qty": qty,
        "cntr_uv": "0000070000", "comm_ord_tp": "REST", "mdfy_cncl_tp": "", "cntr_tm": "091503",
        "dmst_stex_tp": "KRX", "cond_uv": "0000000000",
    }  # fmt: skip


def bot_for(fake: FakeKiwoom) -> Bot:
    return Bot(
        "https://mockapi.kiwoom.com", APPKEY, SECRET, realtime=False,
        transport=fake.async_transport(), limiter=False,
    )  # fmt: skip


def test_order_dates_are_the_queryable_weekdays() -> None:
    today = dt.date(2025, 9, 10)  # a Wednesday
    days = trades.order_dates("20250101", None, today=today)
    assert days[0] == dt.date(2025, 7, 7)  # 65 days back, the next weekday
    assert days[-1] == today and all(d.weekday() < 5 for d in days)
    assert trades.order_dates("20250906", "20250908", today=today) == [dt.date(2025, 9, 8)]


def test_trade_in_the_0343_layout(tmp_path: Path) -> None:
    start = TODAY - dt.timedelta(days=6)
    days = trades.order_dates(start, TODAY)

    def route(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        rows = [execution("0000123", "10")] if body["ord_dt"] == days[-1].strftime("%Y%m%d") else []
        return ok({"acnt_ord_cntr_prst_array": rows})

    fake = FakeKiwoom(routes={"kt00009": route})

    async def main():  # type: ignore[no-untyped-def]
        async with bot_for(fake) as bot:
            return await bot.trades(start), await bot.trade(start.strftime("%Y%m%d"))

    rows, df = asyncio.run(main())
    assert len(fake.calls("kt00009")) == 2 * len(days)
    assert fake.calls("kt00009")[0].body == {
        "ord_dt": days[0].strftime("%Y%m%d"), "qry_tp": "1", "stk_bond_tp": "1", "mrkt_tp": "0",
        "sell_tp": "0", "dmst_stex_tp": "%",
    }  # fmt: skip
    (row,) = rows
    assert (row.ord_dt, row.ord_no, row.cntr_qty, row.cntr_tm) == (
        days[-1], "0000123", 10, dt.time(9, 15, 3)
    )  # fmt: skip
    assert list(df.columns) == list(trades.SCREEN_0343)
    record = df.iloc[0].to_dict()
    assert record["주식채권"] == "주식" and record["주문번호"] == 123
    assert record["원주문번호"] == "" and record["종목번호"] == "005930"
    assert record["체결시간"] == "91503" and record["주문일자"] == days[-1].isoformat()

    asyncio.run(proc_trade.to_csv("trade.csv", str(tmp_path), df))
    lines = (tmp_path / "trade.csv").read_bytes().decode("cp949").splitlines()
    assert lines[0].split(",") == list(trades.SCREEN_0343_LINES[0])
    assert lines[1].split(",") == list(trades.SCREEN_0343_LINES[1])
    assert lines[2].split(",")[:4] == ["주식", "123", "", "005930"]
    assert lines[3].split(",")[:2] == [days[-1].isoformat(), "삼성전자"]


def listing(code: str, name: str, market: str, nxt: str) -> dict[str, str]:
    return {
        "code": code, "name": name, "listCount": "0000000010000000", "auditInfo": "정상",
        "regDay": "20100101", "lastPrice": "00070000", "state": "증거금20%",
        "marketCode": market, "marketName": {"0": "거래소", "10": "코스닥", "8": "ETF"}[market],
        "upName": "", "upSizeName": "", "companyClassName": "", "orderWarning": "0",
        "nxtEnable": nxt,
    }  # fmt: skip


MARKET_ROWS = {
    "0": [listing("005930", "삼성전자", "0", "Y"), listing("000660", "SK하이닉스", "0", "N")],
    "10": [listing("035720", "카카오", "10", "Y"), listing("440790", "하나30호스팩", "10", "N")],
    "8": [listing("069500", "KODEX 200", "8", "N")],
}


def lists_route(request: httpx.Request) -> httpx.Response:
    market = json.loads(request.content)["mrkt_tp"]
    return ok({"list": MARKET_ROWS.get(market, [])})


def test_stock_list_with_integrated_codes_filters_and_flags() -> None:
    sectors = [{"marketCode": "0", "code": c, "name": n, "group": c[-1]}
               for c, n in (("002", "대형주"), ("001", "종합(KOSPI)"))]  # fmt: skip
    fake = FakeKiwoom(routes={"ka10099": lists_route, "ka10101": ok({"list": sectors})})

    async def main():  # type: ignore[no-untyped-def]
        async with bot_for(fake) as bot:
            return (
                await bot.stock_list("0", ats=True),
                await bot.stock_list("0", ats=False),
                await bot.stock_list("KOSDAQ", spac=False),
                await bot.stock_list("NXT"),
                await bot.stocks("10"),
                await bot.stock_list("8"),
                await bot.sector_list("0"),
            )

    kospi_al, kospi, kosdaq, nxt, listings, etf, sector = asyncio.run(main())
    assert kospi_al == ["000660", "005930_AL"]
    assert kospi == ["000660", "005930"]
    assert kosdaq == ["035720_AL"]
    assert nxt == ["005930_AL", "035720_AL"]
    spac = next(x for x in listings if x.code == "440790")
    assert spac.spac and not spac.etf and spac.integrated == "440790"
    kakao = next(x for x in listings if x.code == "035720")
    assert kakao.nxt_code == "035720_NX" and kakao.listed == dt.date(2010, 1, 1)
    assert etf == ["069500"]
    assert sector == ["001", "002"]
    assert [s.body for s in fake.calls("ka10099")][:2] == [{"mrkt_tp": "0"}, {"mrkt_tp": "0"}]


def test_an_unknown_market_fails_before_sending() -> None:
    fake = FakeKiwoom()

    async def main() -> None:
        async with bot_for(fake) as bot:
            await bot.stock_list("NASDAQ")

    with pytest.raises(InvalidRequestError, match="mrkt_tp"):
        asyncio.run(main())
    assert fake.calls("ka10099") == []
