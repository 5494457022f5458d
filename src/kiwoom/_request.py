"""The request Struct of a ``call()`` dict, built as the typed methods build it.

``client.call("ka10081", {"stk_cd": ...})`` and ``client.chart.daily(stk_cd=...)`` construct
the same ``Ka10081Request`` with the same keyword arguments, so one set of checks
(``Request.__post_init__``) refuses a bad value on both roads with the same error.
``msgspec.convert`` is not used: it validates by its own rules and words its own messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import msgspec

from ._errors import InvalidRequestError
from ._model import Request

__all__ = ["request_from"]


class _Field(msgspec.Struct, frozen=True):
    attr: str
    label: str
    required: bool


@cache
def _fields(req_type: type[Request]) -> dict[str, _Field]:
    """Wire name -> (attribute, Korean label, required) of every field of a request type."""
    labels = {rule.attr: rule.label for rule in req_type.__rules__}
    return {
        f.encode_name: _Field(f.name, labels.get(f.name, f.encode_name), f.required)
        for f in msgspec.structs.fields(req_type)
    }


def _unknown(api_id: str, key: object, fields: Mapping[str, _Field]) -> InvalidRequestError:
    name = key if isinstance(key, str) else repr(key)
    if not fields:
        return InvalidRequestError(api_id, name, "not a field: this API takes no request fields")
    known = ", ".join(fields)
    import difflib  # only for a bad key's message: not at import

    nearest = difflib.get_close_matches(str(key), fields, n=1, cutoff=0.5)
    hint = f"did you mean {nearest[0]!r}? " if nearest else ""
    return InvalidRequestError(api_id, name, f"not a field of this API; {hint}(fields: {known})")


def request_from(
    api_id: str, req_type: type[Request], data: Mapping[str, Any] | msgspec.Struct | None
) -> Request:
    """The checked request of ``api_id`` from a dict of wire names (or a request, as is).

    Raises :class:`InvalidRequestError` naming the API id and the field: an unknown key
    (with the nearest known field), a missing required field, or a value the typed method
    would refuse too.
    """
    if data is None:
        data = {}
    if isinstance(data, req_type):
        return data
    if not isinstance(data, Mapping):
        raise InvalidRequestError(
            api_id,
            None,
            f"expects {req_type.__name__} or a dict of wire names, got {type(data).__name__}",
        )
    fields = _fields(req_type)
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        field = fields.get(key)
        if field is None:
            raise _unknown(api_id, key, fields)
        kwargs[field.attr] = value
    for wire, field in fields.items():
        if field.required and field.attr not in kwargs:
            raise InvalidRequestError(api_id, wire, f"({field.label}) is required")
    return req_type(**kwargs)
