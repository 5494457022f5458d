"""The ``kiwoom`` command: every sub-command, its one-line errors, and its safety rails.

REST sub-commands run against ``FakeKiwoom`` (the clients' transport swapped for it); the
simulator-backed ones (``sim``, ``stream``, ``demo``) are in ``test_cli_sim.py``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import csv
import datetime
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _fake import APPKEY, SECRET, FakeKiwoom, chart_page, ok

from kiwoom import cli


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def data_lines(self) -> list[str]:
        """Tab-separated output without ``# title`` lines."""
        return [line for line in self.out.splitlines() if line and not line.startswith("#")]


@pytest.fixture
def kiwoom(capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*args: str) -> Run:
        code = cli.main(list(args))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real profile, no real keys: each test says what it has."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("KIWOOM_APPKEY", raising=False)
    monkeypatch.delenv("KIWOOM_SECRETKEY", raising=False)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeKiwoom:
    """Keys in the environment, and every blocking client talking to a FakeKiwoom."""
    server = FakeKiwoom()
    monkeypatch.setenv("KIWOOM_APPKEY", APPKEY)
    monkeypatch.setenv("KIWOOM_SECRETKEY", SECRET)
    monkeypatch.setattr("kiwoom._sync.default_transport", lambda host: server.transport())
    return server


def one_line_error(run: Run) -> str:
    assert run.code != 0
    assert run.err.count("\n") == 1, run.err
    assert run.err.startswith("kiwoom: ")
    assert "Traceback" not in run.err
    return run.err


# --- catalog and decode --------------------------------------------------------------------


def test_catalog_lists_every_entry_one_per_line_in_a_pipe(kiwoom: Any) -> None:
    run = kiwoom("catalog")
    assert run.code == 0
    lines = run.data_lines()
    assert lines[0].split("\t") == ["id", "kind", "method", "name", "flags"]
    assert len(lines) == 1 + 337
    assert "ka10081\trest\tchart.daily\t주식일봉차트조회요청\tpaging" in lines
    assert "kt10000\trest\torder.buy\t주식 매수주문\torder" in lines


@pytest.mark.parametrize("name", ["ka10081", "KA10081", "chart.daily", "Chart.Daily"])
def test_catalog_describes_an_entry_by_id_or_method_in_any_case(kiwoom: Any, name: str) -> None:
    run = kiwoom("catalog", name)
    assert run.code == 0
    assert "path\t/api/dostk/chart" in run.out
    assert "python\tclient.chart.daily(...)" in run.out
    assert "base_dt\tstr\tyes\t기준일자" in run.out  # request field with its Korean label
    assert "  cur_prc\tint | None\t\t현재가" in run.out  # a row field of the response


def test_catalog_describes_a_realtime_type_with_its_fids(kiwoom: Any) -> None:
    run = kiwoom("catalog", "0b")
    assert run.code == 0
    assert "kind\trealtime" in run.out
    assert "10\tint | None\t\t현재가" in run.out


def test_catalog_searches_names_and_methods(kiwoom: Any) -> None:
    run = kiwoom("catalog", "체결")
    ids = {line.split("\t")[0] for line in run.data_lines()[1:]}
    assert {"ka10076", "0B"} <= ids and "ka10081" not in ids
    us_chart = [line.split("\t")[2] for line in kiwoom("catalog", "us.chart").data_lines()[1:]]
    assert len(us_chart) == 7 and all(m.startswith("us.chart.") for m in us_chart)


def test_catalog_of_nothing_is_a_one_line_error(kiwoom: Any) -> None:
    assert "'ka99999'" in one_line_error(kiwoom("catalog", "ka99999"))


def test_decode_reads_a_body_from_a_file(kiwoom: Any, tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_text('{"stk_cd":"005930","stk_dt_pole_chart_qry":[{"cur_prc":"-70100"}]}')
    run = kiwoom("decode", "KA10081", str(body))
    assert run.code == 0 and "cur_prc=70100" in run.out


def test_a_missing_file_is_a_one_line_error(kiwoom: Any, tmp_path: Path) -> None:
    err = one_line_error(kiwoom("decode", "ka10081", str(tmp_path / "nope.json")))
    assert "nope.json: no such file" in err


def test_usage_errors_are_one_line(kiwoom: Any) -> None:
    assert "No such command" in one_line_error(kiwoom("nope"))
    assert "--host" in one_line_error(kiwoom("--host", "nowhere", "catalog"))
    assert "key=value" in one_line_error(kiwoom("call", "ka10081", "stk_cd"))


def test_without_typer_or_rich_the_command_says_what_to_install(
    kiwoom: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "typer", None)
    run = kiwoom("catalog")
    assert run.code == 2
    assert run.err == "kiwoom: the command needs its extra: pip install 'kiwoom[cli]'\n"


def test_a_closed_pipe_ends_the_command_quietly() -> None:
    """`kiwoom catalog 0B | head`: the reader is gone before the command writes."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiwoom.cli", "catalog", "0B"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert err == ""


# --- call ----------------------------------------------------------------------------------

DAILY = ("stk_cd=005930", "base_dt=20250908", "upd_stkpc_tp=1")


def test_call_prints_a_typed_table(kiwoom: Any, fake: FakeKiwoom) -> None:
    fake.routes["ka10081"] = chart_page([("20250908", "-70100"), ("20250905", "+70700")])
    run = kiwoom("call", "chart.daily", *DAILY)
    assert run.code == 0, run.err
    assert "# stk_dt_pole_chart_qry: 2 rows" in run.out
    assert "70100\t2025-09-08" in run.out  # a magnitude and a date, not "-70100" / "20250908"
    (sent,) = fake.calls("ka10081")
    assert sent.body == {"stk_cd": "005930", "base_dt": "20250908", "upd_stkpc_tp": "1"}


def test_call_json_and_all_pages(kiwoom: Any, fake: FakeKiwoom) -> None:
    fake.routes["ka10081"] = [
        chart_page([("20250908", "-70100")], next_key="k2"),
        chart_page([("20250905", "+70700")]),
    ]
    run = kiwoom("call", "KA10081", *DAILY, "--json", "--all-pages")
    assert run.code == 0, run.err
    body = json.loads(run.out)
    assert [r["cur_prc"] for r in body["stk_dt_pole_chart_qry"]] == [70100, 70700]
    assert body["stk_dt_pole_chart_qry"][0]["dt"] == "2025-09-08"
    assert [c.headers.get("next-key") for c in fake.calls("ka10081")] == [None, "k2"]


def test_call_checks_the_request_before_sending(kiwoom: Any, fake: FakeKiwoom) -> None:
    err = one_line_error(kiwoom("call", "ka10081", "stk_cd=005930"))
    assert "ka10081" in err and "base_dt" in err
    assert fake.sent == []


def test_an_api_error_is_one_line(kiwoom: Any, fake: FakeKiwoom) -> None:
    fake.routes["ka10081"] = httpx.Response(
        200, json={"return_code": 2, "return_msg": "[1511:필수 입력 값에 값이 존재하지 않습니다]"}
    )
    err = one_line_error(kiwoom("call", "ka10081", *DAILY))
    assert "1511" in err


def test_no_keys_is_a_one_line_error_pointing_at_the_simulator(kiwoom: Any) -> None:
    err = one_line_error(kiwoom("call", "ka10081", *DAILY))
    assert "KIWOOM_APPKEY" in err and "--host sim" in err


# --- orders --------------------------------------------------------------------------------

BUY_BODY = {"dmst_stex_tp": "KRX", "stk_cd": "005930", "ord_qty": "10", "trde_tp": "3"}


def test_an_order_is_a_dry_run_showing_the_exact_request(kiwoom: Any, fake: FakeKiwoom) -> None:
    run = kiwoom("order", "buy", "005930", "10")
    assert run.code == 0
    lines = run.out.splitlines()
    assert lines[:4] == [
        "POST https://api.kiwoom.com/api/dostk/ordr",
        "api-id: kt10000",
        "authorization: Bearer <token>",
        "content-type: application/json;charset=UTF-8",
    ]
    assert json.loads(lines[-1]) == BUY_BODY
    assert "dry run" in run.err and "--confirm" in run.err
    assert fake.sent == []  # not even a token


def test_an_order_is_sent_with_confirm(kiwoom: Any, fake: FakeKiwoom) -> None:
    fake.routes["kt10000"] = ok({"ord_no": "0000123", "dmst_stex_tp": "KRX"})
    run = kiwoom("order", "buy", "005930", "10", "--confirm")
    assert run.code == 0, run.err
    (sent,) = fake.calls("kt10000")
    assert sent.body == BUY_BODY
    assert json.loads(run.out.splitlines()[5]) == BUY_BODY  # shown before sending
    assert "ord_no\t0000123" in run.out


def test_order_kinds_build_their_requests(kiwoom: Any, fake: FakeKiwoom) -> None:
    def shown(*args: str) -> Any:
        run = kiwoom("order", *args)
        assert run.code == 0, run.err
        return run.out.splitlines()[1], json.loads(run.out.splitlines()[-1])

    assert shown("sell", "005930", "3", "--price", "70000") == (
        "api-id: kt10001",
        {"dmst_stex_tp": "KRX", "stk_cd": "005930", "ord_qty": "3", "ord_uv": "70000",
         "trde_tp": "0"},
    )  # fmt: skip
    assert shown("modify", "0000123", "005930", "3", "--price", "69900", "--exchange", "nxt") == (
        "api-id: kt10002",
        {"dmst_stex_tp": "NXT", "orig_ord_no": "0000123", "stk_cd": "005930", "mdfy_qty": "3",
         "mdfy_uv": "69900"},
    )  # fmt: skip
    assert shown("cancel", "0000123", "005930")[1]["cncl_qty"] == "0"
    assert fake.sent == []


def test_call_of_an_order_api_is_a_dry_run_too(kiwoom: Any, fake: FakeKiwoom) -> None:
    run = kiwoom("call", "kt10000", *(f"{k}={v}" for k, v in BUY_BODY.items()))
    assert run.code == 0 and "dry run" in run.err
    assert fake.sent == []


# --- profile -------------------------------------------------------------------------------


def write_profile(tmp_path: Path, text: str, mode: int) -> Path:
    path = tmp_path / "config" / "kiwoom" / "profile.toml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    path.chmod(mode)
    return path


PROFILE = f'[default]\nhost = "mock"\nappkey = "{APPKEY}"\nsecretkey = "{SECRET}"\n'


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_a_profile_readable_by_others_is_refused(kiwoom: Any, tmp_path: Path) -> None:
    path = write_profile(tmp_path, PROFILE, 0o644)
    err = one_line_error(kiwoom("order", "buy", "005930", "1"))
    assert str(path) in err and "mode 644" in err and "chmod 600" in err


def test_a_0600_profile_gives_host_and_keys(
    kiwoom: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_profile(tmp_path, PROFILE + '[real]\nhost = "real"\n', 0o600)
    run = kiwoom("order", "buy", "005930", "1")
    assert run.out.startswith("POST https://mockapi.kiwoom.com/api/dostk/ordr")
    run = kiwoom("--profile", "real", "order", "buy", "005930", "1")
    assert run.out.startswith("POST https://api.kiwoom.com/api/dostk/ordr")
    run = kiwoom("--profile", "nope", "order", "buy", "005930", "1")
    assert "no [nope] profile" in one_line_error(run)

    hosts: list[str] = []
    server = FakeKiwoom(routes={"ka10081": chart_page([("20250908", "70100")])})

    def transport(host: str) -> httpx.BaseTransport:
        hosts.append(host)
        return server.transport()

    monkeypatch.setattr("kiwoom._sync.default_transport", transport)
    assert kiwoom("call", "ka10081", *DAILY).code == 0
    assert hosts == ["https://mockapi.kiwoom.com"]
    (issue,) = server.calls("au10001")
    assert issue.body["appkey"] == APPKEY  # the profile's keys


# --- candles -------------------------------------------------------------------------------


def daily_pages(fake: FakeKiwoom) -> None:
    first = [("20250910", "70300"), ("20250909", "70200"), ("20250908", "70100")]
    second = [("20250905", "70700"), ("20250904", "70600"), ("20250903", "70500")]
    fake.routes["ka10081"] = [
        chart_page(first, next_key="p2"),
        chart_page(second, next_key="p3"),
        chart_page([("20250902", "70400"), ("20250901", "70000")]),
    ]


def test_candles_page_back_to_the_start_and_write_csv(
    kiwoom: Any, fake: FakeKiwoom, tmp_path: Path
) -> None:
    daily_pages(fake)
    out = tmp_path / "samsung.csv"
    run = kiwoom("candles", "005930", "--start", "2025-09-04", "--end", "20250909", "-o", str(out))
    assert run.code == 0, run.err
    assert "4 candles of 005930 written to" in run.err
    with out.open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["time", "open", "high", "low", "close", "volume", "amount"]
    assert [(r[0], r[4]) for r in rows[1:]] == [
        ("2025-09-04", "70600"),
        ("2025-09-05", "70700"),
        ("2025-09-08", "70100"),
        ("2025-09-09", "70200"),
    ]
    sent = fake.calls("ka10081")
    assert len(sent) == 2  # the second page reached the start: no third
    assert sent[0].body == {"stk_cd": "005930", "upd_stkpc_tp": "1", "base_dt": "20250909"}


def test_candles_write_parquet(kiwoom: Any, fake: FakeKiwoom, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    daily_pages(fake)
    out = tmp_path / "samsung.parquet"
    assert kiwoom("candles", "005930", "--end", "2025-09-10", "-o", str(out)).code == 0
    table = pq.read_table(out).to_pylist()
    assert len(table) == 8 and table[0]["close"] == 70000 and str(table[-1]["time"]) == "2025-09-10"


def test_candles_errors_are_one_line(kiwoom: Any, fake: FakeKiwoom, tmp_path: Path) -> None:
    assert ".csv or .parquet" in one_line_error(kiwoom("candles", "005930", "-o", "x.txt"))
    assert "--period" in one_line_error(kiwoom("candles", "005930", "--period", "hour"))
    daily_pages(fake)
    err = one_line_error(kiwoom("candles", "005930", "-o", str(tmp_path / "no" / "dir.csv")))
    assert "dir.csv" in err
    assert os.listdir(tmp_path) == []  # nothing written anywhere


# --- stream --------------------------------------------------------------------------------


class SocketServer:
    """The real-time test server on a loop of its own thread (the command runs its own loop)."""

    def __init__(self) -> None:
        from realtime.rt_server import KiwoomServer

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = KiwoomServer()
        self.server.accepted_tokens = {"tok-1"}
        self.run(self.server.__aenter__())
        self.host = self.server.url.split("/api/")[0].replace("ws://", "http://")

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def later(self, coro: Any) -> concurrent.futures.Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self) -> None:
        self.run(self.server.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture
def socket_server(fake: FakeKiwoom, monkeypatch: pytest.MonkeyPatch) -> Iterator[SocketServer]:
    monkeypatch.setattr("kiwoom._async.default_async_transport", lambda h: fake.async_transport())
    server = SocketServer()
    yield server
    server.close()


def trades(server: SocketServer, n: int) -> Any:
    async def push() -> None:
        await server.server.wait_registered("1", 2)
        for i in range(n):
            price = f"{-70000 - i:+d}"
            await server.server.real(
                [("0B", "005930", {"10": price, "20": "090001", "15": "+5"}),
                 ("0B", "000660", {"10": "+190000", "20": "090001", "15": "-1"})]
            )  # fmt: skip

    return server.later(push())


def test_stream_prints_ndjson_until_count(kiwoom: Any, socket_server: SocketServer) -> None:
    pushed = trades(socket_server, 5)
    run = kiwoom("--host", socket_server.host, "stream", "0b", "005930", "000660", "--json",
                 "--count", "6")  # fmt: skip
    assert run.code == 0, run.err
    pushed.result(timeout=10)
    lines = [json.loads(line) for line in run.out.splitlines()]
    assert len(lines) == 6
    assert lines[0] == {
        "type": "0B",
        "name": "주식체결",
        "item": "005930",
        "values": {"cntr_tm": "09:00:01", "cur_prc": 70000, "trde_qty": 5},
    }
    assert [line["values"]["cur_prc"] for line in lines[:4]] == [70000, 190000, 70001, 190000]
    (reg,) = [m for m in socket_server.server.received if m.get("trnm") == "REG"]
    assert reg["data"] == [{"item": ["005930", "000660"], "type": ["0B"]}]


def test_stream_table_ends_after_its_duration(kiwoom: Any, socket_server: SocketServer) -> None:
    pushed = trades(socket_server, 3)
    started = time.monotonic()
    run = kiwoom("--host", socket_server.host, "stream", "0B", "005930", "000660",
                 "--duration", "1.5")  # fmt: skip
    assert run.code == 0, run.err
    assert 1.5 <= time.monotonic() - started < 30
    pushed.result(timeout=10)
    assert "0B 주식체결: 6 ticks" in run.out
    assert "70,002" in run.out and "190,000" in run.out  # the latest price of each stock


def test_stream_of_an_unknown_type_is_a_one_line_error(kiwoom: Any) -> None:
    assert "'ZZ'" in one_line_error(kiwoom("stream", "ZZ", "005930"))
    assert "needs at least one stock code" in one_line_error(kiwoom("stream", "0B"))


# --- the demo bot, against the fakes (the simulator runs it in test_cli_sim.py) ------------


def demo_routes(fake: FakeKiwoom, server: SocketServer) -> None:
    today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=9))).date()
    days = [today - datetime.timedelta(days=i) for i in range(400)]

    def daily(request: httpx.Request) -> httpx.Response:
        code = json.loads(request.content)["stk_cd"]
        older = request.headers.get("next-key") == "p2"
        picked = days[200:] if older else days[:200]
        # 000660 climbs, 005930 falls: the bot buys 000660 (furthest above its 20-day average)
        step = 100 if code == "000660" else -100
        rows = [
            {"dt": d.strftime("%Y%m%d"), "cur_prc": str(100000 - step * days.index(d))}
            for d in picked
        ]
        headers = {"cont-yn": "N"} if older else {"cont-yn": "Y", "next-key": "p2"}
        return ok({"stk_cd": code, "stk_dt_pole_chart_qry": rows}, headers)

    def order_events() -> Any:
        async def push() -> None:
            rt = server.server
            await rt.wait_registered("9", 2)
            head = {"9203": "0000042", "9001": "A000660", "900": "10"}
            for values in (
                {**head, "913": "접수", "902": "10"},
                {**head, "913": "체결", "902": "4", "911": "6", "910": "190000", "915": "6",
                 "914": "190000"},
                {**head, "913": "체결", "902": "0", "911": "10", "910": "190050", "915": "4",
                 "914": "190100"},
            ):  # fmt: skip
                await rt.real([("00", "", values)])
            await rt.real([("04", "", {"9001": "A000660", "930": "10", "931": "190040"})])

        return push()

    def buy(request: httpx.Request) -> httpx.Response:
        server.later(order_events())
        return ok({"ord_no": "0000042", "dmst_stex_tp": "KRX"})

    async def trades() -> None:
        await server.server.wait_registered("1", 4)
        for _ in range(3):
            await server.server.real([("0B", "005930", {"10": "+70000"}),
                                      ("0D", "000660", {"41": "+190100"})])  # fmt: skip

    server.later(trades())
    fake.routes |= {
        "ka10099": ok({"list": [{"code": "005930", "name": "삼성전자"},
                                {"code": "000660", "name": "SK하이닉스"}]}),
        "ka10081": daily,
        "kt10000": buy,
        "kt00018": ok({"tot_evlt_pl": "+000000000500", "acnt_evlt_remn_indv_tot": [
            {"stk_cd": "A000660", "stk_nm": "SK하이닉스", "rmnd_qty": "000000000010",
             "pur_pric": "000000190040", "cur_prc": "000000190090",
             "evltv_prft": "+000000000500", "prft_rt": "+0.03"}]}),
        "kt00001": ok({"entr": "000010000000", "d2_entra": "000008099600"}),
    }  # fmt: skip


def test_demo_runs_the_bot_and_sums_it_up(
    kiwoom: Any, fake: FakeKiwoom, socket_server: SocketServer
) -> None:
    demo_routes(fake, socket_server)
    run = kiwoom("--host", socket_server.host, "demo", "--watch", "0.5")
    assert run.code == 0, run.err
    summary = dict(line.split("\t", 1) for line in run.data_lines() if "\t" in line)
    assert summary["stocks listed (KOSPI)"] == "2"
    assert summary["daily candles"] == "005930 366, 000660 366 (4 pages)"
    assert summary["order"] == "0000042: 10 filled in 2 execution(s), avg 190040"
    assert summary["04 balance events"] == "1"
    assert summary["position"] == "000660 SK하이닉스: 10 @ 190,040, now 190,090"
    assert summary["position P&L"] == "+500 (+0.03%)"
    assert summary["cash (D+2)"] == "8099600"
    assert summary["P&L (unrealised)"] == "500"
    assert "> kt10000: buy 10 000660 at the market" in run.out
    assert "> 00: 체결 6 at 190000, 4 left" in run.out
    assert [c.body for c in fake.calls("kt10000")] == [
        {"dmst_stex_tp": "KRX", "stk_cd": "000660", "ord_qty": "10", "trde_tp": "3"}
    ]
    kst_today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=9))).date()
    assert fake.calls("ka10081")[0].body["base_dt"] == kst_today.strftime("%Y%m%d")
