"""The error tree. Every error the SDK raises is a :class:`KiwoomError`.

::

    KiwoomError
    ├── InvalidRequestError      a request failed validation before anything was sent
    ├── DecodeError              a response did not decode into its typed model
    ├── TransportError           no HTTP response: connection refused, reset, TLS, ...
    │   └── RequestTimeoutError  an attempt timed out
    ├── OrderOutcomeUnknownError an order was sent and its answer was lost: it may have been placed
    ├── HTTPStatusError          an HTTP error status without a Kiwoom error body
    └── APIError                 Kiwoom answered ``return_code != 0``
        ├── RateLimitError       1687, 1700, 1701, 1702 (or HTTP 429)
        ├── AuthError            8001..8103: keys, token (8005: expired, refreshed automatically)
        ├── InputError           15xx: the server rejected an input
        ├── NotFoundError        19xx: unknown stock code
        ├── UnsupportedError     8104, 8200: not served on this server / to this customer
        ├── ServerError          1999
        └── NoDataError          ``return_code`` 20
Calls never raise :class:`NoDataError`: Kiwoom's ``return_code`` 20 ("no data") is an
ordinary, empty response (its list fields are ``[]``) and ends paging cleanly. The class
exists for code that wants to turn an empty answer into an error (``raise NoDataError(...)``).

Messages name the API id and quote Kiwoom's ``return_msg``; they never carry a key or token.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from ._errors import DecodeError, InvalidRequestError, KiwoomError

__all__ = [
    "APIError",
    "AuthError",
    "DecodeError",
    "HTTPStatusError",
    "InputError",
    "InvalidRequestError",
    "KiwoomError",
    "NoDataError",
    "NotFoundError",
    "OrderOutcomeUnknownError",
    "RateLimitError",
    "RequestTimeoutError",
    "ServerError",
    "TransportError",
    "UnsupportedError",
]


class TransportError(KiwoomError):
    """No HTTP response was received (connection refused or reset, DNS, TLS, ...).

    ``api_id`` names the call; ``__cause__`` is the httpx exception.
    """

    def __init__(self, api_id: str, reason: str) -> None:
        self.api_id = api_id
        super().__init__(f"{api_id}: {reason}")


class RequestTimeoutError(TransportError, TimeoutError):
    """An attempt timed out (connect, write, read or pool wait)."""


class OrderOutcomeUnknownError(KiwoomError):
    """An order was sent, and its answer was lost (read timeout, connection dropped).

    The order may or may not have been placed. It is never retried automatically: check the
    unfilled orders (``client.account.open_orders``, ka10075) or executions before sending it
    again. ``request`` is the request body that was sent, ``api_id`` its API id.
    """

    def __init__(self, api_id: str, request: object, reason: str) -> None:
        self.api_id = api_id
        self.request = request
        super().__init__(
            f"{api_id}: the order may or may not have been placed ({reason}); check the "
            "unfilled orders (ka10075) and executions before sending it again"
        )


class HTTPStatusError(KiwoomError):
    """An HTTP error status whose body is not a Kiwoom answer (a proxy page, a 502, ...)."""

    def __init__(self, api_id: str, status_code: int, body: str) -> None:
        self.api_id = api_id
        self.status_code = status_code
        self.body = body
        super().__init__(f"{api_id}: HTTP {status_code}: {body}")


# Compiled on first use (re caches them): only an error reads a message.
_MESSAGE_CODE = r"\[(\d{3,5})\s*:"
_ALLOWANCE = r"유량\s*=\s*(\d+(?:\.\d+)?)"


class APIError(KiwoomError):
    """Kiwoom answered with ``return_code != 0``.

    ``return_code`` and ``return_msg`` are Kiwoom's, ``code`` the message code parsed from
    ``[NNNN:...]`` in ``return_msg`` (``None`` when absent), ``kind`` its class in the official
    error table (``input``, ``auth``, ``rate_limit``, ``not_found``, ``unsupported``,
    ``server``; ``None`` when unknown), ``status_code`` the HTTP status.
    """

    def __init__(
        self,
        api_id: str,
        return_code: int | None,
        return_msg: str,
        status_code: int = 200,
    ) -> None:
        self.api_id = api_id
        self.return_code = return_code
        self.return_msg = return_msg
        self.status_code = status_code
        self.code = message_code(return_msg)
        self.kind = error_kinds().get(self.code) if self.code is not None else None
        status = "" if status_code == 200 else f", HTTP {status_code}"
        super().__init__(f"{api_id}: return_code {return_code}{status}: {return_msg}")


class RateLimitError(APIError):
    """Kiwoom rejected the call for its rate (1700 per API id, 1701 total, 1702 per group).

    ``allowance`` is the rate the message states (``유량=1``), when it states one.
    Queries are retried after a back-off before this is raised.
    """

    @property
    def allowance(self) -> float | None:
        match = re.search(_ALLOWANCE, self.return_msg)
        return float(match.group(1)) if match else None


class AuthError(APIError):
    """Keys rejected, or the token invalid (8005: refreshed once automatically before this)."""


class InputError(APIError):
    """The server rejected an input (15xx). :class:`InvalidRequestError` is the local check."""


class NotFoundError(APIError):
    """Unknown stock code (19xx)."""


class UnsupportedError(APIError):
    """The API is not served here (8104: not on the mock-trading server; 8200)."""


class ServerError(APIError):
    """Kiwoom reported an unexpected server error (1999)."""


class NoDataError(APIError):
    """``return_code`` 20: no data. Calls return an empty response instead of raising this."""


_KIND_CLASSES: dict[str, type[APIError]] = {
    "rate_limit": RateLimitError,
    "auth": AuthError,
    "input": InputError,
    "not_found": NotFoundError,
    "unsupported": UnsupportedError,
    "server": ServerError,
}


def message_code(return_msg: str) -> int | None:
    """The message code in ``[8005:...]``, or ``None``."""
    match = re.search(_MESSAGE_CODE, return_msg)
    return int(match.group(1)) if match else None


@cache
def error_kinds() -> dict[int, str]:
    """Message code -> kind, from the official error table (``spec/errors.yaml``)."""
    from ._generated._registry import ERRORS

    return {code: kind for code, kind, _summary in ERRORS}


def api_error(api_id: str, return_code: Any, return_msg: str, status_code: int) -> APIError:
    """The :class:`APIError` subclass for one rejected answer."""
    rc = return_code if isinstance(return_code, int) else _int_or_none(return_code)
    if rc == 20:
        return NoDataError(api_id, rc, return_msg, status_code)
    code = message_code(return_msg)
    kind = error_kinds().get(code) if code is not None else None
    cls = _KIND_CLASSES.get(kind, APIError) if kind else APIError
    if cls is APIError and status_code == 429:
        cls = RateLimitError
    return cls(api_id, rc, return_msg, status_code)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
