"""Base classes of the generated models, and the checks every request runs before sending."""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar, TypeAlias

import msgspec

from ._errors import InvalidRequestError

__all__ = [
    "Code",
    "DateText",
    "DateTimeText",
    "DecimalText",
    "FieldRule",
    "Request",
    "Response",
    "Row",
    "TimeText",
    "WireResponse",
    "WireRow",
    "check",
]

# A request date, time or timestamp may be given as a ``datetime`` object or as wire text
# (``"20250908"``). msgspec allows one text-like type per union, so at run time (where it
# reads the annotations to decode dicts) these are plain ``str``; type checkers see both.
if TYPE_CHECKING:
    DateText: TypeAlias = _dt.date | str
    TimeText: TypeAlias = _dt.time | str
    DateTimeText: TypeAlias = _dt.datetime | str
    DecimalText: TypeAlias = Decimal | float | str
else:
    DateText = TimeText = DateTimeText = str
    DecimalText = float | str


class _CodeText:
    """``Code["NA", "ND", "NY"]``: a request code field. Type checkers read it as
    ``Literal["NA", "ND", "NY"]`` (see the generated modules' imports); at run time it is
    ``str``, so a value outside the table reaches the request's own check, whose refusal
    lists every code with its meaning (msgspec's enum error would not)."""

    def __getitem__(self, codes: object) -> type[str]:
        return str


Code = _CodeText()

# Request fields whose values are secrets: never echoed in an error message.
_SECRET_FIELDS = frozenset({"appkey", "secretkey", "token"})


class FieldRule(msgspec.Struct, frozen=True):
    """What a request checks of one field before it is sent."""

    attr: str
    wire: str
    label: str
    required: bool
    max_length: int | None
    kind: str  # "str" | "int" | "decimal" | "date" | "time" | "datetime" | "list"
    fmt: str | None = None  # wire format of a date/time (or of a text field holding one)
    codes: Mapping[str, str] | None = None  # the closed code table: no other value is sent


def _shown(rule: FieldRule, value: object) -> str:
    return "<hidden>" if rule.wire in _SECRET_FIELDS else repr(value)


# What each rule kind accepts, as said in a refusal.
_EXPECTED = {
    "str": "text (str)",
    "int": "an int (or its digits as text)",
    "decimal": "a Decimal, int or float (or its digits as text)",
    "date": "a datetime.date (or YYYYMMDD text)",
    "time": "a datetime.time (or HHmmss text)",
    "datetime": "a datetime.datetime (or YYYYMMDDHHmmss text)",
}
_INT_TEXT = re.compile(r"[+-]?\d+")
_DECIMAL_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)")
# strftime patterns of the catalogue's date and time formats.
_STRFTIME = {
    "YYYYMMDD": "%Y%m%d",
    "YYYYMM": "%Y%m",
    "YYYY": "%Y",
    "MMDD": "%m%d",
    "HHmmss": "%H%M%S",
    "HHmm": "%H%M",
    "HH:mm:ss": "%H:%M:%S",
    "HH:mm": "%H:%M",
    "YYYYMMDDHHmmss": "%Y%m%d%H%M%S",
}
_DEFAULT_FMT = {"date": "YYYYMMDD", "time": "HHmmss", "datetime": "YYYYMMDDHHmmss"}


def _refuse(api_id: str, rule: FieldRule, value: object) -> InvalidRequestError:
    kind = rule.kind
    if kind == "str" and rule.fmt in _STRFTIME:
        expected = f"text ({rule.fmt}) or a datetime.{'time' if 'H' in rule.fmt else 'date'}"
    elif kind == "str" and rule.codes is not None:
        expected = "one of its codes as text"
    else:
        expected = _EXPECTED.get(kind, kind)
    return InvalidRequestError(
        api_id,
        rule.wire,
        f"({rule.label}) expects {expected}, got {type(value).__name__} {_shown(rule, value)}",
    )


def _wire_text(api_id: str, rule: FieldRule, value: object) -> str:
    """The wire string of one request value, or an error naming the API id and the field.

    Nothing is coerced: text goes as given; an int only fills an integer or decimal field; a
    Decimal or float only a decimal field; a date, time or datetime only a field of that
    kind (or a text field whose format is a date or time). An int never becomes the text of
    a code field (``5930`` is not the stock code ``"005930"``).
    """
    kind = rule.kind
    if isinstance(value, str):
        if value and (
            (kind == "int" and not _INT_TEXT.fullmatch(value))
            or (kind == "decimal" and not _DECIMAL_TEXT.fullmatch(value))
        ):
            raise _refuse(api_id, rule, value)
        return value
    if isinstance(value, bool):
        raise _refuse(api_id, rule, value)
    if isinstance(value, int):
        if kind in ("int", "decimal"):
            return str(value)
    elif isinstance(value, float | Decimal):
        finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
        if kind == "decimal" and finite:
            return format(value if isinstance(value, Decimal) else Decimal(repr(value)), "f")
    elif isinstance(value, _dt.date | _dt.time) and (kind in _DEFAULT_FMT or kind == "str"):
        # A datetime given for a date field sends its day (a datetime is a date).
        pattern = _STRFTIME.get(rule.fmt or _DEFAULT_FMT.get(kind, ""))
        if pattern is not None and _fits_format(value, pattern):
            return value.strftime(pattern)
    raise _refuse(api_id, rule, value)


def _fits_format(value: _dt.date | _dt.time, pattern: str) -> bool:
    """A time for a time format, a date for a date format, a datetime for either."""
    clock = "%H" in pattern
    day = "%Y" in pattern or "%m" in pattern
    if isinstance(value, _dt.datetime):
        return True
    if isinstance(value, _dt.time):
        return clock and not day
    return day and not clock


def _check_code(api_id: str, rule: FieldRule, text: str) -> None:
    codes = rule.codes
    if codes is None or text in codes or (not text and not rule.required):
        return
    table = ", ".join(f"{c!r} ({label})" if label else repr(c) for c, label in codes.items())
    raise InvalidRequestError(
        api_id,
        rule.wire,
        f"({rule.label}) {_shown(rule, text)} is not one of its codes: {table}",
    )


def check(api_id: str, rule: FieldRule, value: object) -> str:
    """The wire text of one request value after every check of its rule (type, code, length)."""
    text = _wire_text(api_id, rule, value)
    if rule.required and not text:
        raise InvalidRequestError(api_id, rule.wire, f"({rule.label}) is required")
    _check_code(api_id, rule, text)
    if rule.max_length is not None and len(text) > rule.max_length:
        raise InvalidRequestError(
            api_id,
            rule.wire,
            f"({rule.label}) is {len(text)} characters, at most {rule.max_length} allowed:"
            f" {_shown(rule, text)}",
        )
    return text


class Request(msgspec.Struct, kw_only=True, omit_defaults=True, repr_omit_defaults=True):
    """Base of every request body. Values are checked and normalised to wire text on creation."""

    __api_id__: ClassVar[str] = ""
    __rules__: ClassVar[tuple[FieldRule, ...]] = ()

    def __post_init__(self) -> None:
        api_id = self.__api_id__
        for rule in self.__rules__:
            value = getattr(self, rule.attr)
            if value is None:
                if rule.required:
                    raise InvalidRequestError(api_id, rule.wire, f"({rule.label}) is required")
                continue
            if rule.kind == "list":
                continue
            text = check(api_id, rule, value)
            if text is not value:
                setattr(self, rule.attr, text)


class Response(msgspec.Struct, repr_omit_defaults=True):
    """Base of every typed response body."""

    __api_id__: ClassVar[str] = ""
    __kinds__: ClassVar[tuple[str, ...]] = ()
    """How each field (after return_code, return_msg) converts from the wire."""

    return_code: int | None = None
    """결과코드: 0 ok, 20 no data; see ``kiwoom.errors``."""
    return_msg: str | None = None
    """결과메시지"""


class Row(msgspec.Struct, repr_omit_defaults=True, gc=False):
    """Base of every typed row (an element of a response list) and real-time values object."""

    __kinds__: ClassVar[tuple[str, ...]] = ()
    """How each field converts from the wire: int, abs int, float/100, date, list, ..."""


class WireResponse(msgspec.Struct):
    """Base of every wire response: the body exactly as sent, every value a string."""

    return_code: int | str | None = None
    return_msg: str = ""


class WireRow(msgspec.Struct, gc=False):
    """Base of every wire row and wire real-time values object."""
