"""The simulator's REST behaviour: tokens, limits, checks, paging, faults; and its market data
agrees with itself across the views."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import AsyncIterator
from functools import partial

import httpx
import msgspec
import pytest

import kiwoom
from kiwoom.sim import Simulator, tick_size
from kiwoom.sim._rest import _Window

KEYS = {"appkey": "rest-appkey", "secretkey": "rest-secretkey"}
START = dt.datetime(2026, 12, 2, 11, 0)


def _token(http: httpx.Client | httpx.AsyncClient, url: str) -> str:
    body = {"grant_type": "client_credentials", **KEYS}
    answer = httpx.post(f"{url}/oauth2/token", headers={"api-id": "au10001"}, json=body)
    assert answer.status_code == 200
    data = answer.json()
    assert data["return_code"] == 0 and data["token_type"] == "bearer"
    assert dt.datetime.strptime(data["expires_dt"], "%Y%m%d%H%M%S")
    return str(data["token"])


def test_sixth_query_inside_one_second_is_rejected_with_the_official_code():
    with Simulator(seed=3, start=START, speed=0) as sim:
        token = _token(httpx, sim.url)
        headers = {"api-id": "ka10001", "authorization": f"Bearer {token}"}

        async def burst() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=sim.url) as http:
                calls = [
                    http.post("/api/dostk/stkinfo", headers=headers, json={"stk_cd": "005930"})
                    for _ in range(6)
                ]
                return await asyncio.gather(*calls)

        answers = asyncio.run(burst())
        rejected = [a for a in answers if a.status_code == 429]
        assert len(rejected) == 1
        assert all(a.json()["return_code"] == 0 for a in answers if a.status_code == 200)
        body = rejected[0].json()
        assert body["return_code"] == 5
        assert body["return_msg"].startswith("[1701:")
        assert "유량=5" in body["return_msg"] and "API ID=ka10001" in body["return_msg"]
        assert sim.stats.rejections == {1701: 1}
        # The SDK reads it as a rate-limit error stating the allowance.
        error = kiwoom.errors.api_error("ka10001", 5, body["return_msg"], 429)
        assert isinstance(error, kiwoom.errors.RateLimitError) and error.allowance == 5


def test_calls_count_at_their_arrival_not_when_their_body_is_read():
    # Five calls whose bodies come 0.6 s after their headers, then a sixth 1.05 s after the
    # five arrived: a second apart at arrival, so it is let through (counted when their
    # bodies were read, the five would look 0.45 s before it).
    with Simulator(seed=3, start=START, speed=0) as sim:
        token = _token(httpx, sim.url)
        headers = {"api-id": "ka10001", "authorization": f"Bearer {token}"}

        async def slow_body() -> AsyncIterator[bytes]:
            await asyncio.sleep(0.6)
            yield b'{"stk_cd": "005930"}'

        async def calls() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=sim.url) as http:
                post = partial(http.post, "/api/dostk/stkinfo", headers=headers)
                five = [asyncio.ensure_future(post(content=slow_body())) for _ in range(5)]
                await asyncio.sleep(1.05)
                return [*await asyncio.gather(*five), await post(json={"stk_cd": "005930"})]

        answers = asyncio.run(calls())
        assert [a.status_code for a in answers] == [200] * 6
        assert sim.stats.rejections == {}


def test_the_window_checks_arrivals_in_any_order():
    window = _Window()
    for t in (0.0, 0.2, 0.4, 0.6, 1.1, 0.8):  # 1.1 checked before 0.8, which arrived first
        assert window.admits(t, 5)
        window.add(t)
    assert not window.admits(0.9, 5)  # six in [0, 1)
    assert not window.admits(1.05, 5)  # six in [0.2, 1.2)
    assert window.admits(1.25, 5)  # five in [0.4, 1.4), four in [0.8, 1.8)
    assert not window.admits(1.5, 1) and window.admits(2.1, 1)


def test_a_per_api_allowance_is_taught_to_the_sdk_limiter():
    with (
        Simulator(seed=3, start=START, speed=0, per_api_limits={"ka10081": 1}) as sim,
        kiwoom.Kiwoom(host=sim.url, **KEYS) as client,
    ):
        for _ in range(3):
            client.chart.daily(stk_cd="005930", base_dt="20261202", upd_stkpc_tp="1")
        # One rejection at most (1700, 유량=1): after it the limiter keeps to 1/s.
        assert set(sim.stats.rejections) <= {1700}
        assert sim.stats.rejections[1700] <= 1
        assert sim.stats.requests["ka10081"] == 3 + sim.stats.rejections[1700]


def test_token_expiry_revoke_and_8005(sim):
    issued = sim.stats.tokens_issued
    with kiwoom.Kiwoom(host=sim.url, **KEYS) as client:
        client.stock_info.basic_info(stk_cd="005930")
        sim.faults.expire_tokens()
        # The SDK sees 8005, issues a new token once and repeats the call.
        assert client.stock_info.basic_info(stk_cd="000660").stk_nm == "SK하이닉스"
    assert sim.stats.tokens_issued == issued + 2
    assert sim.stats.errors[8005] >= 1
    assert sim.stats.tokens_revoked >= 1
    answer = httpx.post(
        f"{sim.url}/api/dostk/stkinfo",
        headers={"api-id": "ka10001", "authorization": "Bearer not-a-token"},
        json={"stk_cd": "005930"},
    )
    assert answer.json() == {"return_code": 3, "return_msg": "[8005:Token이 유효하지 않습니다]"}


def test_request_checks_answer_with_official_codes(fast_sim):
    sim = fast_sim  # raw calls bypass the SDK limiter: a simulator without limits
    token = _token(httpx, sim.url)
    auth = {"authorization": f"Bearer {token}"}

    def post(path: str, api_id: str | None, body: object) -> dict[str, object]:
        headers = {**auth, **({"api-id": api_id} if api_id else {})}
        return httpx.post(f"{sim.url}{path}", headers=headers, json=body).json()  # type: ignore[no-any-return]

    assert post("/api/dostk/stkinfo", None, {})["return_msg"].startswith("[1501:")
    assert post("/api/dostk/stkinfo", "zz99999", {})["return_msg"].startswith("[1505:")
    assert post("/api/dostk/chart", "ka10001", {"stk_cd": "005930"})["return_msg"].startswith(
        "[1504:"
    )
    missing = post("/api/dostk/chart", "ka10081", {"stk_cd": "005930", "upd_stkpc_tp": "1"})
    assert missing["return_msg"].startswith("[1511:") and "base_dt" in missing["return_msg"]
    bad = post("/api/dostk/chart", "ka10081", {"stk_cd": "005930", "base_dt": "2025-09-08",
                                                "upd_stkpc_tp": "1"})  # fmt: skip
    assert bad["return_msg"].startswith("[1517:")
    unknown = post("/api/dostk/stkinfo", "ka10001", {"stk_cd": "999999"})
    assert unknown["return_msg"].startswith("[1902:")
    no_data = post("/api/dostk/chart", "ka10081", {"stk_cd": "005930", "base_dt": "20000103",
                                                   "upd_stkpc_tp": "1"})  # fmt: skip
    assert no_data["return_code"] == 20


def test_five_years_of_daily_candles_page_back_and_agree_with_the_market(sim):
    start = dt.date(2021, 12, 1)
    with kiwoom.Kiwoom(host=sim.url, **KEYS) as client:
        pages = client.pages(
            client.chart.daily, stk_cd="000660", base_dt=sim.clock.today(), upd_stkpc_tp="1"
        ).until(lambda page: page.stk_dt_pole_chart_qry[-1].dt < start)
        rows = [r for page in pages for r in page.stk_dt_pole_chart_qry]
    assert len({r.dt for r in rows}) == len(rows) > 5 * 250
    own = {c.time.date(): c for c in sim.market.candles("000660", "day", start=start)}
    served = {r.dt: r for r in rows if r.dt >= start}
    assert served.keys() == own.keys()
    for day, c in own.items():
        r = served[day]
        assert (r.open_pric, r.high_pric, r.low_pric, r.cur_prc, r.trde_qty) == (
            c.open, c.high, c.low, c.close, c.volume
        )  # fmt: skip


def test_views_of_one_price_path_agree(sim):
    market = sim.market
    for code in ("005930", "035720", "069500", "001", "AAPL"):
        inst = market.instrument(code)
        days = market.candles(code, "day", start=dt.date(2026, 1, 1))
        minutes = market.candles(code, "min")
        ticks = market.candles(code, "tick")
        today, q = days[-1], market.quote(code)
        assert (today.open, today.high, today.low, today.close, today.volume) == (
            q.open, q.high, q.low, q.price, q.volume
        )  # fmt: skip
        for series in (minutes, ticks):
            assert series[0].open == today.open and series[-1].close == today.close
            assert max(c.high for c in series) == today.high
            assert min(c.low for c in series) == today.low
            assert sum(c.volume for c in series) == today.volume
        for prev, c in itertools.pairwise(days):
            upper, lower = market.limits(inst, prev.close)
            assert lower <= c.low <= c.open <= c.high <= upper or lower <= c.low <= c.high
            for p in (c.open, c.high, c.low, c.close):
                assert p % tick_size(p, inst.market) == 0 and lower <= p <= upper
        # A past day's minutes add up to its daily bar.
        past = days[-2].time.date()
        bars = market.minutes(code, past)
        bar = market.day_bar(code, past)
        assert (bars[0].open, bars[-1].close, sum(b.volume for b in bars)) == (
            bar.open, bar.close, bar.volume
        )  # fmt: skip
        assert max(b.high for b in bars) == bar.high and min(b.low for b in bars) == bar.low


def test_the_same_seed_repeats_and_another_differs():
    a = Simulator(seed=11, start=START, speed=0)
    b = Simulator(seed=11, start=START, speed=0)
    c = Simulator(seed=12, start=START, speed=0)
    first = a.market.candles("005930", "day", start=dt.date(2024, 1, 1))
    assert first == b.market.candles("005930", "day", start=dt.date(2024, 1, 1))
    assert first != c.market.candles("005930", "day", start=dt.date(2024, 1, 1))
    assert a.market.candles("005930", "tick") == b.market.candles("005930", "tick")


def test_faults_over_http_and_in_process(fast_sim):
    sim = fast_sim
    token = _token(httpx, sim.url)
    headers = {"api-id": "ka10001", "authorization": f"Bearer {token}"}
    fault = {"action": "fail_next", "args": {"n": 1, "status": 503}}
    answer = httpx.post(f"{sim.url}/sim/faults", json=fault)
    assert answer.json() == {"ok": True}
    first = httpx.post(f"{sim.url}/api/dostk/stkinfo", headers=headers, json={"stk_cd": "005930"})
    second = httpx.post(f"{sim.url}/api/dostk/stkinfo", headers=headers, json={"stk_cd": "005930"})
    assert (first.status_code, second.status_code) == (503, 200)
    sim.faults.fail_next(1)
    with kiwoom.Kiwoom(host=sim.url, **KEYS) as client:
        # A query is retried after a 5xx; the answer arrives.
        assert client.stock_info.basic_info(stk_cd="005930").stk_cd == "005930"
    stats = httpx.get(f"{sim.url}/sim/stats").json()
    assert stats["requests"]["ka10001"] >= 4
    unknown = httpx.post(f"{sim.url}/sim/faults", json={"action": "nope"})
    assert unknown.status_code == 400 and msgspec.json.decode(unknown.content)["ok"] is False


@pytest.mark.parametrize("code", ["005930", "001", "AAPL"])
def test_chart_paging_has_no_gaps_or_overlaps(sim, code):
    api = {"005930": "ka10080", "001": "ka20005", "AAPL": "usa06011"}[code]
    key = "inds_cd" if code == "001" else "stk_cd"
    extra = {"stex_tp": "ND"} if code == "AAPL" else {"upd_stkpc_tp": "1"} if code != "001" else {}
    with kiwoom.Kiwoom(host=sim.url, **KEYS) as client:
        first = client.call_raw(api, {key: code, "tic_scope": "1", **extra})
        assert first.cont_yn and first.next_key
        second = client.call_raw(
            api, {key: code, "tic_scope": "1", **extra}, next_key=first.next_key
        )
    rows = [r for raw in (first, second) for r in _rows(raw.decode())]
    times = [r.cntr_tm for r in rows]
    assert times == sorted(times, reverse=True) and len(set(times)) == len(times)


def _rows(response: object) -> list[object]:
    """The rows of a chart response (its one list field)."""
    for name in response.__struct_fields__:  # type: ignore[attr-defined]
        value = getattr(response, name)
        if isinstance(value, list):
            return value
    raise AssertionError("no rows")
