"""Candles: special bar times, paging until start is covered, slicing, every API id."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from _charts import paged
from _fake import APPKEY, SECRET, FakeKiwoom, ok

from kiwoom import AsyncKiwoom, Kiwoom, candles
from kiwoom.candles import bar_time
from kiwoom.errors import InvalidRequestError


def daily_rows(first: dt.date, days: int) -> list[dict[str, str]]:
    """Weekday bars from ``first`` on, newest first, with signed wire prices."""
    rows = []
    day = first
    n = 0
    while n < days:
        if day.weekday() < 5:
            price = 10_000 + 10 * n
            rows.append(
                {
                    "dt": day.strftime("%Y%m%d"), "cur_prc": f"-{price}",
                    "open_pric": f"+{price - 10}", "high_pric": f"+{price + 20}",
                    "low_pric": f"-{price - 30}",
                    "trde_qty": str(1000 + n), "trde_prica": str(12 + n),
                }
            )  # fmt: skip
            n += 1
        day += dt.timedelta(days=1)
    return rows[::-1]


def client_for(fake: FakeKiwoom) -> AsyncKiwoom:
    return AsyncKiwoom(APPKEY, SECRET, transport=fake.async_transport(), limiter=False)


@pytest.mark.parametrize(
    ("text", "code", "sector", "expected"),
    [
        ("20250908093015", "005930", False, dt.datetime(2025, 9, 8, 9, 30, 15)),
        ("20250908888888", "005930", False, dt.datetime(2025, 9, 8, 16, 0)),
        ("20250908999999", "005930", False, dt.datetime(2025, 9, 8, 18, 0)),
        ("20250908888888", "001", True, dt.datetime(2025, 9, 8, 16, 0)),
        ("20250908888888", "253", True, dt.datetime(2025, 9, 8, 17, 0)),
        ("20250908888888", "254", True, dt.datetime(2025, 9, 8, 17, 0)),
        ("20250908999999", "254", True, dt.datetime(2025, 9, 8, 18, 0)),
        # 253 as a stock-like code is not the sector: 16:00.
        ("20250908888888", "253", False, dt.datetime(2025, 9, 8, 16, 0)),
        # The exam days open and close an hour late; capped at 18:00.
        ("20231116888888", "005930", False, dt.datetime(2023, 11, 16, 17, 0)),
        ("20231116999999", "005930", False, dt.datetime(2023, 11, 16, 18, 0)),
        ("20241114888888", "253", True, dt.datetime(2024, 11, 14, 18, 0)),
        ("20201203888888", "001", True, dt.datetime(2020, 12, 3, 17, 0)),
        ("20251113888888", "005930", False, dt.datetime(2025, 11, 13, 17, 0)),
        ("20251113100000", "005930", False, dt.datetime(2025, 11, 13, 10, 0)),
    ],
)
def test_special_bar_times(text: str, code: str, sector: bool, expected: dt.datetime) -> None:
    assert bar_time(text, code, sector=sector) == expected


def test_every_delayed_opening_is_listed() -> None:
    assert sorted(candles.DELAYED_OPENINGS) == [
        dt.date(2020, 12, 3), dt.date(2021, 11, 18), dt.date(2022, 11, 17),
        dt.date(2023, 11, 16), dt.date(2024, 11, 14), dt.date(2025, 11, 13),
    ]  # fmt: skip


def test_paging_stops_once_start_is_covered_and_rows_are_sliced() -> None:
    rows = daily_rows(dt.date(2025, 1, 1), 100)  # 100 weekdays, 20 a page: 5 pages
    fake = FakeKiwoom(routes={"ka10081": paged("stk_dt_pole_chart_qry", rows, 20)})
    start, end = dt.date(2025, 4, 1), dt.date(2025, 4, 30)

    async def main() -> list[candles.Candle]:
        async with client_for(fake) as client:
            return await candles.fetch_async(client, "005930", "day", start=start, end=end)

    got = asyncio.run(main())
    assert [c.time.date() for c in got] == sorted(
        dt.date(int(r["dt"][:4]), int(r["dt"][4:6]), int(r["dt"][6:]))
        for r in rows
        if "20250401" <= r["dt"] <= "20250430"
    )
    assert got == sorted(got, key=lambda c: c.time)
    first = got[0]
    wire = next(r for r in rows if r["dt"] == first.time.strftime("%Y%m%d"))
    assert (first.open, first.high, first.low, first.close) == (
        int(wire["open_pric"]), int(wire["high_pric"]), -int(wire["low_pric"]),
        -int(wire["cur_prc"]),
    )  # fmt: skip
    assert first.volume == int(wire["trde_qty"]) and first.amount == int(wire["trde_prica"])
    assert all(c.open > 0 and c.low > 0 and c.close > 0 for c in got)
    sent = fake.calls("ka10081")
    assert sent[0].body == {"stk_cd": "005930", "base_dt": "20250430", "upd_stkpc_tp": "1"}
    # Newest first from 2025-04-30: the page reaching back before April 1st is the last one.
    served_before_april = [r for r in rows if r["dt"] <= "20250430"]
    pages_needed = next(
        i // 20 + 1 for i, r in enumerate(served_before_april) if r["dt"] < "20250401"
    )
    assert len(sent) == pages_needed < 5
    assert [s.headers.get("next-key") for s in sent[1:]] == [
        str(20 * i) for i in range(1, pages_needed)
    ]


def test_without_start_every_page_is_fetched_and_the_sync_client_agrees() -> None:
    rows = daily_rows(dt.date(2025, 1, 1), 45)
    fake = FakeKiwoom(routes={"ka10081": paged("stk_dt_pole_chart_qry", rows, 20)})
    with Kiwoom(APPKEY, SECRET, transport=fake.transport(), limiter=False) as client:
        got = candles.fetch(client, "005930", "day", end="20251231", adjusted=False)
    assert len(got) == 45 and len(fake.calls("ka10081")) == 3
    assert fake.calls("ka10081")[0].body["upd_stkpc_tp"] == "0"


def test_minute_bars_read_special_times_from_the_wire() -> None:
    rows = [
        {"cntr_tm": "20250908999999", "cur_prc": "+100", "trde_qty": "5", "open_pric": "100",
         "high_pric": "100", "low_pric": "100"},
        {"cntr_tm": "20250908888888", "cur_prc": "-99", "trde_qty": "7", "open_pric": "98",
         "high_pric": "99", "low_pric": "97"},
        {"cntr_tm": "20250908152900", "cur_prc": "-98", "trde_qty": "3", "open_pric": "98",
         "high_pric": "98", "low_pric": "98"},
    ]  # fmt: skip
    fake = FakeKiwoom(routes={"ka10080": paged("stk_min_pole_chart_qry", rows, 10)})

    async def main() -> list[candles.Candle]:
        async with client_for(fake) as client:
            return await candles.fetch_async(client, "005930", "min", interval=5)

    got = asyncio.run(main())
    assert [c.time.time() for c in got] == [dt.time(15, 29), dt.time(16), dt.time(18)]
    assert [c.close for c in got] == [98, 99, 100]
    assert fake.calls("ka10080")[0].body == {
        "stk_cd": "005930", "tic_scope": "5", "upd_stkpc_tp": "1"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("market", "period", "api_id", "body"),
    [
        ("stock", "tick", "ka10079", {"stk_cd": "X", "tic_scope": "3", "upd_stkpc_tp": "1"}),
        ("stock", "week", "ka10082", {"stk_cd": "X", "base_dt": "20250905", "upd_stkpc_tp": "1"}),
        ("stock", "month", "ka10083", {"stk_cd": "X", "base_dt": "20250905", "upd_stkpc_tp": "1"}),
        ("stock", "year", "ka10094", {"stk_cd": "X", "base_dt": "20250905", "upd_stkpc_tp": "1"}),
        ("sector", "tick", "ka20004", {"inds_cd": "X", "tic_scope": "3"}),
        ("sector", "min", "ka20005", {"inds_cd": "X", "tic_scope": "3", "base_dt": "20250905"}),
        ("sector", "day", "ka20006", {"inds_cd": "X", "base_dt": "20250905"}),
        ("sector", "week", "ka20007", {"inds_cd": "X", "base_dt": "20250905"}),
        ("sector", "month", "ka20008", {"inds_cd": "X", "base_dt": "20250905"}),
        ("sector", "year", "ka20019", {"inds_cd": "X", "base_dt": "20250905"}),
        ("us", "day", "usa06012",
         {"stex_tp": "ND", "stk_cd": "X", "upd_stkpc_tp": "1", "strt_dt": "20250905"}),
        ("us", "min", "usa06011",
         {"stex_tp": "ND", "stk_cd": "X", "upd_stkpc_tp": "1", "tic_scope": "3",
          "strt_dt": "20250905"}),
    ],
)  # fmt: skip
def test_each_market_and_period_asks_its_api(
    market: str, period: str, api_id: str, body: dict[str, str]
) -> None:
    q = candles.query(
        "X", period, market=market, end="20250905", exchange="ND",
        interval=3 if period in ("tick", "min") else 1,
    )  # fmt: skip
    assert q.api_id == api_id
    assert q.request == body


def test_us_prices_are_dollars_and_volumes_ints() -> None:
    rows = [{"dt": "20250905", "cur_prc": "-182.5300", "open_pric": "+180.1000",
             "high_pric": "+183.0000", "low_pric": "-179.9900", "acc_trde_qty": "5000",
             "acc_trde_prica": "912650.5"}]  # fmt: skip
    fake = FakeKiwoom(routes={"usa06012": paged("result_list", rows, 10)})

    async def main() -> list[candles.Candle]:
        async with client_for(fake) as client:
            return await candles.fetch_async(client, "AAPL", "day", market="us", exchange="ND")

    (bar,) = asyncio.run(main())
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (
        180.1, 183.0, 179.99, 182.53, 5000
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"period": "min", "interval": 2}, "tic_scope"),
        ({"period": "tick", "interval": 60}, "tic_scope"),
        ({"period": "hour"}, "period"),
        ({"period": "day", "market": "bond"}, "ctype"),
        ({"period": "day", "start": "20250910", "end": "20250901"}, "start"),
        ({"period": "day", "start": "2025-13-45"}, "start"),
        ({"period": "day", "market": "us"}, "stex_tp"),
    ],
)
def test_bad_arguments_fail_before_sending(kwargs: dict[str, object], field: str) -> None:
    fake = FakeKiwoom()

    async def main() -> None:
        async with client_for(fake) as client:
            await candles.fetch_async(client, "005930", **kwargs)  # type: ignore[arg-type]

    with pytest.raises(InvalidRequestError) as info:
        asyncio.run(main())
    assert info.value.field == field
    assert [s.api_id for s in fake.sent if s.api_id.startswith(("ka", "usa"))] == []


def test_a_placeholder_row_means_no_data() -> None:
    fake = FakeKiwoom(
        routes={"ka10081": ok({"stk_dt_pole_chart_qry": [{"dt": "", "cur_prc": ""}]})}
    )

    async def main() -> list[candles.Candle]:
        async with client_for(fake) as client:
            return await candles.fetch_async(client, "005930", "day", start="20250101")

    assert asyncio.run(main()) == []
    assert len(fake.calls("ka10081")) == 1
