"""The trader's helpers against the simulator: candles equal its own series for every period,
the reference README's examples run, a long history downloads resumably at the limiter's rate,
and an order whose answer is lost is reconciled, never sent twice."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import importlib
import io
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from kiwoom import AsyncKiwoom, Bot, history
from kiwoom._http import default_async_transport
from kiwoom.orders import SafeOrders

sim_module = pytest.importorskip("kiwoom.sim")
pd = pytest.importorskip("pandas")

KST = ZoneInfo("Asia/Seoul")
# A Tuesday mid-session; the clock stands still (speed 0) so both sides see the same data.
NOW = dt.datetime(2025, 9, 2, 11, 0, tzinfo=KST)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def sim() -> Iterator[Any]:
    with sim_module.Simulator(seed=7, speed=0, start=NOW, limits=True) as s:
        yield s


def naive(t: dt.datetime) -> dt.datetime:
    return t.astimezone(KST).replace(tzinfo=None) if t.tzinfo else t


CASES = [
    # (code, ctype, period, interval, start, end)
    ("005930", "stock", "tick", 1, None, None),
    ("005930", "stock", "tick", 10, None, None),
    ("005930", "stock", "min", 1, dt.date(2025, 8, 29), None),
    ("000660", "stock", "min", 5, dt.date(2025, 8, 25), dt.date(2025, 8, 29)),
    ("005930", "stock", "min", 60, dt.date(2025, 8, 11), None),
    ("005930", "stock", "day", 1, dt.date(2023, 1, 1), dt.date(2025, 6, 30)),
    ("069500", "stock", "week", 1, dt.date(2020, 1, 1), None),
    ("005930", "stock", "month", 1, None, None),
    ("005930", "stock", "year", 1, None, None),
    ("001", "sector", "tick", 1, None, None),
    ("001", "sector", "min", 3, dt.date(2025, 9, 1), None),
    ("101", "sector", "day", 1, dt.date(2024, 1, 1), None),
    ("001", "sector", "week", 1, dt.date(2024, 1, 1), None),
    ("201", "sector", "month", 1, None, None),
    ("001", "sector", "year", 1, None, None),
    ("AAPL", "us", "day", 1, dt.date(2024, 1, 1), None),
    ("AAPL", "us", "min", 1, dt.date(2025, 9, 1), None),
]


@pytest.mark.parametrize(("code", "ctype", "period", "interval", "start", "end"), CASES)
def test_candles_equal_the_simulators_own_series(
    sim: Any,
    code: str,
    ctype: str,
    period: str,
    interval: int,
    start: dt.date | None,
    end: dt.date | None,
) -> None:
    async def main() -> tuple[Any, list[Any]]:
        async with Bot(sim.url, "any", "any", realtime=False) as bot:
            frame = await bot.candle(
                code, period, ctype, start or "", end or "", interval=interval, exchange="ND"
            )
            rows = await bot.candles(
                code, period, ctype, start, end, interval=interval, exchange="ND"
            )
            return frame, rows

    frame, rows = asyncio.run(main())
    if period in ("tick", "min"):
        own = sim.market.candles(code, period, start=start, end=end, interval=interval)
    else:
        # Bars are chosen by their date, as Kiwoom dates them (a week by its first day): the
        # simulator's whole series, cut to the range.
        own = [
            c for c in sim.market.candles(code, period, end=end)
            if (start is None or naive(c.time).date() >= start)
        ]  # fmt: skip
    assert len(own) > 0
    # Kiwoom's intraday charts without a start hold today's bars (the simulator's default).
    assert [naive(c.time) for c in own] == list(frame.index.to_pydatetime())
    assert [naive(c.time) for c in own] == [r.time for r in rows]
    scale = 100 if ctype == "us" else 1  # USD on the wire, cents in the simulator
    if period == "tick":
        assert frame["체결가"].tolist() == [c.close / scale if scale > 1 else c.close for c in own]
    else:
        for column, field in (
            ("시가", "open"),
            ("고가", "high"),
            ("저가", "low"),
            ("종가", "close"),
        ):
            assert [round(v * scale) for v in frame[column]] == [getattr(c, field) for c in own]
    assert frame["거래량"].tolist() == [c.volume for c in own]
    assert [(round(r.open * scale), round(r.high * scale), round(r.low * scale)) for r in rows] == [
        (c.open, c.high, c.low) for c in own
    ]
    assert frame.index.is_monotonic_increasing
    if ctype != "us":
        assert all(str(t) == "int64" for t in frame.dtypes)
        assert all(r.close > 0 and isinstance(r.close, int) for r in rows)


# --- the reference README's examples --------------------------------------------------------


def load(name: str) -> Any:
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


def test_example_http_candle_and_trade(
    sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = load("http_candle_trade")
    monkeypatch.chdir(tmp_path)

    class SimDatetime(dt.datetime):  # the example asks the wall clock; the simulator's is older
        @classmethod
        def today(cls) -> SimDatetime:  # type: ignore[override]
            return cls.combine(sim.clock.today(), dt.time())

    monkeypatch.setattr(example, "datetime", SimDatetime)
    monkeypatch.setattr("kiwoom.trades._today_kst", sim.clock.today)

    async def main() -> str | None:
        async with Bot(sim.url, "any", "any", realtime=False) as trader:
            bought = await trader.orders.buy("005930", 3)  # a trade for the 0343 file
        async with example.MyBot(sim.url, "any", "any") as bot:
            await bot.run()
        return bought.ord_no

    ord_no = asyncio.run(main())
    candles = pd.read_csv(tmp_path / "005930_AL.csv", encoding="cp949", index_col=0)
    assert candles.index.name == "체결시간"
    assert list(candles.columns) == ["시가", "고가", "저가", "종가", "거래량"]
    own = sim.market.candles("005930", "min", start=dt.date(2025, 9, 1))
    assert candles["종가"].tolist() == [c.close for c in own]
    lines = (tmp_path / "trade.csv").read_bytes().decode("cp949").splitlines()
    assert lines[0].startswith("주식채권,주문번호,원주문번호,종목번호")
    assert lines[1].startswith("주문일자,종목명")
    # One order, filled at the market: its two lines, from the simulator's account.
    assert len(lines) == 4 and ord_no is not None
    first = dict(zip(lines[0].split(","), lines[2].split(","), strict=True))
    second = dict(zip(lines[1].split(","), lines[3].split(","), strict=True))
    assert (first["주문번호"], first["종목번호"], first["주문수량"]) == (
        str(int(ord_no)),
        "005930",
        "3",
    )
    assert second["체결수량"] == "3" == str(sim.account.orders[ord_no].filled)


def test_example_realtime_callbacks(sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    example = load("realtime_callbacks")
    got: dict[str, Any] = {}

    async def main() -> None:
        async with example.MyBot(sim.url, "any", "any") as bot:
            remove = bot.api.remove_register
            books: list[str] = []
            original = bot.on_receive_order_book

            async def book(raw: str) -> None:
                books.append(raw)
                await original(raw)

            bot.on_receive_order_book = book

            async def wait_then_remove(*args: Any, **kwargs: Any) -> None:
                # The README removes at once; give the feed a moment first so the callbacks run.
                deadline = time.monotonic() + 20
                while (len(bot.ticks) < 3 or not books) and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                await remove(*args, **kwargs)

            monkeypatch.setattr(bot.api, "remove_register", wait_then_remove)
            sim.clock.speed = 1.0
            try:
                await bot.run()
            finally:
                sim.clock.speed = 0.0
            got["ticks"], got["books"] = list(bot.ticks), books
            got["registrations"] = bot.api.realtime.registrations()
            got["kospi"] = await bot.stock_list("0")

    asyncio.run(main())
    assert len(got["ticks"]) >= 3 and got["books"]
    tick = got["ticks"][0]
    assert tick["type"] == "0B" and tick["item"] in got["kospi"] and "10" in tick["values"]
    assert all(not r.items for r in got["registrations"]) or got["registrations"] == []


def test_example_production_script(
    sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    production = load("production")
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "appkey.txt").write_text("sim-appkey\n")
    (keys / "secretkey.txt").write_text("sim-secret-value\n")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(production, "REAL", sim.url)
    asyncio.run(production.main())
    out = capsys.readouterr().out
    assert out.rstrip().endswith("Done")
    assert "ka10099" in out  # debugging printed the exchanges
    assert "sim-secret-value" not in out and "sim-appkey" not in out


# --- the history downloader -----------------------------------------------------------------


_SERVE = """
import datetime as dt, sys
from kiwoom.sim import Simulator
start = dt.datetime.fromisoformat(sys.argv[1])
end = dt.date.fromisoformat(sys.argv[2])
with Simulator(seed=7, speed=0, start=start, limits=False) as sim:
    for code in sys.argv[3:]:  # a code's history is built on first use: not the client's time
        sim.market.candles(code, "day", end=end)
    print(sim.url, flush=True)
    sys.stdin.read()
"""


@contextlib.contextmanager
def simulator_process(end: dt.date, codes: list[str]) -> Iterator[str]:
    """The same simulator (seed, start, frozen clock) in a process of its own: the client's
    pace is then its own and the limiter's, not the GIL's. Its own rate check is off: it
    counts a request when it gets to it, so on a loaded machine a stall followed by a burst
    of queued requests reads as 1701 though they were sent 0.2 s apart."""
    child = subprocess.Popen(
        [sys.executable, "-c", _SERVE, NOW.isoformat(), end.isoformat(), *codes],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        assert url.startswith("http://"), url
        yield url
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(30)


def test_five_years_of_twenty_codes_at_the_limiters_rate(sim: Any, tmp_path: Path) -> None:
    codes = [c for c, i in sim.market.instruments.items() if i.market in ("KOSPI", "KOSDAQ")][:20]
    assert len(codes) == 20
    end = sim.clock.today() - dt.timedelta(days=1)
    start = end.replace(year=end.year - 5)
    console_mod = pytest.importorskip("rich.console")
    screen = io.StringIO()

    async def main(url: str) -> tuple[history.DownloadReport, history.DownloadReport, Any]:
        async with AsyncKiwoom("any", "any", host=url) as client:
            first = await history.download(
                client, codes, tmp_path, start=start, end=end,
                progress=console_mod.Console(file=screen, width=100), today=sim.clock.today(),
            )  # fmt: skip
            second = await history.download(
                client, codes, tmp_path, start=start, end=end, progress=False,
                today=sim.clock.today(),
            )  # fmt: skip
            assert client.limiter is not None
            return first, second, client.limiter.stats

    with simulator_process(end, codes) as url:
        first, second, limiter = asyncio.run(main(url))
    assert first.errors == {} and second.errors == {}
    allowed = 5.0  # the client's limiter for a non-Kiwoom host: the real server's 5/s
    print(
        f"\nhistory: {len(codes)} codes x 5 years: {first.requests} requests in "
        f"{first.elapsed:.2f} s = {first.rate:.2f}/s of {allowed}/s allowed (limiter: "
        f"{limiter.acquired} let through, {limiter.waited:.1f} s waited in all, rejections "
        f"{dict(limiter.rejections)}, learned {dict(limiter.learned)}); "
        f"{first.rows_added} rows; second run: {second.requests} requests, "
        f"{second.up_to_date} up to date"
    )
    assert first.requests >= 40  # 600-row pages: at least two per code
    # As fast as allowed, and no faster: a sliding 1 s window lets N requests through per
    # second, so n requests take at least n / N - 1 seconds; no request was rejected.
    assert first.rate >= 0.85 * allowed
    assert first.requests <= allowed * (first.elapsed + 1)
    assert dict(limiter.rejections) == {}
    assert second.requests == 0 and second.up_to_date == 20 and second.rows_added == 0
    assert "20/20" in screen.getvalue()
    # The files hold the simulator's own series (this process's twin: same seed and clock).
    for code in ("005930", codes[-1]):
        rows = history.read_file(tmp_path / f"{code}_day.csv")
        own = sim.market.candles(code, "day", start=start, end=end)
        assert [(c.time, c.open, c.high, c.low, c.close, c.volume) for c in rows] == [
            (naive(c.time), c.open, c.high, c.low, c.close, c.volume) for c in own
        ]


# --- a lost order answer --------------------------------------------------------------------


class LoseOrderAnswers(httpx.AsyncBaseTransport):
    """Passes every request on; for orders, loses the answer after (or before) the server acted."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, after_acting: bool) -> None:
        self.inner = inner
        self.after_acting = after_acting
        self.orders_sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("api-id", "").startswith("kt1000"):
            self.orders_sent += 1
            if not self.after_acting:
                raise httpx.ReadTimeout(
                    "connection lost before the server read it", request=request
                )
            response = await self.inner.handle_async_request(request)
            await response.aread()
            await response.aclose()
            raise httpx.ReadTimeout("answer lost", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.parametrize(("after_acting", "status"), [(True, "filled"), (False, "not_received")])
def test_a_lost_order_answer_is_reconciled(
    sim: Any, tmp_path: Path, after_acting: bool, status: str
) -> None:
    transport = LoseOrderAnswers(default_async_transport(sim.url), after_acting=after_acting)
    orders_before = len(sim.account.orders)

    async def main() -> Any:
        async with AsyncKiwoom("any", "any", host=sim.url, transport=transport) as client:
            orders = SafeOrders(client, journal=tmp_path / "journal.jsonl")
            limits = await orders.limits("000660")
            # Marketable: at the day's upper limit a buy takes the book at once.
            return await orders.buy("000660", 2, limits.upper)

    result = asyncio.run(main())
    assert transport.orders_sent == 1
    assert result.status == "unknown" and result.reconciled is not None
    assert result.reconciled.status == status
    placed = len(sim.account.orders) - orders_before
    if after_acting:
        assert placed == 1 and result.reconciled.filled_qty == 2
        (order,) = [o for o in sim.account.orders.values() if o.ord_no.lstrip("0") ==
                    result.ord_no.lstrip("0")]  # fmt: skip
        assert order.code == "000660" and order.filled == 2
    else:
        assert placed == 0 and result.ord_no is None
    events = [line.split('"event": "')[1].split('"')[0]
              for line in (tmp_path / "journal.jsonl").read_text().splitlines()]  # fmt: skip
    assert events == ["intent", "request", "outcome", "reconciled"]
