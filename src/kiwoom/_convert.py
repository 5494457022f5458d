"""Tolerant wire -> typed conversion: the slow road when a generated converter raises.

The generated converters handle the canonical shapes at full speed (``int(v)``, C date
parsers). Real responses now and then hold other shapes: blanks (``" 450"``), doubled
signs (``"--1100"``), all-zero dates, ``"240000"``. Those responses are converted again
here, field by field, from each typed Struct's ``__kinds__``; a value that still does not
convert raises :class:`DecodeError` naming the API id and the field's wire path.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

import msgspec

from ._errors import DecodeError
from ._model import Response
from ._values import to_code, to_date, to_datetime, to_number, to_time

__all__ = ["convert"]

T = TypeVar("T", bound=msgspec.Struct)

_TEMPORAL: dict[str, Callable[[str], object]] = {
    "date": to_date,
    "time": to_time,
    "datetime": to_datetime,
}


@cache
def _layout(typed: type[msgspec.Struct]) -> tuple[tuple[str, str, type[Any] | None], ...]:
    """(kind, wire name, nested Struct type or None) per converted field."""
    hints = typing.get_type_hints(typed)
    fields = msgspec.structs.fields(typed)
    if issubclass(typed, Response):
        fields = fields[2:]
    out = []
    for kind, f in zip(typed.__kinds__, fields, strict=True):  # type: ignore[attr-defined]
        nested: type[Any] | None = None
        hint = hints[f.name]
        if kind == "list":
            nested = typing.get_args(hint)[0]
        elif kind == "object":
            nested = next(a for a in typing.get_args(hint) if a is not type(None))
        out.append((kind, f.encode_name, nested))
    return tuple(out)


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
        n = int(text)
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
    for (kind, name, nested), v in zip(_layout(typed), values, strict=True):
        out.append(_value(api_id, kind, v, nested, path + name))
    return typed(*out)
