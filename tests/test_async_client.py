"""The asyncio client: the same behaviour as the blocking one, and one token for many tasks."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest
from _fake import APPKEY, SECRET, FakeKiwoom, chart_page, ok, rejected

import kiwoom
from kiwoom import AsyncKiwoom
from kiwoom.errors import OrderOutcomeUnknownError, RateLimitError

DAILY = {"stk_cd": "005930", "base_dt": "20250908", "upd_stkpc_tp": "1"}


def make(fake: FakeKiwoom, **kw) -> tuple[AsyncKiwoom, list[float]]:
    kw.setdefault("limiter", False)
    client = AsyncKiwoom(APPKEY, SECRET, transport=fake.async_transport(), **kw)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    client._sleep = sleep
    return client, waits


def run(coro):
    return asyncio.run(coro)


def test_call_on_the_wire_and_close_revokes():
    fake = FakeKiwoom(routes={"ka10081": chart_page([("20250908", "-70100")])})

    async def main():
        async with make(fake)[0] as client:
            return await client.chart.daily(**DAILY)

    resp = run(main())
    assert isinstance(resp, kiwoom.Ka10081Response)
    assert resp.stk_dt_pole_chart_qry[0].cur_prc == 70100
    sent = fake.calls("ka10081")[0]
    assert (sent.path, sent.headers["api-id"], sent.body) == ("/api/dostk/chart", "ka10081", DAILY)
    assert sent.headers["authorization"] == "Bearer tok-1"
    assert fake.revoked == ["tok-1"]


def test_order_whose_answer_times_out_is_sent_exactly_once():
    def route(request):
        raise httpx.ReadTimeout("no answer")

    fake = FakeKiwoom(routes={"kt10000": route})

    async def main():
        client, waits = make(fake, retries=5)
        with pytest.raises(OrderOutcomeUnknownError) as info:
            await client.order.buy(dmst_stex_tp="KRX", stk_cd="005930", ord_qty="1", trde_tp="3")
        return waits, info.value

    waits, err = run(main())
    assert len(fake.calls("kt10000")) == 1 and waits == []
    assert err.request.stk_cd == "005930"


def test_queries_retry_and_rate_limit_is_learned():
    msg = "[1700:허용된 요청 개수를 초과하였습니다. 유량=1, API ID=ka10081]"
    fake = FakeKiwoom(
        routes={"ka10081": [httpx.Response(500, text="x"), rejected(5, msg, 429), ok()]}
    )
    limiter = kiwoom.ratelimit.RateLimiter()

    async def main():
        client, waits = make(fake, limiter=limiter)
        await client.chart.daily(**DAILY)
        return waits

    waits = run(main())
    assert len(fake.calls("ka10081")) == 3 and len(waits) == 2
    assert limiter.stats.rejections == {1700: 1}
    assert limiter.stats.learned == {"api:ka10081": 1.0}


def test_rate_limit_error_when_retries_run_out():
    fake = FakeKiwoom(routes={"ka10081": rejected(5, "[1702:그룹 유량 초과]")})

    async def main():
        client, _ = make(fake, retries=2)
        await client.chart.daily(**DAILY)

    with pytest.raises(RateLimitError):
        run(main())
    assert len(fake.calls("ka10081")) == 3


def test_generic_call_raw_and_last_response():
    fake = FakeKiwoom(routes={"ka10081": chart_page([("20250908", "1")], next_key="N2")})

    async def main():
        client, _ = make(fake)
        resp = await client.call("ka10081", DAILY)
        raw = await client.call_raw("ka10081", DAILY)
        await client.chart.daily(**DAILY)
        return resp, raw, client.last_response

    resp, raw, last = run(main())
    assert isinstance(resp, kiwoom.Ka10081Response)
    assert raw.cont_yn and raw.next_key == "N2" and raw.decode() == resp
    assert last is not None and last.next_key == "N2"


def test_last_response_is_per_task():
    def route(request):
        key = request.read().decode()
        return chart_page([], next_key="A" if "000001" in key else "B")

    fake = FakeKiwoom(routes={"ka10081": route})

    async def one(client, code):
        await client.chart.daily(stk_cd=code, base_dt=dt.date(2025, 9, 8), upd_stkpc_tp="1")
        await asyncio.sleep(0)
        return client.last_response.next_key

    async def main():
        client, _ = make(fake)
        return await asyncio.gather(*(one(client, c) for c in ["000001", "000002"] * 10))

    assert run(main()) == ["A", "B"] * 10
