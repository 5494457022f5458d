"""The ``kiwoom`` command against the simulator: ``sim``, ``--host sim``, candles, stream, orders,
and ``kiwoom demo`` end to end. (The README's bot runs against it in test_readme.py.)"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import kiwoom
from kiwoom import cli

pytest.importorskip("kiwoom.sim")
from kiwoom.sim import Simulator


@pytest.fixture(scope="module")
def sim() -> Iterator[Any]:
    with Simulator(seed=11) as s:
        yield s


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("KIWOOM_APPKEY", "cli-test-app")
    monkeypatch.setenv("KIWOOM_SECRETKEY", "cli-test-secret")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out, err


def test_host_sim_runs_a_simulator_for_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    today = dt.date.today().strftime("%Y%m%d")
    out, _ = run(capsys, "--host", "sim", "call", "CHART.DAILY", "stk_cd=005930",
                 f"base_dt={today}", "upd_stkpc_tp=1", "--json")  # fmt: skip
    rows = json.loads(out)["stk_dt_pole_chart_qry"]
    assert rows and all(r["cur_prc"] > 0 for r in rows)


def test_candles_are_the_simulators_own_series(
    sim: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    end = sim.clock.today() - dt.timedelta(days=1)
    start = end - dt.timedelta(days=400)
    out_file = tmp_path / "c.csv"
    run(capsys, "--host", sim.url, "candles", "005930", "--start", start.isoformat(),
        "--end", end.isoformat(), "-o", str(out_file))  # fmt: skip
    with out_file.open() as f:
        got = [(r["time"], int(r["close"]), int(r["volume"])) for r in csv.DictReader(f)]
    want = [
        (_day(c.time).isoformat(), c.close, c.volume)
        for c in sim.market.candles("005930", "day", start=start, end=end)
    ]
    assert len(got) > 250  # a year and more of trading days, over several pages
    assert got == want


def _day(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def test_stream_ndjson_from_the_simulator(sim: Any, capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = run(capsys, "--host", sim.url, "stream", "0B", "005930", "--json", "--count", "3",
                 "--duration", "30")  # fmt: skip
    ticks = [json.loads(line) for line in out.splitlines()]
    assert len(ticks) == 3
    assert {t["item"] for t in ticks} == {"005930"} and all(t["type"] == "0B" for t in ticks)
    assert all(t["values"]["cur_prc"] > 0 for t in ticks)


def test_a_confirmed_order_reaches_the_simulator(
    sim: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    out, err = run(capsys, "--host", sim.url, "order", "buy", "000660", "1")
    assert out.startswith(f"POST {sim.url}/api/dostk/ordr") and "dry run" in err
    out, _ = run(capsys, "--host", sim.url, "order", "buy", "000660", "1", "--confirm", "--json")
    assert json.loads(out)["ord_no"]


def test_kiwoom_sim_serves_until_interrupted() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiwoom.cli", "sim", "--port", "0", "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.stdout is not None
    try:
        url = None
        for line in proc.stdout:
            found = re.match(r"REST\s+(http://127\.0\.0\.1:\d+)", line)
            if found:
                url = found.group(1)
                break
        assert url is not None
        with kiwoom.Kiwoom("any", "any", host=url) as client:
            assert client.stock_info.basic_info(stk_cd="005930").stk_cd
    finally:
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped" in rest and "Traceback" not in err


def test_kiwoom_demo_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = run(capsys, "demo")
    summary = dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)
    assert int(summary["stocks listed (KOSPI)"]) >= 30
    assert re.fullmatch(r"005930 2\d\d, 000660 2\d\d, 035420 2\d\d \(\d+ pages\)",
                        summary["daily candles"])  # fmt: skip
    assert re.fullmatch(r"\d+: 10 filled in \d+ execution\(s\), avg \d+", summary["order"])
    assert int(summary["04 balance events"]) >= 1
    assert re.fullmatch(r"\d{6} \S+: 10 @ [\d,]+, now [\d,]+", summary["position"])
    assert int(summary["cash (D+2)"]) > 0
