"""Sample wire data built from the catalogue: response bodies (with the typed values they must
decode to) and request values that pass every request check.

Shared by the decode tests, the client tests and the cassette builder; nothing here is
recorded data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from codegen import SPEC_DIR
from codegen.load import load
from codegen.model import ApiM, FieldM, StructM, build

MODULES = build(load(SPEC_DIR))
APIS: dict[str, ApiM] = {api.id: api for mod in MODULES for api in mod.apis}
STRUCTS: dict[str, StructM] = {api.id: api.response for api in APIS.values()}
STRUCTS.update({rt.id: rt.values for mod in MODULES for rt in mod.realtime})

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


def sample_value(f: FieldM) -> tuple[object, object]:
    """(wire text, typed value) of one response field."""
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


def sample_body(st: StructM) -> tuple[dict[str, Any], dict[str, Any]]:
    """(wire body, expected typed attributes) of a response Struct: each list holds one full
    row and one empty row (every value missing)."""
    wire: dict[str, Any] = {}
    expected: dict[str, Any] = {}
    for f in st.fields:
        if f.struct is not None:
            sub_wire, sub_expected = sample_body(f.struct)
            row: Any = sub_wire
            if f.struct.array_like:  # rows sent as arrays of values, in field order
                row = list(sub_wire.values())
            if f.type == "list":
                wire[f.wire] = [row, [] if f.struct.array_like else {}]
                expected[f.attr] = [sub_expected, {}]
            else:
                wire[f.wire] = row
                expected[f.attr] = sub_expected
        else:
            wire[f.wire], expected[f.attr] = sample_value(f)
    return wire, expected


# Request text values by wire name; anything else gets its first code, or "0".
_REQUEST_TEXT = {
    "stk_cd": "005930",
    "inds_cd": "001",
    "acnt_no": "12345678",
    "ord_no": "0000123",
    "orig_ord_no": "0000123",
    "thema_nm": "반도체",
    "thema_grp_cd": "100",
    "crnc_cd": "USD",
    "frgn_stex_code": "NASD",
}
_US_TEXT = {"stk_cd": "AAPL"}


def sample_request(api_id: str) -> dict[str, Any]:
    """Values for every request field of an API (wire names), valid for its request checks."""
    api = APIS[api_id]
    out: dict[str, Any] = {}
    for f in api.request.fields:
        out[f.wire] = _request_value(api, f)
    return out


def _request_value(api: ApiM, f: FieldM) -> Any:
    if f.type == "list":
        assert f.struct is not None
        return [{g.wire: _request_value(api, g) for g in f.struct.fields}]
    if f.type == "date":
        text = "20250908"
    elif f.type == "datetime":
        text = "20250908090000"
    elif f.type == "time":
        text = "090000"
    elif f.codes:
        text = next(iter(f.codes))
    elif f.type in ("integer", "decimal"):
        text = "1"
    else:
        table = _US_TEXT if api.region == "us" and f.wire in _US_TEXT else _REQUEST_TEXT
        text = table.get(f.wire, "0")
    if f.length is not None:
        text = text[: f.length]
    return text
