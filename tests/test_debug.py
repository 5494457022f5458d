"""``debug=True`` / ``KIWOOM_DEBUG=1``: stderr when the application configured no logging
handler, the configured handler only when there is one; keys and tokens always masked."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from _fake import APPKEY, SECRET, FakeKiwoom, chart_page

import kiwoom

TESTS = Path(__file__).parent
DAILY = {"stk_cd": "005930", "base_dt": "20250908", "upd_stkpc_tp": "1"}

# An application that configures no logging at all, run once per (debug=, KIWOOM_DEBUG)
# case; a marker line on stderr separates the cases.
CASES = [("on", True, None), ("env", None, "1"), ("env", None, "0"), ("env", None, None),
         ("off", False, "1")]  # fmt: skip
SCRIPT = f"""
import os, sys
sys.path.insert(0, {str(TESTS)!r})
from _fake import APPKEY, SECRET, FakeKiwoom, chart_page
import kiwoom

for name, flag, env in {CASES!r}:
    os.environ.pop("KIWOOM_DEBUG", None)
    if env is not None:
        os.environ["KIWOOM_DEBUG"] = env
    sys.stderr.write(f"=== {{name}} {{env}}\\n")
    fake = FakeKiwoom(routes={{"ka10081": chart_page([("20250908", "-70100")])}})
    with kiwoom.Kiwoom(APPKEY, SECRET, transport=fake.transport(), limiter=False, debug=flag) as c:
        c.chart.daily(stk_cd="005930", base_dt="20250908", upd_stkpc_tp="1")
print("done")
"""


@pytest.fixture(scope="module")
def app_stderr() -> dict[str, str]:
    """What the application printed on stderr, per case (``"on None"``, ``"env 1"``...)."""
    env = {k: v for k, v in os.environ.items() if k != "KIWOOM_DEBUG"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "done\n"
    parts = re.split(r"^=== (.*)\n", done.stderr, flags=re.M)
    assert parts[0] == ""
    return dict(zip(parts[1::2], parts[2::2], strict=True))


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


def test_debug_flag_prints_to_stderr_when_no_handler_is_configured(app_stderr):
    _assert_exchange_logged(app_stderr["on None"])
    assert all(" kiwoom DEBUG " in line for line in app_stderr["on None"].splitlines())


@pytest.mark.parametrize(("env", "shown"), [("1", True), ("0", False), (None, False)])
def test_kiwoom_debug_environment_variable(app_stderr, env, shown):
    text = app_stderr[f"env {env}"]
    if shown:
        _assert_exchange_logged(text)
    else:
        assert text == ""


def test_debug_off_prints_nothing(app_stderr):
    assert app_stderr["off 1"] == ""  # the argument wins over the environment


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
