"""Request code fields are ``Literal`` types: the type checker refuses a code outside the table
(mypy runs here on a snippet, through ``mypy.api``), and the runtime refuses it too."""

from __future__ import annotations

import inspect
import re
import textwrap
from pathlib import Path

import pytest

from kiwoom import catalog

ROOT = Path(__file__).resolve().parents[2]


def test_literal_request_fields_match_the_runtime_tables():
    literal = {
        (e.api_id, r.wire)
        for e in catalog.entries("rest")
        for r in e.request_type.__rules__
        if r.codes
    }
    assert ("usa06012", "stex_tp") in literal and ("ka10081", "upd_stkpc_tp") in literal
    assert ("ka20005", "inds_cd") not in literal  # relaxed: Kiwoom's table is incomplete
    assert ("ka10081", "stk_cd") not in literal  # a stock code is text, never a closed set
    for api_id, wire in literal:
        request_type = catalog.get(api_id).request_type
        attr = next(r.attr for r in request_type.__rules__ if r.wire == wire)
        # The annotation as written (at run time `_Code[...]` is `str`): what a checker reads.
        source = inspect.getsource(request_type)
        assert re.search(rf"^    {attr}: \(?\s*_Code\[", source, re.MULTILINE), (api_id, wire)


@pytest.mark.timeout(300)
def test_mypy_refuses_a_code_outside_the_table(tmp_path):
    mypy_api = pytest.importorskip("mypy.api")
    snippet = tmp_path / "snippet.py"
    snippet.write_text(
        textwrap.dedent(
            """
            import kiwoom

            def use(client: kiwoom.Kiwoom) -> None:
                client.us.chart.daily(stex_tp="NASD", stk_cd="AAPL")
                client.us.chart.daily(stex_tp="ND", stk_cd="AAPL")
                reveal_type(client.us.chart.daily)
            """
        ),
        encoding="utf-8",
    )
    out, _, status = mypy_api.run(
        [str(snippet), "--strict", "--no-error-summary", "--cache-dir", str(ROOT / ".mypy_cache")]
    )
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert status == 1
    assert len(errors) == 1, out
    assert ':5: error: Argument "stex_tp"' in errors[0]
    assert "\"Literal['NASD']\"; expected \"Literal['NA', 'ND', 'NY']\"" in errors[0]
    assert "stex_tp: Literal['NA'] | Literal['ND'] | Literal['NY']" in out
