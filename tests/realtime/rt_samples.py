"""Plausible wire values for every FID of every real-time type, built from the catalogue."""

from __future__ import annotations

import msgspec

from kiwoom import catalog

# One wire string per conversion kind of the typed values Structs (``__kinds__``).
_WIRE = {
    "abs int": "-60700",
    "int": "+152",
    "float": "-0.53",
    "abs float": "+12.50",
    "float/100": "1234",
    "date": "20250908",
    "time": "152413",
    "str": "2",
    "num text": "+3",
}

REALTIME_TYPES = [e.api_id for e in catalog.entries("realtime")]


def wire_values(type_id: str) -> dict[str, str]:
    """FID -> wire text for every field of a real-time type's values."""
    typed = catalog.get(type_id).response_type
    kinds = typed.__kinds__  # type: ignore[attr-defined]
    fields = msgspec.structs.fields(typed)
    assert len(kinds) == len(fields), type_id
    return {f.encode_name: _WIRE[k] for f, k in zip(fields, kinds, strict=True)}


def item_for(type_id: str) -> list[str]:
    """Items to register a type with: US types take tickers, orders/balance none."""
    if type_id in ("00", "04"):
        return [""]
    if catalog.get(type_id).region == "us":
        return ["AAPL", "TSLA"]
    return ["005930", "000660"]
