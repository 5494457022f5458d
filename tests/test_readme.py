"""The README's client examples run as pasted (against the fake server instead of Kiwoom)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _fake import FakeKiwoom, chart_page
from test_every_api_calls import _route

from kiwoom import _async, _sync

README = Path(__file__).parents[1] / "README.md"


def _examples() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Calling the API", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.mark.parametrize("index", [0, 1])
def test_readme_example_runs(index, monkeypatch, capsys):
    fake = FakeKiwoom()
    fake.routes = {
        "ka10081": chart_page([("20250908", "-70100"), ("20231229", "+78500")]),
        "ka10001": _route,
        "usa06012": _route,
    }
    monkeypatch.setenv("KIWOOM_APPKEY", "readme-app")
    monkeypatch.setenv("KIWOOM_SECRETKEY", "readme-secret")
    monkeypatch.setattr(_sync, "default_transport", lambda host: fake.transport())
    monkeypatch.setattr(_async, "default_async_transport", lambda host: fake.async_transport())
    code = _examples()[index]
    exec(compile(code, f"README example {index + 1}", "exec"), {"__name__": "readme"})
    assert capsys.readouterr().out
    assert fake.revoked == ["tok-1"]
