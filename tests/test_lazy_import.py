import json
import subprocess
import sys

from _raw_server import QUOTE, ScriptServer, answer, token_answer


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def test_import_loads_no_generated_module():
    loaded = _run(
        "import sys, kiwoom; "
        "print(sorted(m for m in sys.modules if m.startswith('kiwoom._generated')))"
    )
    assert loaded == "[]"


def test_a_name_loads_only_its_own_api_module():
    loaded = _run(
        "import sys, kiwoom; kiwoom.Ka10081Response; "
        "print(sorted(m for m in sys.modules if m.startswith('kiwoom._generated.')))"
    )
    assert loaded.split(", ") == [
        "['kiwoom._generated._names'",
        "'kiwoom._generated.domestic'",
        "'kiwoom._generated.domestic.chart'",
        "'kiwoom._generated.domestic.chart.ka10081']",
    ]


def test_every_exported_name_resolves():
    import kiwoom
    from kiwoom._generated._names import NAMES

    for name in NAMES:
        assert getattr(kiwoom, name).__name__ == name
    assert set(NAMES) <= set(dir(kiwoom))


# The blocking client's cold road, as a script meets it: import, construct, one typed call.
_COLD_ROAD = """
import sys
import kiwoom
after_import = "asyncio" in sys.modules
client = kiwoom.Kiwoom("APPKEY", "SECRET", host=URL)
info = client.stock_info.basic_info(stk_cd="005930")
entry = kiwoom.catalog.get("ka10001")
print(json.dumps({
    "name": info.stk_nm,
    "asyncio": [after_import, "asyncio" in sys.modules],
    "generated": sorted(m for m in sys.modules if m.startswith("kiwoom._generated.")),
    "fast_plan": "_fast" in entry.__dict__,
    "fast_road": "kiwoom._fastdecode" in sys.modules,
}))
"""


def test_the_blocking_client_loads_no_asyncio_and_only_its_calls_models():
    server = ScriptServer([token_answer(), answer(QUOTE)])
    try:
        out = json.loads(_run(f"import json\nURL = {server.url!r}\n" + _COLD_ROAD))
    finally:
        server.stop()
    assert out["name"] == "삼성"
    assert out["asyncio"] == [False, False]  # ~13 ms the blocking road never needs
    # the called API's models and the token's, not the other 30 APIs of stock_info
    assert out["generated"] == [
        "kiwoom._generated._clients",
        "kiwoom._generated._registry",
        "kiwoom._generated.domestic",
        "kiwoom._generated.domestic.stock_info",
        "kiwoom._generated.domestic.stock_info.ka10001",
        "kiwoom._generated.oauth",
        "kiwoom._generated.oauth.au10001",
    ]
    # the first body took the converter road: no fast plan built for one call, nor its module
    assert out["fast_plan"] is False
    assert out["fast_road"] is False


def test_the_fast_plan_is_built_from_an_entrys_second_body(monkeypatch):
    from kiwoom import catalog

    entry = catalog.get("ka10001")
    monkeypatch.setattr(entry, "_decoded", False)
    monkeypatch.delitem(entry.__dict__, "_fast", raising=False)
    first = entry.decode(QUOTE)
    assert "_fast" not in entry.__dict__
    second = entry.decode(QUOTE)
    assert "_fast" in entry.__dict__
    assert first == second and first.stk_nm == "삼성"
    monkeypatch.delitem(entry.__dict__, "_fast")
