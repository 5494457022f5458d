"""Every entry of the catalogue decodes a body built from its own field list, into the right types.

The bodies are made here from the catalogue, one value per semantic type, so the test needs
no recorded data and covers every generated converter.
"""

import datetime as dt

import msgspec
import pytest

from codegen import SPEC_DIR
from codegen.load import load
from codegen.model import FieldM, StructM, build
from kiwoom import _convert, catalog

_MODULES = build(load(SPEC_DIR))
_STRUCTS: dict[str, StructM] = {}
for _mod in _MODULES:
    for _api in _mod.apis:
        _STRUCTS[_api.id] = _api.response
    for _rt in _mod.realtime:
        _STRUCTS[_rt.id] = _rt.values

# (wire value, expected typed value) per kind of field
_SAMPLES = {
    ("integer", "none"): ("000000012300", 12300),
    ("integer", "real"): ("-20800", -20800),
    ("integer", "direction"): ("-20800", 20800),
    ("decimal", "none"): ("12.50", 12.5),
    ("decimal", "real"): ("-0.24", -0.24),
    ("decimal", "direction"): ("-96.64", 96.64),
    ("date", "none"): ("20250908", dt.date(2025, 9, 8)),
    ("datetime", "none"): ("20241107083713", dt.datetime(2024, 11, 7, 8, 37, 13)),
    ("string", "none"): ("삼성전자", "삼성전자"),
    ("code", "none"): ("2", "2"),
}


def _sample(f: FieldM) -> tuple[object, object]:
    if f.type == "time":
        return (
            ("09:05:07", dt.time(9, 5, 7))
            if ":" in (f.format or "")
            else ("090507", dt.time(9, 5, 7))
        )
    wire, typed = _SAMPLES[(f.type, f.sign if f.type in ("integer", "decimal") else "none")]
    if f.scale:
        wire = "-254519" if f.sign != "none" else "254519"
        typed = (254519 if f.sign != "real" else -254519) / 10**f.scale
    return wire, typed


def _body(st: StructM, depth: int = 0) -> tuple[dict, dict]:
    wire: dict = {}
    expected: dict = {}
    for f in st.fields:
        if f.struct is not None:
            sub_wire, sub_expected = _body(f.struct, depth + 1)
            if f.struct.array_like:  # rows sent as arrays of values, in field order
                sub_wire = list(sub_wire.values())
            if f.type == "list":
                wire[f.wire] = [sub_wire, [] if f.struct.array_like else {}]
                expected[f.attr] = [sub_expected, {}]
            else:
                wire[f.wire] = sub_wire
                expected[f.attr] = sub_expected
        else:
            wire[f.wire], expected[f.attr] = _sample(f)
    return wire, expected


def _check(obj: object, expected: dict, where: str) -> None:
    for attr, want in expected.items():
        got = getattr(obj, attr)
        if isinstance(want, list):
            assert len(got) == len(want), where + attr
            for i, (row, row_want) in enumerate(zip(got, want, strict=True)):
                _check(row, row_want, f"{where}{attr}[{i}].")
                if not row_want:  # the empty row: every scalar is None, every list empty
                    for f in msgspec.structs.fields(type(row)):
                        assert getattr(row, f.name) in (None, []), f"{where}{attr}[{i}].{f.name}"
        elif isinstance(want, dict):
            _check(got, want, f"{where}{attr}.")
        elif isinstance(want, float):
            assert got == pytest.approx(want), where + attr
        else:
            assert got == want and type(got) is type(want), f"{where}{attr}: {got!r} != {want!r}"


@pytest.mark.parametrize("api_id", sorted(_STRUCTS))
def test_entry_decodes_its_own_shape(api_id):
    wire, expected = _body(_STRUCTS[api_id])
    entry = catalog.get(api_id)
    typed = entry.decode(msgspec.json.encode(wire))
    assert isinstance(typed, entry.response_type)
    _check(typed, expected, f"{api_id}: ")
    # the tolerant road (taken when the fast converter raises) gives the same values
    wire_obj = entry.decode_wire(msgspec.json.encode(wire))
    assert _convert.convert(api_id, wire_obj, entry.response_type) == typed
    # and the wire model keeps exactly what was sent
    assert msgspec.to_builtins(wire_obj)
