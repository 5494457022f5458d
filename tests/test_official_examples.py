"""Every example Kiwoom publishes holds for the SDK: each response example decodes into typed
values, each request example passes our request validation, and each key of a response example
is in the catalogue or listed in spec/overrides with a reason.

Needs Kiwoom's official catalogue, which we may not redistribute: the test looks for it at
$KIWOOM_OFFICIAL_CATALOGUE or in the cache that ../shared/tools/official-catalogue.sh fills,
and is skipped when absent. (test_every_api_decodes.py covers every entry without it.)
"""

import json
import os
from pathlib import Path

import msgspec
import pytest

from codegen import SPEC_DIR
from codegen.examples import parse_examples
from codegen.overrides import load as load_overrides
from kiwoom import InvalidRequestError, KiwoomError, catalog

_DEFAULT = Path.home() / ".cache/kiwoom-official/kwcli-1.0.3/kiwoom/_data/kiwoom_api_spec.json"
_PATH = Path(os.environ.get("KIWOOM_OFFICIAL_CATALOGUE", _DEFAULT))

pytestmark = pytest.mark.skipif(not _PATH.exists(), reason="official catalogue not available")


_OVERRIDES = load_overrides(SPEC_DIR / "overrides")


def _examples(side: str = "response_example") -> list[tuple[str, str]]:
    if not _PATH.exists():
        return []
    apis = json.loads(_PATH.read_text(encoding="utf-8"))["apis"]
    return sorted((v["meta"]["API ID"], v[side] or "") for v in apis.values())


def _wrong_examples(api_id: str) -> list[list[str]]:
    """Field paths (below ``response``) whose example value fields.yaml calls wrong."""
    fields = _OVERRIDES.fields.get(api_id, {})
    return [p.split(".")[1:] for p, keys in fields.items() if keys.get("example") == "wrong"]


def _blank(message: object, path: list[str]) -> int:
    """Blank the value at ``path`` (through lists); how many were blanked."""
    if isinstance(message, list):
        return sum(_blank(row, path) for row in message)
    if not isinstance(message, dict) or path[0] not in message:
        return 0
    if len(path) > 1:
        return _blank(message[path[0]], path[1:])
    message[path[0]] = ""
    return 1


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
            wrong = _wrong_examples(api_id)
            for path in wrong:
                # A value fields.yaml calls wrong is left out, and the table's type is kept.
                assert _blank(msg, path), f"{api_id}: no example value at {'.'.join(path)}"
            typed = entry.decode(msgspec.json.encode(msg))
            assert isinstance(typed, entry.response_type)
            decoded += 1
    assert decoded, f"{api_id}: nothing decoded"


def test_wrong_examples_really_contradict_the_table():
    """Each value fields.yaml calls wrong does fail its typed decode (else the mark hides
    nothing and must go)."""
    by_id = dict(_examples())
    marked = [(api_id, path) for api_id in _OVERRIDES.fields for path in _wrong_examples(api_id)]
    assert marked
    for api_id, path in marked:
        entry = catalog.get(api_id)
        msg = parse_examples(by_id[api_id])[0]
        others = [p for p in _wrong_examples(api_id) if p != path]
        for other in others:
            _blank(msg, other)
        with pytest.raises(KiwoomError):
            entry.decode(msgspec.json.encode(msg))


@pytest.mark.parametrize(
    ("api_id", "example"), _examples("request_example"), ids=lambda x: x if len(x) < 12 else ""
)
def test_official_request_example_passes_validation(api_id, example):
    """Validation is never stricter than Kiwoom's own examples."""
    entry = catalog.get(api_id)
    if entry.kind != "rest":
        return
    messages = parse_examples(example)
    for msg in messages:
        try:
            entry.build_request(msg)
        except InvalidRequestError as exc:
            pytest.fail(f"Kiwoom's own request example is refused: {exc}")


def _known_keys(struct: type[msgspec.Struct], api_id: str, where: str) -> dict[str, object]:
    import typing

    hints = typing.get_type_hints(struct)
    out: dict[str, object] = {}
    for f in msgspec.structs.fields(struct):
        inner = hints[f.name]
        args = [a for a in typing.get_args(inner) if a is not type(None)]
        nested = next(
            (a for a in args if isinstance(a, type) and issubclass(a, msgspec.Struct)), None
        )
        if isinstance(inner, type) and issubclass(inner, msgspec.Struct):
            nested = inner
        out[f.encode_name] = nested
    for alias, name in catalog.get(api_id)._aliases if where == "response" else ():
        out[alias.decode().strip('"')] = out[name.decode().strip('"')]
    return out


def _unknown(struct: type[msgspec.Struct], msg: object, api_id: str, where: str) -> set[str]:
    if isinstance(msg, list):
        return {k for row in msg for k in _unknown(struct, row, api_id, where)}
    if not isinstance(msg, dict):
        return set()
    known = _known_keys(struct, api_id, where)
    out = set()
    for key, value in msg.items():
        if key not in known:
            out.add(f"{where}.{key}")
        elif known[key] is not None:
            name = key
            for alias, table in catalog.get(api_id)._aliases if where == "response" else ():
                if alias.decode().strip('"') == key:
                    name = table.decode().strip('"')
            out |= _unknown(known[key], value, api_id, f"{where}.{name}")  # type: ignore[arg-type]
    return out


@pytest.mark.parametrize(("api_id", "example"), _examples(), ids=lambda x: x if len(x) < 12 else "")
def test_every_response_example_key_is_known_or_listed(api_id, example):
    entry = catalog.get(api_id)
    listed = set(_OVERRIDES.unknown_keys.get(api_id, {}))
    unknown: set[str] = set()
    for msg in parse_examples(example):
        if entry.kind == "realtime":
            if not isinstance(msg, dict) or msg.get("trnm") != "REAL":
                continue
            for item in msg.get("data", []):
                extra = set(item) - {"type", "name", "item", "values"}
                unknown |= {f"response.data.{k}" for k in extra}
                unknown |= _unknown(
                    entry.response_type, item.get("values", {}), api_id, "response.data.values"
                )
        else:
            unknown |= _unknown(entry.wire_type, msg, api_id, "response")
    assert unknown <= listed, (
        f"{api_id}: keys neither in the catalogue nor in conflicts.yaml: {sorted(unknown - listed)}"
    )
