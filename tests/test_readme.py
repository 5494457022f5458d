"""Every ```python block of README.md runs as pasted, against fake servers instead of Kiwoom.

The REST examples talk to FakeKiwoom (httpx.MockTransport), the real-time one to the socket
server of tests/realtime; each test checks what the block printed and what it sent. A new
block without a runner here fails ``test_every_block_has_a_runner``. The simulator's block
runs against the embedded simulator itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from _fake import FakeKiwoom, ok

import kiwoom
from kiwoom import _async, _http, _sync

sys.path.insert(0, str(Path(__file__).parent / "realtime"))
from rt_server import KiwoomServer

README = Path(__file__).parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def _run(code: str, name: str) -> None:
    exec(compile(code, name, "exec"), {"__name__": "readme"})


def _lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().out.splitlines()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeKiwoom:
    """FakeKiwoom behind both clients' default transports, keys from the environment."""
    server = FakeKiwoom()
    monkeypatch.setenv("KIWOOM_APPKEY", "readme-app")
    monkeypatch.setenv("KIWOOM_SECRETKEY", "readme-secret")
    monkeypatch.setattr(_sync, "default_transport", lambda host: server.transport())
    monkeypatch.setattr(_async, "default_async_transport", lambda host: server.async_transport())
    return server


def _rows(*rows: tuple[str, str, str], next_key: str | None = None) -> httpx.Response:
    headers = {"cont-yn": "Y", "next-key": next_key} if next_key else {"cont-yn": "N"}
    body = [{"dt": d, "cur_prc": c, "trde_qty": q} for d, c, q in rows]
    return ok({"stk_cd": "005930", "stk_dt_pole_chart_qry": body}, headers)


def sync_calls(code: str, fake: FakeKiwoom, capsys: pytest.CaptureFixture[str], **_: Any) -> None:
    fake.routes["ka10081"] = [
        _rows(
            ("20250908", "-70100", "9263135"),
            ("20250905", "+70700", "12016435"),
            ("20250904", "70000", "8000000"),
            ("20250903", "69800", "7000000"),
        ),
        # the pages: stop after the page reaching past 2024-01-01; the third is never asked
        _rows(("20250908", "-70100", "1"), ("20240605", "75000", "1"), next_key="k2"),
        _rows(("20240102", "79600", "1"), ("20231228", "78500", "1"), next_key="k3"),
        _rows(("20231227", "78000", "1")),
    ]
    _run(code, "README: calling the API")
    assert _lines(capsys) == [
        "2025-09-08 70100 9263135",
        "2025-09-05 70700 12016435",
        "2025-09-04 70000 8000000",
        "4 2023-12-28",
    ]
    sent = fake.calls("ka10081")
    today = dt.date.today().strftime("%Y%m%d")
    assert [s.body for s in sent] == [
        {"stk_cd": "005930", "base_dt": today, "upd_stkpc_tp": "1"}
    ] * 3
    assert [s.headers.get("next-key") for s in sent] == [None, None, "k2"]
    assert {s.headers["host"] for s in sent} == {"mockapi.kiwoom.com"}
    assert {s.headers["authorization"] for s in sent} == {"Bearer tok-1"}
    assert fake.revoked == ["tok-1"]


QUOTES = {"005930": ("삼성전자", "-70100"), "000660": ("SK하이닉스", "+268500")}


def _quote(request: httpx.Request) -> httpx.Response:
    code = json.loads(request.content)["stk_cd"]
    name, price = QUOTES[code]
    return ok({"stk_cd": code, "stk_nm": name, "cur_prc": price})


def async_calls(code: str, fake: FakeKiwoom, capsys: pytest.CaptureFixture[str], **_: Any) -> None:
    fake.routes["ka10001"] = _quote
    fake.routes["usa06012"] = ok({"result_list": [{"dt": "20250905", "cur_prc": "239.69"}]})
    _run(code, "README: the async client")
    out = _lines(capsys)
    # ka10001 cur_prc is typed float by the catalogue for now: 70100.0 until it is an int.
    assert len(out) == 3
    assert re.fullmatch(r"삼성전자 70100(\.0)?", out[0]), out
    assert re.fullmatch(r"SK하이닉스 268500(\.0)?", out[1]), out
    assert out[2] == "2025-09-05 239.69"
    assert sorted(s.body["stk_cd"] for s in fake.calls("ka10001")) == ["000660", "005930"]
    assert [s.body for s in fake.calls("usa06012")] == [{"stex_tp": "ND", "stk_cd": "AAPL"}]
    assert fake.revoked == ["tok-1"]


async def _push(server: KiwoomServer) -> None:
    """Once both groups are registered, send one frame after another until the client leaves:
    an order event, a trade of a code the stream does not ask for, then one it does."""
    await server.wait_registered("1", 4)
    await server.wait_registered("9", 2)
    frame = [
        ("00", "", {"9203": "0000123", "913": "접수"}),
        ("0B", "000660", {"10": "+268500", "20": "152412"}),
        ("0B", "005930", {"10": "+60700", "20": "152413"}),
    ]
    try:
        while True:
            await server.real(frame)
            await asyncio.sleep(0.02)
    except Exception:  # the client closed the socket: the example is over
        return


def realtime(
    code: str,
    fake: FakeKiwoom,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    **_: Any,
) -> None:
    async def main() -> KiwoomServer:
        async with KiwoomServer() as server:
            server.accepted_tokens = {"tok-1"}
            host = server.url.removesuffix(server.path).replace("ws://", "http://")
            monkeypatch.setattr(kiwoom, "MOCK", host)
            pusher = asyncio.create_task(_push(server))
            try:
                async with asyncio.timeout(30):
                    await asyncio.to_thread(_run, code, "README: real-time")
            finally:
                pusher.cancel()
            return server

    server = asyncio.run(main())
    out = _lines(capsys)
    assert [line for line in out if line.startswith("0056")] == []  # 000660 filtered out
    assert [line for line in out if line.startswith("005930")] == ["005930 60700 15:24:13"]
    orders = [line for line in out if not line.startswith("005930")]
    assert orders and set(orders) == {"0000123 접수"}, out  # from the worker thread
    assert server.logins == ["tok-1"]
    registered = [(m["grp_no"], m["data"]) for m in server.received if m.get("trnm") == "REG"]
    assert registered == [
        ("1", [{"item": ["005930", "000660"], "type": ["0B", "0D"]}]),
        ("9", [{"item": [""], "type": ["00", "04"]}]),
    ]
    assert fake.revoked == ["tok-1"]


def typed_models(code: str, capsys: pytest.CaptureFixture[str], **_: Any) -> None:
    _run(code, "README: typed models")
    out = _lines(capsys)
    assert out[0] == "20250908"
    assert out[1].startswith("ka10081: field 'stk_cd': (종목코드) ") and "5930" in out[1], out
    assert out[2:] == [
        "('주식일봉차트조회요청', '/api/dostk/chart', 'rest', False)",
        "(70100, datetime.date(2025, 9, 8), -600)",
        "DOWN",
        "60700 15:24:13",
    ]


def demo_bot(
    code: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, **_: Any
) -> None:
    """The Quick start's bot, against the simulator instead of Kiwoom's mock server."""
    sim = pytest.importorskip("kiwoom.sim")
    monkeypatch.setattr(_async, "default_async_transport", _http.default_async_transport)
    assert code.count("host=kiwoom.MOCK") == 1
    with sim.Simulator(seed=5) as server:
        _run(code.replace("host=kiwoom.MOCK", f"host={server.url!r}"), "README: demo bot")
    (line,) = _lines(capsys)
    assert re.fullmatch(r"Position\(code='\d{6}', name='.+', qty=10, .*\) \d+ -?\d+", line), line


def trader_bot(code: str, fake: FakeKiwoom, capsys: pytest.CaptureFixture[str], **_: Any) -> None:
    days = ("20250905", "20250904", "20250903", "20250902", "20250901", "20250829")
    rows = [
        {"dt": d, "cur_prc": str(70_000 + 100 * i), "trde_qty": "1"} for i, d in enumerate(days)
    ]
    fake.routes["ka10081"] = ok({"stk_cd": "005930", "stk_dt_pole_chart_qry": rows})
    listed = [
        {"code": "005930", "name": "삼성전자", "marketCode": "0", "nxtEnable": "Y"},
        {"code": "000660", "name": "SK하이닉스", "marketCode": "0", "nxtEnable": "N"},
    ]
    fake.routes["ka10099"] = ok({"list": listed})
    fake.routes["ka10001"] = ok({"stk_cd": "005930", "upl_pric": "+91000", "lst_pric": "-49000"})
    _run(code, "README: trader's helpers")
    assert _lines(capsys) == [
        "일자 [70400, 70300, 70200, 70100, 70000]",
        "['000660', '005930_AL']",
        "dry_run 70100",
    ]
    assert [s.api_id for s in fake.sent] == ["au10001", "ka10081", "ka10099", "ka10001", "au10002"]


def simulator(code: str, capsys: pytest.CaptureFixture[str], **_: Any) -> None:
    _run(code, "README: simulator")
    price, ord_no, positions = _lines(capsys)[0].split(maxsplit=2)
    assert int(price) > 0 and ord_no == "0000001" and "005930" in positions


def relay(
    code: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    **_: Any,
) -> None:
    """The relay's consumer, served by a ``Realtime(relay=...)`` on the simulator."""
    sim = pytest.importorskip("kiwoom.sim")
    url = request.getfixturevalue("redis_server")
    monkeypatch.setattr(_async, "default_async_transport", _http.default_async_transport)
    assert code.count('"redis://localhost:6379/0"') == 1
    code = code.replace('"redis://localhost:6379/0"', repr(url))

    async def main(server: Any) -> None:
        async with (
            kiwoom.AsyncKiwoom(host=server.url) as client,
            client.realtime(relay=url) as _,
        ):
            async with asyncio.timeout(30):
                await asyncio.to_thread(_run, code, "README: relay")

    import redis

    with sim.Simulator(seed=7, speed=60, real_rate=20, real_every_push=True) as server:
        try:
            asyncio.run(main(server))
        finally:  # the default namespace, on the session's server: leave nothing behind
            with redis.Redis.from_url(url) as r:
                keys = list(r.scan_iter("kiwoom:rt:*"))
                if keys:
                    r.delete(*keys)
    (line,) = _lines(capsys)
    assert re.fullmatch(r"005930 \d+", line), line


# Each block is recognised by what it calls.
RUNNERS: dict[str, Callable[..., None]] = {
    "from kiwoom.demo import run": demo_bot,
    "client.pages(": sync_calls,
    "asyncio.gather(": async_calls,
    "client.realtime()": realtime,
    "kiwoom.catalog.get(": typed_models,
    "Simulator(": simulator,
    "class MyBot(Bot)": trader_bot,
    "RelayClient(": relay,
}


def _runner(block: str) -> Callable[..., None]:
    found = [run for marker, run in RUNNERS.items() if marker in block]
    assert len(found) == 1, f"no single runner for README block:\n{block}"
    return found[0]


def test_every_block_has_a_runner():
    assert len(BLOCKS) == len(RUNNERS)
    assert {_runner(block) for block in BLOCKS} == set(RUNNERS.values())


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: _runner(b).__name__)
def test_readme_block_runs(block, request, capsys, monkeypatch):
    run = _runner(block)
    # The simulator block runs against the real simulator; every other against the fakes.
    fake = None if run is simulator else request.getfixturevalue("fake")
    run(block, fake=fake, capsys=capsys, monkeypatch=monkeypatch, request=request)
