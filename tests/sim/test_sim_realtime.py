"""The simulator's socket through the SDK's real-time runtime: LOGIN, PING, REG/REMOVE, REAL
frames that agree with the market, condition search, and the socket faults."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
import websockets

import kiwoom
from kiwoom.sim import Simulator, tick_size

KEYS = {"appkey": "rt-appkey", "secretkey": "rt-secretkey"}
CODES = ["005930", "000660", "035720"]


@pytest.fixture
def live() -> Iterator[Simulator]:
    """A running clock (one simulated minute per second), ten pushes a second, quick PINGs."""
    start = dt.datetime(2026, 12, 2, 10, 0)
    with Simulator(seed=7, start=start, speed=60, real_rate=10, ping_interval=0.3) as sim:
        yield sim
    assert sim.stats.rate_limited == 0, sim.stats.rejections


async def _collect(stream: Any, into: list[Any], n: int, timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        async for tick in stream:
            into.append(tick)
            if len(into) >= n:
                return


def test_trades_and_order_books_stream_and_agree_with_the_market(live):
    async def main() -> tuple[list[Any], list[Any], Any]:
        async with kiwoom.AsyncKiwoom(host=live.url, **KEYS) as client, client.realtime() as rt:
            trades: list[Any] = []
            books: list[Any] = []
            await rt.register(CODES, ["0B", "0D"], group="1")
            await asyncio.gather(
                _collect(rt.stream("0B", CODES), trades, 30),
                _collect(rt.stream("0D", CODES), books, 10),
            )
            await asyncio.sleep(1.0)  # a few PINGs
            return trades, books, rt.stats()

    trades, books, stats = asyncio.run(main())
    assert {t.item for t in trades} == set(CODES)
    today = live.clock.today()
    for t in trades:
        inst = live.market.instrument(t.item)
        bar = live.market.day_bar(t.item, today)
        price = t.values.cur_prc
        assert price % tick_size(price, inst.market) == 0
        assert bar.low <= price <= bar.high
        assert t.values.pred_pre == price - bar.prev_close
        assert bar.low <= t.values.low_pric <= t.values.high_pric <= bar.high
        # The trade happened at a simulated time whose trades include this price.
        minute = (t.values.cntr_tm.hour - 9) * 60 + t.values.cntr_tm.minute
        prices = {k.price for k in live.market.ticks(t.item, today, minute)}
        assert price in prices
    for b in books:
        v = b.values
        assert v.buy_1bid < v.sel_1bid and v.sel_1bid < v.sel_2bid
        assert v.tot_sel_req >= v.sel_1bid_req
    # Several items travel in one frame; PINGs were echoed.
    assert live.stats.items_sent > live.stats.frames_sent > 0
    assert stats.pings >= 2 and live.stats.pings_missed == 0
    assert live.stats.logins == 1


def test_remove_stops_data_and_limits_registrations(live):
    async def main() -> int:
        async with kiwoom.AsyncKiwoom(host=live.url, **KEYS) as client, client.realtime() as rt:
            await rt.register(CODES, ["0B"], group="2")
            got: list[Any] = []
            await _collect(rt.stream("0B"), got, 3)
            await rt.remove("2")
            await asyncio.sleep(0.3)
            before = live.stats.items_sent
            await asyncio.sleep(0.5)
            with pytest.raises(kiwoom.errors.InvalidRequestError):
                await rt.register([f"{i:06d}" for i in range(101)], ["0B"], group="3")
            return live.stats.items_sent - before

    assert asyncio.run(main()) == 0


def test_condition_search_lists_searches_and_watches(live):
    async def main() -> tuple[Any, Any, Any, list[Any]]:
        async with kiwoom.AsyncKiwoom(host=live.url, **KEYS) as client, client.realtime() as rt:
            listed = await rt.conditions()
            found = await rt.condition_search("3")
            watched = await rt.watch_condition("0")
            events: list[Any] = []
            collector = asyncio.create_task(_collect(rt.condition_events("0"), events, 1))
            for _ in range(100):
                live.clock.advance(600)
                await asyncio.sleep(0.05)
                if events:
                    break
            await asyncio.wait_for(collector, 5)
            await rt.stop_condition("0")
            return listed, found, watched, events

    listed, found, watched, events = asyncio.run(main())
    assert [row.seq for row in listed.data] == ["0", "1", "2", "3"]
    names = {row.stk_nm for row in found.data}
    assert names and all(n.startswith("삼성") for n in names)
    samsung = {
        "A" + i.code
        for i in live.market.instruments.values()
        if i.name.startswith("삼성") and i.market in ("KOSPI", "KOSDAQ")
    }
    assert {row.stk_cd for row in found.data} == samsung and len(samsung) >= 8
    assert isinstance(watched.data, list)
    assert events[0].values.seq == "0" and events[0].values.fid_843 in ("I", "D")


def test_account_events_reach_a_us_and_a_domestic_socket(live):
    async def main() -> list[Any]:
        async with kiwoom.AsyncKiwoom(host=live.url, **KEYS) as client, client.realtime() as rt:
            await rt.register([], ["00"], group="9")
            got: list[Any] = []
            collector = asyncio.create_task(_collect(rt.stream("00"), got, 2))
            await asyncio.sleep(0.1)
            await client.order.buy(
                dmst_stex_tp="KRX", stk_cd="035720", ord_qty="3", ord_uv="0", trde_tp="3"
            )
            await collector
            return got

    got = asyncio.run(main())
    assert [t.values.ord_stt for t in got] == ["접수", "체결"]
    assert got[1].values.cntr_qty == 3 and got[1].values.stk_cd == "035720"


def test_faults_drop_malformed_system_and_rapid_reconnects(live):
    async def main() -> Any:
        async with kiwoom.AsyncKiwoom(host=live.url, **KEYS) as client, client.realtime() as rt:
            await rt.register(CODES[:1], ["0B"], group="1")
            got: list[Any] = []
            await _collect(rt.stream("0B"), got, 2)
            live.faults.malformed(1)
            live.faults.system("시뮬레이터 점검 안내")
            live.faults.drop()
            # The SDK reconnects, logs in again and re-registers: data flows again.
            got.clear()
            await _collect(rt.stream("0B"), got, 3)
            return rt.stats()

    stats = asyncio.run(main())
    assert stats.reconnects >= 1
    assert stats.malformed_frames >= 1
    assert live.stats.connections >= 2

    live.faults.reconnect_limit = (0, 60.0)

    async def refused() -> int | None:
        # A raw socket: the close itself is what is checked. (The SDK's connect() lets
        # websockets' ConnectionClosedOK out in this case: reported, not the simulator's.)
        async with websockets.connect(live.ws_url) as ws:
            with pytest.raises(websockets.ConnectionClosedOK):
                await asyncio.wait_for(ws.recv(), 3)
            return ws.close_code

    before = live.stats.logins
    assert asyncio.run(refused()) == 1000
    assert live.stats.logins == before


def test_us_socket_streams_us_trades_and_order_books(live):
    async def main() -> list[Any]:
        async with (
            kiwoom.AsyncKiwoom(host=live.url, **KEYS) as client,
            client.realtime(region="us") as rt,
        ):
            got: list[Any] = []
            await rt.register(["AAPL", "NVDA"], ["FE", "FT"], group="1")
            await _collect(rt.stream(["FE", "FT"]), got, 12)
            return got

    got = asyncio.run(main())
    assert {t.type for t in got} == {"FE", "FT"} and {t.item for t in got} <= {"AAPL", "NVDA"}
    for t in got:
        if t.type == "FE":
            q = live.market.day_bar(t.item, live.clock.today())
            assert q.low / 100 <= t.values.cur_prc <= q.high / 100


def test_a_silent_socket_trips_the_sdk_watchdog_and_recovers(live):
    async def main() -> Any:
        async with (
            kiwoom.AsyncKiwoom(host=live.url, **KEYS) as client,
            client.realtime(watchdog=0.6, request_timeout=1.0) as rt,
        ):
            await rt.register(CODES[:1], ["0B"], group="1")
            got: list[Any] = []
            await _collect(rt.stream("0B"), got, 1)
            live.faults.silent = True
            async with asyncio.timeout(10):
                while rt.stats().watchdog_trips == 0:
                    await asyncio.sleep(0.05)
            live.faults.silent = False
            got.clear()
            await _collect(rt.stream("0B"), got, 2)
            return rt.stats()

    stats = asyncio.run(main())
    assert stats.watchdog_trips >= 1 and stats.reconnects >= 1


def test_delay_slows_answers(live):
    live.faults.delay = 0.3
    try:
        with kiwoom.Kiwoom(host=live.url, **KEYS) as client:
            t = time.perf_counter()
            client.stock_info.basic_info(stk_cd="005930")
            assert time.perf_counter() - t >= 0.3
    finally:
        live.faults.delay = 0.0


def test_a_slow_consumer_drops_the_oldest_and_counts_them():
    """Backpressure: every push carries 40 items; a stream of 20 that is not read fills up,
    drops the oldest ticks and says how many, while the socket keeps reading."""
    start = dt.datetime(2026, 12, 2, 10, 0)

    async def main() -> tuple[Any, int]:
        async with (
            Simulator(seed=7, start=start, speed=60, real_rate=20, real_every_push=True) as sim,
            kiwoom.AsyncKiwoom(host=sim.url, **KEYS) as client,
            client.realtime() as rt,
        ):
            codes = [c for c, i in sim.market.instruments.items() if i.market == "KOSPI"][:20]
            slow = rt.stream("0B", maxsize=20)
            await rt.register(codes, ["0B", "0D"], group="1")
            await asyncio.sleep(1.0)
            first = await anext(aiter(slow))
            assert first.type == "0B"
            return rt.stats(), sim.stats.items_sent

    stats, sent = asyncio.run(main())
    counters = stats.types["0B"]
    assert counters.dropped > 0
    assert counters.received >= counters.dropped + 20
    assert sent >= counters.received


def test_every_market_data_type_arrives_and_decodes(live):
    types = [
        e.api_id
        for e in kiwoom.catalog.entries("realtime")
        if e.region == "domestic" and e.api_id not in ("00", "04")
    ]

    async def main() -> tuple[set[str], Any]:
        async with kiwoom.AsyncKiwoom(host=live.url, **KEYS) as client, client.realtime() as rt:
            seen: set[str] = set()
            stream = rt.stream(types)
            await rt.register(["005930"], types, group="1")
            async with asyncio.timeout(10):
                async for tick in stream:
                    assert type(tick.values) is kiwoom.catalog.get(tick.type).response_type
                    seen.add(tick.type)
                    if len(seen) == len(types):
                        break
            return seen, rt.stats()

    seen, stats = asyncio.run(main())
    assert seen == set(types) and len(types) == 17
    assert sum(c.decode_errors for c in stats.types.values()) == 0
    assert stats.malformed_frames == 0
