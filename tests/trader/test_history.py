"""The history downloader against the fake server: files, resume, the manifest, errors."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
from pathlib import Path

import httpx
import pytest
from _charts import paged
from _fake import APPKEY, SECRET, FakeKiwoom, rejected
from test_candles import daily_rows

from kiwoom import AsyncKiwoom, history

ROWS = daily_rows(dt.date(2024, 1, 1), 300)  # 2024-01-01 .. 2025-02-24, newest first
TODAY = dt.date(2026, 1, 1)


def route(request: httpx.Request) -> httpx.Response:
    code = json.loads(request.content)["stk_cd"]
    if code == "999999":
        return rejected(2, "[1902:종목정보가 없습니다]")
    return paged("stk_dt_pole_chart_qry", ROWS, 100)(request)


def run(fake: FakeKiwoom, folder: Path, **kw: object) -> history.DownloadReport:
    async def main() -> history.DownloadReport:
        client = AsyncKiwoom(APPKEY, SECRET, transport=fake.async_transport(), limiter=False)
        async with client:
            return await history.download(client, directory=folder, today=TODAY, **kw)  # type: ignore[arg-type]

    return asyncio.run(main())


def wire_dates(lo: str, hi: str) -> list[str]:
    return sorted(r["dt"] for r in ROWS if lo <= r["dt"] <= hi)


def test_download_then_resume_fetches_only_what_is_missing(tmp_path: Path) -> None:
    fake = FakeKiwoom(routes={"ka10081": route})
    codes = ["005930", "000660", "035720"]
    first = run(fake, tmp_path, codes=codes, start="20240601", end="20241231", progress=False)
    assert first.errors == {} and first.up_to_date == 0
    assert first.requests == len(fake.calls("ka10081"))
    path = tmp_path / "005930_day.csv"
    rows = history.read_file(path)
    assert [c.time.strftime("%Y%m%d") for c in rows] == wire_dates("20240601", "20241231")
    assert first.rows_added == 3 * len(rows)
    manifest = json.loads((tmp_path / history.MANIFEST).read_text())
    assert manifest["005930_day.csv"] == {"start": "2024-06-01", "end": "2024-12-31"}

    # Covered: nothing is asked.
    before = len(fake.calls("ka10081"))
    again = run(fake, tmp_path, codes=codes, start="20240601", end="20241231", progress=False)
    assert again.requests == 0 and again.up_to_date == 3 and again.rows_added == 0
    assert len(fake.calls("ka10081")) == before

    # A later end: only the tail is fetched, from the covered end on.
    more = run(fake, tmp_path, codes=["005930"], start="20240601", end="20250131", progress=False)
    tail_calls = fake.calls("ka10081")[before:]
    assert tail_calls[0].body["base_dt"] == "20250131"
    assert more.requests == len(tail_calls) == 1
    assert more.rows_added == len(wire_dates("20250101", "20250131"))
    rows = history.read_file(path)
    assert [c.time.strftime("%Y%m%d") for c in rows] == wire_dates("20240601", "20250131")

    # An earlier start: the head is fetched up to the day before the covered start.
    before = len(fake.calls("ka10081"))
    run(fake, tmp_path, codes=["005930"], start="20240101", end="20250131", progress=False)
    assert fake.calls("ka10081")[before].body["base_dt"] == "20240531"
    rows = history.read_file(path)
    assert [c.time.strftime("%Y%m%d") for c in rows] == wire_dates("20240101", "20250131")
    assert len({c.time for c in rows}) == len(rows)


def test_a_failing_code_is_reported_and_the_others_complete(tmp_path: Path) -> None:
    fake = FakeKiwoom(routes={"ka10081": route})
    report = run(fake, tmp_path, codes=["999999", "005930"], start="20241201", progress=False)
    assert list(report.errors) == ["999999"] and "1902" in report.errors["999999"]
    assert (tmp_path / "005930_day.csv").exists() and not (tmp_path / "999999_day.csv").exists()


def test_parquet_and_a_progress_bar(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    console_mod = pytest.importorskip("rich.console")
    out = io.StringIO()
    console = console_mod.Console(file=out, force_terminal=False, width=100)
    fake = FakeKiwoom(routes={"ka10081": route})
    report = run(
        fake, tmp_path, codes=["005930", "000660"], start="20241201", end="20241231",
        fmt="parquet", progress=console,
    )  # fmt: skip
    assert report.errors == {}
    rows = history.read_file(tmp_path / "000660_day.parquet")
    assert [c.time.strftime("%Y%m%d") for c in rows] == wire_dates("20241201", "20241231")
    assert "2/2" in out.getvalue()
