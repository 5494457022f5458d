"""Base classes of the generated models, and the checks every request runs before sending."""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, ClassVar, NamedTuple, TypeAlias

import msgspec

from ._errors import InvalidRequestError

__all__ = [
    "DateText",
    "DateTimeText",
    "FieldRule",
    "Request",
    "Response",
    "Row",
    "TimeText",
    "WireResponse",
    "WireRow",
]

# A request date, time or timestamp may be given as a ``datetime`` object or as wire text
# (``"20250908"``). msgspec allows one text-like type per union, so at run time (where it
# reads the annotations to decode dicts) these are plain ``str``; type checkers see both.
if TYPE_CHECKING:
    DateText: TypeAlias = _dt.date | str
    TimeText: TypeAlias = _dt.time | str
    DateTimeText: TypeAlias = _dt.datetime | str
else:
    DateText = TimeText = DateTimeText = str

# Request fields whose values are secrets: never echoed in an error message.
_SECRET_FIELDS = frozenset({"appkey", "secretkey", "token"})


class FieldRule(NamedTuple):
    """What a request checks of one field before it is sent."""

    attr: str
    wire: str
    label: str
    required: bool
    max_length: int | None
    kind: str  # "str" | "int" | "decimal" | "date" | "time" | "datetime" | "list"


def _shown(rule: FieldRule, value: object) -> str:
    return "<hidden>" if rule.wire in _SECRET_FIELDS else repr(value)


def _wire_text(api_id: str, rule: FieldRule, value: object) -> str:
    """The wire string of one request value, or an error naming the field."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise InvalidRequestError(api_id, rule.wire, f"({rule.label}) expects text, got a bool")
    if isinstance(value, _dt.datetime):
        return value.strftime("%Y%m%d" if rule.kind == "date" else "%Y%m%d%H%M%S")
    if isinstance(value, _dt.date) and rule.kind in ("date", "str"):
        return value.strftime("%Y%m%d")
    if isinstance(value, _dt.time) and rule.kind in ("time", "str"):
        return value.strftime("%H%M%S")
    # Never a number into a text field: 5930 is not the stock code "005930".
    if isinstance(value, int) and rule.kind in ("int", "decimal"):
        return str(value)
    if isinstance(value, float) and rule.kind == "decimal":
        return repr(value)
    raise InvalidRequestError(
        api_id,
        rule.wire,
        f"({rule.label}) expects {rule.kind}, got {type(value).__name__} {_shown(rule, value)}",
    )


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
            text = _wire_text(api_id, rule, value)
            if text is not value:
                setattr(self, rule.attr, text)
            if rule.required and not text:
                raise InvalidRequestError(api_id, rule.wire, f"({rule.label}) is required")
            if rule.max_length is not None and len(text) > rule.max_length:
                raise InvalidRequestError(
                    api_id,
                    rule.wire,
                    f"({rule.label}) is {len(text)} characters, at most {rule.max_length} allowed:"
                    f" {_shown(rule, text)}",
                )


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
