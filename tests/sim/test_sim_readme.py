"""The README's simulator example runs as pasted."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parents[2] / "README.md"


def test_readme_simulator_example_runs(capsys):
    text = README.read_text(encoding="utf-8")
    section = text.split("## Simulator", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, re.S)
    exec(compile(code, "README simulator example", "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out.split()
    assert printed[0].isdigit() and printed[1] == "0000001" and "005930" in printed[2]
