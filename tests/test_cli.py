"""The ``kiwoom`` command: demo, catalog and decode."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiwoom import cli
from kiwoom._fastdecode import SPEEDUPS


def test_demo_prints_typed_rows_and_the_decode_road(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "ka10081 주식일봉차트조회요청: POST /api/dostk/chart" in out
    assert "typed: Ka10081Response, return_code=0" in out
    assert "2025-09-08" in out  # a date, not "20250908"
    assert "catalogue: " in out and " realtime" in out
    road = "C (kiwoom._speedups)" if SPEEDUPS is not None else "Python ("
    assert f"fast decode fixers: {road}" in out


def test_catalog_lists_every_entry_and_describes_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["catalog"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 337
    assert cli.main(["catalog", "0B"]) == 0
    out = capsys.readouterr().out
    assert "kind: realtime" in out and "wire '10'" in out


def test_decode_reads_a_body_from_a_file(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    body = tmp_path / "body.json"
    body.write_text('{"stk_cd":"005930","stk_dt_pole_chart_qry":[{"cur_prc":"-70100"}]}')
    assert cli.main(["decode", "ka10081", str(body)]) == 0
    assert "cur_prc=70100" in capsys.readouterr().out


def test_an_unknown_id_is_an_error_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["catalog", "ka99999"]) == 2
    assert "ka99999" in capsys.readouterr().err
