"""Tolerant wire -> typed conversion: the slow road when a generated converter raises.

The generated converters handle the canonical shapes at full speed (``int(v)``, C date
parsers). Real responses now and then hold other shapes: blanks (``" 450"``), doubled
signs (``"--1100"``), all-zero dates, ``"240000"``. Those responses are converted again
here, field by field, from each typed Struct's ``__kinds__``; a value that still does not
convert raises :class:`DecodeError` naming the API id and the field's wire path.
"""

from __future__ import annotations

import datetime as _dt
import typing
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

import msgspec

from ._errors import DecodeError
from ._model import Response
from ._values import to_code, to_date, to_datetime, to_number, to_time

# Sector codes whose closing-auction bar ("888888") the reference wrapper reads as 17:00, not 16:00.
LATE_CLOSE_SECTORS = frozenset({"253", "254"})
_LATE_AUCTION = _dt.time(17, 0)

__all__ = ["LATE_CLOSE_SECTORS", "Field", "convert", "late_close", "layout"]

T = TypeVar("T", bound=msgspec.Struct)

_TEMPORAL: dict[str, Callable[[str], object]] = {
    "date": to_date,
    "time": to_time,
    "datetime": to_datetime,
}


class Field(msgspec.Struct, frozen=True):
    """How one field of a typed Struct converts from the wire."""

    attr: str
    wire: str
    kind: str  # from ``__kinds__``; a response's return_code and return_msg are "code", "str"
    nested: type[msgspec.Struct] | None  # the row Struct of a "list" or "object" field


@cache
def layout(typed: type[msgspec.Struct]) -> tuple[Field, ...]:
    """Every field of a typed Struct (a response's return_code and return_msg included)."""
    hints = typing.get_type_hints(typed)
    kinds: tuple[str, ...] = typed.__kinds__  # type: ignore[attr-defined]
    if issubclass(typed, Response):
        kinds = ("code", "str", *kinds)
    out = []
    for kind, f in zip(kinds, msgspec.structs.fields(typed), strict=True):
        nested = None
        if kind == "list":
            nested = typing.get_args(hints[f.name])[0]
        elif kind == "object":
            nested = next(a for a in typing.get_args(hints[f.name]) if a is not type(None))
        out.append(Field(f.name, f.encode_name, kind, nested))
    return tuple(out)


def _whole(text: str) -> int:
    """``int(text)``, also for a whole number written with zero decimals (``"3179.00"``, as
    Kiwoom writes some prices); a true fraction (``"47.41"``) is an error, never rounded."""
    try:
        return int(text)
    except ValueError:
        whole, dot, zeros = text.partition(".")
        if not dot or zeros.strip("0"):
            raise
        return int(whole)


def _number(kind: str, v: str) -> int | float | None:
    text = to_number(v)
    if not text:
        return None
    magnitude = kind.startswith("abs ")
    base, _, divisor = kind.removeprefix("abs ").partition("/")
    n: int | float
    if divisor:
        n = float(text) / int(divisor)
    elif base == "int":
        n = _whole(text)
    else:
        n = float(text)
    return abs(n) if magnitude else n


def _value(api_id: str, kind: str, v: Any, nested: type[Any] | None, where: str) -> Any:
    if kind == "list":
        if not v:
            return []
        assert nested is not None
        return [convert(api_id, row, nested, f"{where}[{i}].") for i, row in enumerate(v)]
    if kind == "object":
        assert nested is not None
        return None if v is None else convert(api_id, v, nested, f"{where}.")
    if not isinstance(v, str):
        raise DecodeError(api_id, where, v, "expected text")
    if kind == "str":
        return v or None
    if kind == "num text":  # text holding a number: a '+' is a sign, dropped
        return v.replace("+", "") or None
    try:
        if kind in _TEMPORAL:
            return _TEMPORAL[kind](v)
        return _number(kind, v)
    except (ValueError, ArithmeticError) as exc:
        raise DecodeError(api_id, where, v, f"expected {kind}: {exc}") from None


def convert(api_id: str, wire: msgspec.Struct, typed: type[T], path: str = "") -> T:
    """The typed Struct ``typed`` of one wire Struct, value by value."""
    values = msgspec.structs.astuple(wire)
    out: list[Any] = []
    if issubclass(typed, Response):
        try:
            out.append(to_code(values[0]))
        except ValueError:
            raise DecodeError(api_id, path + "return_code", values[0], "expected int") from None
        out.append(values[1] or None)
        values = values[2:]
    fields = layout(typed)[2:] if issubclass(typed, Response) else layout(typed)
    for f, v in zip(fields, values, strict=True):
        out.append(_value(api_id, f.kind, v, f.nested, path + f.wire))
    return typed(*out)


def late_close(typed: msgspec.Struct, wire: msgspec.Struct) -> None:
    """Set every time stamped ``"888888"`` in ``wire`` to 17:00 in ``typed`` (in place): the
    closing auction of the sectors in :data:`LATE_CLOSE_SECTORS`."""
    for f in layout(type(typed)):
        value, text = getattr(typed, f.attr), getattr(wire, f.attr)
        if f.kind == "list":
            for row, wire_row in zip(value, text, strict=True):
                late_close(row, wire_row)
        elif f.kind == "object" and value is not None:
            late_close(value, text)
        elif f.kind in ("time", "datetime") and text.strip().endswith("888888") and value:
            late = _LATE_AUCTION if f.kind == "time" else _dt.datetime.combine(value, _LATE_AUCTION)
            setattr(typed, f.attr, late)
