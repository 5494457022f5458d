"""Paging over cont-yn / next-key: every page, early stop, collect, sync and async."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
from _fake import APPKEY, SECRET, FakeKiwoom, chart_page, rejected

import kiwoom
from kiwoom._paging import list_fields

DAILY = {"stk_cd": "005930", "base_dt": "20250908", "upd_stkpc_tp": "1"}

# Three pages, newest first, as Kiwoom sends a daily chart.
PAGES = {
    None: chart_page([("20250908", "100"), ("20250905", "99")], next_key="K2"),
    "K2": chart_page([("20250904", "98"), ("20250903", "97")], next_key="K3"),
    "K3": chart_page([("20250902", "96")]),
}


def paged_server() -> FakeKiwoom:
    def route(request: httpx.Request) -> httpx.Response:
        return PAGES[request.headers.get("next-key")]

    return FakeKiwoom(routes={"ka10081": route})


def sync_client(fake: FakeKiwoom) -> kiwoom.Kiwoom:
    return kiwoom.Kiwoom(APPKEY, SECRET, transport=fake.transport(), limiter=False)


def async_client(fake: FakeKiwoom) -> kiwoom.AsyncKiwoom:
    return kiwoom.AsyncKiwoom(APPKEY, SECRET, transport=fake.async_transport(), limiter=False)


def test_every_page_with_next_key_echoed():
    fake = paged_server()
    client = sync_client(fake)
    pages = list(client.pages(client.chart.daily, **DAILY))
    assert [len(p.stk_dt_pole_chart_qry) for p in pages] == [2, 2, 1]
    sent = fake.calls("ka10081")
    assert [s.headers.get("next-key") for s in sent] == [None, "K2", "K3"]
    assert [s.headers.get("cont-yn") for s in sent] == [None, "Y", "Y"]
    assert all(s.body == DAILY for s in sent)


def test_early_stop_by_predicate():
    fake = paged_server()
    client = sync_client(fake)
    start = dt.date(2025, 9, 5)
    pages = list(
        client.pages(client.chart.daily, **DAILY).until(
            lambda page: page.stk_dt_pole_chart_qry[-1].dt <= start
        )
    )
    assert len(pages) == 1 and len(fake.calls("ka10081")) == 1
    assert len(list(client.pages(client.chart.daily, **DAILY).limit(2))) == 2


def test_collect_concatenates_the_rows():
    client = sync_client(paged_server())
    merged = client.pages(client.chart.daily, **DAILY).collect()
    assert isinstance(merged, kiwoom.Ka10081Response)
    assert merged.stk_cd == "005930"
    assert [r.dt.day for r in merged.stk_dt_pole_chart_qry] == [8, 5, 4, 3, 2]
    assert list_fields(kiwoom.Ka10081Response) == ("stk_dt_pole_chart_qry",)


def test_pages_by_api_id():
    client = sync_client(paged_server())
    pages = list(client.pages("ka10081", DAILY))
    assert len(pages) == 3 and isinstance(pages[0], kiwoom.Ka10081Response)


def test_no_data_ends_paging_cleanly():
    fake = FakeKiwoom(routes={"ka10081": rejected(20, "조회된 데이터가 없습니다")})
    client = sync_client(fake)
    pages = list(client.pages(client.chart.daily, **DAILY))
    assert len(pages) == 1 and pages[0].stk_dt_pole_chart_qry == []
    assert client.pages(client.chart.daily, **DAILY).collect().stk_dt_pole_chart_qry == []


def test_async_pages_until_and_collect():
    fake = paged_server()

    async def main():
        client = async_client(fake)
        seen = [p async for p in client.pages(client.chart.daily, **DAILY)]
        merged = await client.pages(client.chart.daily, **DAILY).collect()
        stopped = [
            p
            async for p in client.pages("ka10081", DAILY).until(
                lambda p: p.stk_dt_pole_chart_qry[-1].dt <= dt.date(2025, 9, 3)
            )
        ]
        return seen, merged, stopped

    seen, merged, stopped = asyncio.run(main())
    assert [len(p.stk_dt_pole_chart_qry) for p in seen] == [2, 2, 1]
    assert len(merged.stk_dt_pole_chart_qry) == 5
    assert len(stopped) == 2
    assert [s.headers.get("next-key") for s in fake.calls("ka10081")[:3]] == [None, "K2", "K3"]
