"""The error tree. Every error the SDK raises is a :class:`KiwoomError`."""

from __future__ import annotations

__all__ = ["DecodeError", "InvalidRequestError", "KiwoomError"]


class KiwoomError(Exception):
    """Base of every error raised by the SDK."""


class InvalidRequestError(KiwoomError, ValueError):
    """A request failed validation before anything was sent.

    ``api_id`` and ``field`` (the wire name) say where; the message says why.
    """

    def __init__(self, api_id: str, field: str | None, reason: str) -> None:
        self.api_id = api_id
        self.field = field
        where = f"{api_id}: field {field!r}" if field else api_id
        super().__init__(f"{where}: {reason}")


class DecodeError(KiwoomError, ValueError):
    """A response or real-time message did not decode into its typed model.

    ``api_id`` is the API id or real-time type, ``field`` the wire path of the value
    (``stk_dt_pole_chart_qry[3].cur_prc``) and ``value`` the offending wire value.
    """

    def __init__(self, api_id: str, field: str | None, value: object, reason: str) -> None:
        self.api_id = api_id
        self.field = field
        self.value = value
        where = f"{api_id}: field {field!r}" if field else api_id
        super().__init__(f"{where}: {reason} (got {value!r})")
