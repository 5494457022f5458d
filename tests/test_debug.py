"""``debug=True`` / ``KIWOOM_DEBUG=1``: stderr when the application configured no logging
handler, the configured handler only when there is one; keys and tokens always masked."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _fake import APPKEY, SECRET, FakeKiwoom, chart_page

import kiwoom

TESTS = Path(__file__).parent
DAILY = {"stk_cd": "005930", "base_dt": "20250908", "upd_stkpc_tp": "1"}

# An application that configures no logging at all.
SCRIPT = f"""
import sys
sys.path.insert(0, {str(TESTS)!r})
from _fake import APPKEY, SECRET, FakeKiwoom, chart_page
import kiwoom

fake = FakeKiwoom(routes={{"ka10081": chart_page([("20250908", "-70100")])}})
flag = {{"on": True, "off": False, "env": None}}[sys.argv[1]]
with kiwoom.Kiwoom(APPKEY, SECRET, transport=fake.transport(), limiter=False, debug=flag) as c:
    c.chart.daily(stk_cd="005930", base_dt="20250908", upd_stkpc_tp="1")
print("done")
"""


def _run_app(flag: str, env_debug: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "KIWOOM_DEBUG"}
    if env_debug is not None:
        env["KIWOOM_DEBUG"] = env_debug
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, flag],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )


def _assert_exchange_logged(text: str) -> None:
    lines = text.splitlines()
    # token issue, the call, the revoke: each a request and a response line
    assert sum(" -> POST " in line for line in lines) == 3, text
    assert sum(" <- 200 in " in line for line in lines) == 3, text
    assert any(line.endswith('{"stk_cd":"005930","base_dt":"20250908","upd_stkpc_tp":"1"}')
               for line in lines), text  # fmt: skip
    assert any("ka10081 <- 200" in line and "-70100" in line for line in lines), text
    for secret in (APPKEY, SECRET, "tok-1"):
        assert secret not in text
    assert "authorization: ***" in text and '"token":"***"' in text.replace(" ", "")


def test_debug_flag_prints_to_stderr_when_no_handler_is_configured():
    done = _run_app("on")
    assert done.stdout == "done\n"
    _assert_exchange_logged(done.stderr)
    assert all(" kiwoom DEBUG " in line for line in done.stderr.splitlines())


@pytest.mark.parametrize(("env", "shown"), [("1", True), ("0", False), (None, False)])
def test_kiwoom_debug_environment_variable(env, shown):
    done = _run_app("env", env)
    if shown:
        _assert_exchange_logged(done.stderr)
    else:
        assert done.stderr == ""


def test_debug_off_prints_nothing():
    assert _run_app("off", "1").stderr == ""  # the argument wins over the environment


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _call_with_debug() -> None:
    fake = FakeKiwoom(routes={"ka10081": chart_page([("20250908", "-70100")])})
    with kiwoom.Kiwoom(APPKEY, SECRET, transport=fake.transport(), limiter=False, debug=True) as c:
        c.chart.daily(**DAILY)


@pytest.mark.parametrize("where", ["root", "kiwoom"])
def test_a_configured_handler_gets_the_lines_and_stderr_nothing(monkeypatch, capsys, where):
    handler = _Collect()
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [handler] if where == "root" else [])
    monkeypatch.setattr(
        logging.getLogger("kiwoom"), "handlers", [handler] if where == "kiwoom" else []
    )
    # The application's levels stay as they are (root at WARNING): debug=True is the request.
    monkeypatch.setattr(root, "level", logging.WARNING)
    _call_with_debug()
    assert capsys.readouterr().err == ""
    _assert_exchange_logged("\n".join(handler.lines))


def test_in_process_without_handlers_the_lines_go_to_stderr(monkeypatch, capsys):
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    monkeypatch.setattr(logging.getLogger("kiwoom"), "handlers", [])
    _call_with_debug()
    _assert_exchange_logged(capsys.readouterr().err)


def test_a_client_without_debug_logs_nothing_even_at_debug_level(monkeypatch, caplog):
    caplog.set_level(logging.DEBUG, logger="kiwoom")
    fake = FakeKiwoom(routes={"ka10081": chart_page([("20250908", "-70100")])})
    with kiwoom.Kiwoom(APPKEY, SECRET, transport=fake.transport(), limiter=False, debug=False) as c:
        c.chart.daily(**DAILY)
    assert not [r for r in caplog.records if " -> POST " in r.getMessage()]
