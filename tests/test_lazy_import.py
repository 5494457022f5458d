import subprocess
import sys


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
        "['kiwoom._generated._registry'",
        "'kiwoom._generated.domestic'",
        "'kiwoom._generated.domestic.chart'",
        "'kiwoom._generated.domestic.chart.ka10081']",
    ]


def test_every_exported_name_resolves():
    import kiwoom
    from kiwoom._generated._registry import NAMES

    for name in NAMES:
        assert getattr(kiwoom, name).__name__ == name
    assert set(NAMES) <= set(dir(kiwoom))
