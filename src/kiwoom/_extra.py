"""Response keys beyond the catalogue: kept reachable, counted, and never a silent empty list.

Kiwoom adds fields without notice (ka10080 ``acc_trde_qty``) and its examples sometimes name
a row list differently from its tables (ka20005). The typed models drop what they do not
know; :func:`extra` finds it again in the body, shaped like the body, so a user can read it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec
import msgspec.inspect as mi

__all__ = ["Shape", "absent_lists", "extra", "lists", "paths", "shape", "unknown_lists"]

Shape = dict[str, Any]
"""Known wire keys of an object, each mapped to the shape of its value (None: a scalar)."""


def _shape_of(t: mi.Type) -> Shape | None:
    if isinstance(t, mi.StructType):
        if t.array_like:  # rows sent as arrays of values carry no keys
            return None
        return {f.encode_name: _shape_of(f.type) for f in t.fields}
    if isinstance(t, mi.ListType | mi.VarTupleType):
        return _shape_of(t.item_type)
    if isinstance(t, mi.UnionType):
        for member in t.types:
            inner = _shape_of(member)
            if inner is not None:
                return inner
    return None


@cache
def shape(wire_type: type[msgspec.Struct]) -> Shape:
    """Every key the catalogue knows of a response, nested as the body nests."""
    return _shape_of(mi.type_info(wire_type)) or {}


class ListField(msgspec.Struct, frozen=True):
    attr: str
    wire: str
    quoted: bytes  # the key as it appears in a body


@cache
def lists(response_type: type[msgspec.Struct]) -> tuple[ListField, ...]:
    """The top-level row lists of a typed response, from its ``__kinds__`` (its annotations
    are not resolved: that costs ~0.3 ms a type, on the first call of every API)."""
    kinds = ("code", "str", *response_type.__kinds__)  # type: ignore[attr-defined]
    fields = zip(
        response_type.__struct_fields__, response_type.__struct_encode_fields__, kinds, strict=True
    )
    return tuple(ListField(a, w, f'"{w}"'.encode()) for a, w, kind in fields if kind == "list")


def _unknown(data: dict[str, Any], known: Shape) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            out[key] = value
            continue
        inner = known[key]
        if inner is None:
            continue
        if isinstance(value, dict):
            sub = _unknown(value, inner)
            if sub:
                out[key] = sub
        elif isinstance(value, list):
            rows = [_unknown(v, inner) if isinstance(v, dict) else {} for v in value]
            if any(rows):
                out[key] = rows
    return out


def extra(content: bytes, wire_type: type[msgspec.Struct]) -> dict[str, Any]:
    """The keys of a body that the catalogue lacks, with their values as sent.

    A key unknown at the top level appears with its whole value; inside a known object or
    row list only the unknown keys appear, a list keeping one dict per row (``{}`` for a
    row with none) so ``extra["stk_min_pole_chart_qry"][i]`` lines up with the typed row ``i``.
    """
    try:
        data = msgspec.json.decode(content)
    except msgspec.DecodeError:
        return {}
    return _unknown(data, shape(wire_type)) if isinstance(data, dict) else {}


def paths(found: dict[str, Any], known: Shape, prefix: str = "") -> dict[str, int]:
    """Each unknown key of an :func:`extra` mapping as a path (``rows[].key``) with how many
    values it holds there: what the debug log counts."""
    out: dict[str, int] = {}
    for key, value in found.items():
        path = prefix + key
        if key not in known:
            out[path] = out.get(path, 0) + 1
            continue
        if isinstance(value, dict):
            nested = [(value, path + ".")]
        else:
            nested = [(row, path + "[].") for row in value]
        for obj, sub_prefix in nested:
            for sub, count in paths(obj, known[key], sub_prefix).items():
                out[sub] = out.get(sub, 0) + count
    return out


def absent_lists(typed: Any, content: bytes) -> list[str]:
    """The catalogue's row lists that a body does not carry at all (an empty list sent as
    ``[]`` is not absent). Cheap: only an empty typed list costs a search of the bytes."""
    return [
        f.wire
        for f in lists(typed.__class__)
        if not getattr(typed, f.attr) and f.quoted not in content
    ]


def unknown_lists(found: dict[str, Any], wire_type: type[msgspec.Struct]) -> list[str]:
    """The top-level keys of an :func:`extra` mapping that are lists the catalogue lacks."""
    known = shape(wire_type)
    return [k for k, v in found.items() if k not in known and isinstance(v, list)]
