"""The acceptance run: 4 processes x 2 threads share one app key through Redis against the
simulator for 60 s (bench/shared_limit.py, which prints the figures)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("kiwoom.sim", reason="the sim extra (starlette, uvicorn) is not installed")

BENCH = Path(__file__).parents[2] / "bench" / "shared_limit.py"


def test_four_processes_share_one_budget_for_a_minute(redis_url: str) -> None:
    # The default limits: a call holds its slot until a window after its answer, however
    # late it arrived on a loaded machine.
    args = [sys.executable, str(BENCH), "--seconds", "60"]
    args += ["--redis", redis_url, "--json"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=280, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["rejections"] == 0, result
    assert result["max_in_1s"] <= 5, result
    assert result["share"] >= 0.97, result
    assert result["tokens_issued"] == 1, result
