"""Every response example Kiwoom publishes decodes through the SDK into typed values.

Needs Kiwoom's official catalogue, which we may not redistribute: the test looks for it at
$KIWOOM_OFFICIAL_CATALOGUE or in the cache that ../shared/tools/official-catalogue.sh fills,
and is skipped when absent. (test_every_api_decodes.py covers every entry without it.)
"""

import json
import os
from pathlib import Path

import msgspec
import pytest

from codegen.examples import parse_examples
from kiwoom import catalog

_DEFAULT = Path.home() / ".cache/kiwoom-official/kwcli-1.0.3/kiwoom/_data/kiwoom_api_spec.json"
_PATH = Path(os.environ.get("KIWOOM_OFFICIAL_CATALOGUE", _DEFAULT))

pytestmark = pytest.mark.skipif(not _PATH.exists(), reason="official catalogue not available")


def _examples() -> list[tuple[str, str]]:
    if not _PATH.exists():
        return []
    apis = json.loads(_PATH.read_text(encoding="utf-8"))["apis"]
    return sorted((v["meta"]["API ID"], v["response_example"]) for v in apis.values())


def _non_string_values(obj: object) -> int:
    """How many leaf values of a typed object are not plain text (ints, floats, dates...)."""
    if isinstance(obj, list):
        return sum(_non_string_values(x) for x in obj)
    if isinstance(obj, msgspec.Struct):
        return sum(_non_string_values(getattr(obj, f)) for f in obj.__struct_fields__)
    return 0 if obj is None or isinstance(obj, str) else 1


@pytest.mark.parametrize(("api_id", "example"), _examples(), ids=lambda x: x if len(x) < 12 else "")
def test_official_example_decodes(api_id, example):
    entry = catalog.get(api_id)
    messages = parse_examples(example)
    assert messages, f"{api_id}: no message in the example"
    decoded = 0
    for msg in messages:
        if entry.kind == "realtime":
            if not isinstance(msg, dict) or msg.get("trnm") != "REAL":
                continue  # the REG answer
            for item in msg["data"]:
                values = catalog.get(item["type"]).decode(msgspec.json.encode(item["values"]))
                assert isinstance(values, entry.response_type)
                assert _non_string_values(values) > 0
                decoded += 1
        else:
            typed = entry.decode(msgspec.json.encode(msg))
            assert isinstance(typed, entry.response_type)
            decoded += 1
    assert decoded, f"{api_id}: nothing decoded"
