"""What the sync and async clients share: configuration, the wire form of a call, and the
policy that turns each answer into a result, a retry or an error.

The loops themselves (one blocking, one async) live in ``_sync.py`` and ``_async.py``; they
differ only in how they send, sleep and lock.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any, cast

import httpx
import msgspec

from . import __version__, _extra, catalog
from ._auth import Credentials, FileTokenStore, Token, TokenStore, parse_token
from ._constants import (
    BACKOFF_BASE,
    BACKOFF_MAX,
    CONTENT_TYPE,
    ENV_REDIS_URL,
    ENV_TOKEN_FILE,
    MOCK,
    REAL,
)
from ._debug import debug_enabled, log_extra, log_request, log_response, logger, mask
from ._errors import DecodeError, InvalidRequestError, KiwoomError
from ._model import Request
from ._request import request_from
from .errors import (
    APIError,
    AuthError,
    HTTPStatusError,
    OrderOutcomeUnknownError,
    RateLimitError,
    RequestTimeoutError,
    TransportError,
    api_error,
)
from .ratelimit import LimiterFactory, RateLimiter, limits_for

__all__ = ["MOCK", "REAL", "RawResponse"]

_ENCODE = msgspec.json.Encoder().encode
_CONTENT_TYPE = CONTENT_TYPE.encode()
_USER_AGENT = f"kiwoom-python/{__version__}".encode()
_CONT_YES = b"Y"

# Errors that mean the request never left: safe to retry, even an order would be (we don't).
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Errors after (part of) the request was sent: the server may have acted on it. Any other
# failure of an order, past the ones that certainly sent nothing, is taken as one of these.
_MAYBE_SENT = (
    httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError, TimeoutError,
)  # fmt: skip
# Refused before anything is sent: our own request broke HTTP's rules (never retried).
_REFUSED = (httpx.LocalProtocolError, httpx.UnsupportedProtocol, httpx.ProxyError)

# What h11 (RFC 9110) lets through: a header name is a token; a value holds no control
# character but HTAB, and no space at either end. CR or LF would end the header line and let
# the rest be read as further headers or a whole second request.
_HEADER_NAME = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"  # compiled (and cached by re) on first use
_VALUE_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_CONTROL_NAMES = {"\r": "CR", "\n": "LF", "\x00": "NUL"}
# Headers that say which API is called, by whom, and where the body ends: the client's own.
_OWN_HEADERS = frozenset({"host", "api-id", "authorization", "content-length", "transfer-encoding"})

_LAST: ContextVar[RawResponse | None] = ContextVar("kiwoom_last_response", default=None)


class RawResponse:
    """One answer as received: status, headers, body, and the paging headers.

    ``elapsed`` is seconds from sending to the whole body read. ``decode()`` gives the typed
    response (as the generated methods return it); ``extra`` what the body carries beyond
    the catalogue.
    """

    __slots__ = (
        "_extra",
        "_typed",
        "api_id",
        "content",
        "elapsed",
        "entry",
        "headers",
        "status_code",
    )

    def __init__(
        self,
        entry: catalog.Entry,
        status_code: int,
        headers: httpx.Headers,
        content: bytes,
        elapsed: float,
    ) -> None:
        self.entry = entry
        self.api_id = entry.api_id
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.elapsed = elapsed
        self._typed: Any = None
        self._extra: dict[str, Any] | None = None

    @property
    def cont_yn(self) -> bool:
        """True when the server has another page (``cont-yn: Y``)."""
        return bool(self.headers.get("cont-yn") == "Y")

    @property
    def next_key(self) -> str | None:
        """The ``next-key`` header to ask for the next page, when there is one."""
        return self.headers.get("next-key") or None

    def decode(self) -> Any:
        """The typed response (``Ka10081Response`` for ka10081)."""
        if self._typed is None:
            self._typed = self.entry.decode(self.content)
        return self._typed

    @property
    def extra(self) -> dict[str, Any]:
        """The keys of the body the catalogue lacks, with their values as sent (``{}``: none).

        Shaped like the body: an unknown key appears with its whole value; in a known row
        list only the unknown keys, one dict per row, so ``extra["stk_min_pole_chart_qry"][i]
        ["acc_trde_qty"]`` belongs to typed row ``i``. Read from the body on first use.
        """
        if self._extra is None:
            self._extra = _extra.extra(self.content, self.entry.wire_type)
        return self._extra

    def __repr__(self) -> str:
        paging = f" next-key={self.next_key!r}" if self.cont_yn else ""
        return f"<RawResponse {self.api_id} {self.status_code} {len(self.content)} bytes{paging}>"


class Endpoint:
    """The prepared wire form of one API id on one host: URL and constant headers."""

    __slots__ = ("api_id", "entry", "group", "head", "is_order", "url", "url_text")

    def __init__(self, host: str, entry: catalog.Entry) -> None:
        self.entry = entry
        self.api_id = entry.api_id
        self.group = entry.group
        self.is_order = entry.is_order
        self.url_text = host + entry.path
        self.url = httpx.URL(self.url_text)
        netloc = self.url.netloc
        self.head: tuple[tuple[bytes, bytes], ...] = (
            (b"host", netloc),
            (b"api-id", entry.api_id.encode()),
            (b"content-type", _CONTENT_TYPE),
            (b"user-agent", _USER_AGENT),
        )


def _timeout(value: float | httpx.Timeout | None) -> dict[str, float | None]:
    t = value if isinstance(value, httpx.Timeout) else httpx.Timeout(value)
    return t.as_dict()


def _budget(timeouts: dict[str, float | None]) -> float | None:
    """Seconds one whole attempt may take: its longest single timeout (None: unbounded)."""
    values = [v for v in timeouts.values() if v is not None]
    return max(values) if values else None


def slot_hold(budget: float | None) -> float | None:
    """Seconds an attempt holds its rate-limit slot at most without an answer (None: the
    limiter's default): its budget, and a second for the answer to be reported."""
    return None if budget is None else budget + 1.0


def header_problem(value: str) -> str | None:
    """Why ``value`` cannot travel as an HTTP header value, or None when it can."""
    bad = _VALUE_CONTROL.search(value)
    if bad is not None:
        char = bad.group()
        name = _CONTROL_NAMES.get(char, f"control character {char!r}")
        return (
            f"holds {name} at index {bad.start()}: a header value cannot carry it (it could "
            "smuggle further headers or a second request)"
        )
    if value != value.strip(" \t"):
        return "starts or ends with white space, which HTTP drops from a header value"
    return None


def _checked_header(api_id: str, field: str, name: object, value: object) -> tuple[bytes, bytes]:
    """One header as bytes, or :class:`InvalidRequestError` naming it."""
    if not isinstance(name, str) or not re.fullmatch(_HEADER_NAME, name):
        raise InvalidRequestError(api_id, field, f"{name!r} is not a valid HTTP header name")
    if field == "headers" and name.lower() in _OWN_HEADERS:
        raise InvalidRequestError(api_id, field, f"header {name!r} is set by the client itself")
    if not isinstance(value, str):
        raise InvalidRequestError(
            api_id, field, f"header {name!r}: value must be a str, got {type(value).__name__}"
        )
    problem = header_problem(value)
    if problem is not None:
        raise InvalidRequestError(api_id, field, f"header {name!r} {problem}; nothing was sent")
    return name.encode(), value.encode()


class BaseClient:
    """Configuration and policy shared by :class:`Kiwoom` and :class:`AsyncKiwoom`."""

    _token: Token | None

    def __init__(
        self,
        appkey: str | None,
        secretkey: str | os.PathLike[str] | None,
        *,
        host: str,
        limiter: RateLimiter | LimiterFactory | bool,
        timeout: float | httpx.Timeout | None,
        retries: int,
        debug: bool | None,
        token_store: TokenStore | None = None,
    ) -> None:
        self._creds = Credentials(appkey, secretkey)
        self.host = host.rstrip("/")
        """Base URL every path is appended to (``REAL``, ``MOCK`` or any other)."""
        key = self._shared_key = f"{self._creds.fingerprint()}@{self.host}"
        redis_url = os.environ.get(ENV_REDIS_URL)
        if redis_url and (limiter is True or token_store is None):
            from .redis import from_env  # only then: redis is an optional extra

            redis_limiter, redis_tokens = from_env(redis_url)
            limiter = redis_limiter if limiter is True else limiter
            token_store = token_store or redis_tokens
        elif token_store is None and (token_file := os.environ.get(ENV_TOKEN_FILE)):
            token_store = FileTokenStore(token_file)
        if limiter is True:
            self.limiter: RateLimiter | None = RateLimiter.shared(key, limits_for(self.host))
        elif limiter is False:
            self.limiter = None
        elif isinstance(limiter, RateLimiter):
            self.limiter = limiter
        else:
            self.limiter = limiter.bind(key, limits_for(self.host))
        self.token_store = token_store
        """Where the processes of this app key and host share one token (``None``: not shared)."""
        self._timeout = _timeout(timeout)
        self._budget = _budget(self._timeout)
        self.retries = max(0, retries)
        """Extra attempts of a query after the first; orders are never retried."""
        self.debug = debug_enabled(debug)
        self._token = None
        self._rejected: str | None = None  # the value of the last token the server refused
        self._endpoints: dict[str, Endpoint] = {}
        self._issue_ep = self._make_endpoint("au10001")
        self._revoke_ep = self._make_endpoint("au10002")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} host={self.host!r} appkey=<hidden>>"

    __str__ = __repr__

    @property
    def last_response(self) -> RawResponse | None:
        """The raw answer of the last call made in this thread or asyncio task (any client).

        Carries the paging headers (``cont_yn``, ``next_key``) that the typed responses of
        the generated methods do not.
        """
        return _LAST.get()

    # --- the wire form -------------------------------------------------------------------

    def _make_endpoint(self, api_id: str) -> Endpoint:
        try:
            entry = catalog.get(api_id)
        except KeyError:
            raise InvalidRequestError(api_id, None, "not in the Kiwoom catalogue") from None
        if entry.kind != "rest":
            raise InvalidRequestError(
                api_id, None, f"is a {entry.kind} entry: it travels over the WebSocket"
            )
        ep = self._endpoints[api_id] = Endpoint(self.host, entry)
        return ep

    def _endpoint(self, api_id: str) -> Endpoint:
        return self._endpoints.get(api_id) or self._make_endpoint(api_id)

    def _build(
        self,
        ep: Endpoint,
        content: bytes,
        token: Token | None,
        next_key: str | None,
        timeout: float | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Request:
        head = [*ep.head, (b"content-length", str(len(content)).encode())]
        if token is not None:
            head.append((b"authorization", token.authorization))
        if next_key:
            head.append((b"cont-yn", _CONT_YES))
            head.append(_checked_header(ep.api_id, "next_key", "next-key", next_key))
        if headers:
            head.extend(_checked_header(ep.api_id, "headers", k, v) for k, v in headers.items())
        if self.debug:
            log_request(
                ep.api_id, ep.url_text, [(k.decode(), v.decode()) for k, v in head], content,
                self._secrets(),
            )  # fmt: skip
        return httpx.Request(
            "POST",
            ep.url,
            headers=head,
            stream=httpx.ByteStream(content),
            extensions={"timeout": self._timeout if timeout is None else _timeout(timeout)},
        )

    def _attempt_budget(self, timeout: float | None) -> float | None:
        """Seconds one attempt may take in all, for a per-call ``timeout`` or the client's."""
        return self._budget if timeout is None else timeout

    def _parse_token(self, raw: RawResponse) -> Token:
        """The token of an au10001 answer: one that cannot travel in a header is a bad answer."""
        token = parse_token(raw.content, raw.status_code)
        problem = header_problem(token.value)
        if problem is not None:
            reason = f"the issued token {problem}; it is not used"
            raise AuthError("au10001", None, reason, raw.status_code)
        return token

    def _secrets(self) -> tuple[str, ...]:
        token = self._token.value if self._token is not None else ""
        return (self._creds.appkey, self._creds.secretkey, token)

    def _request_body(
        self, ep: Endpoint, request: Mapping[str, Any] | msgspec.Struct | None
    ) -> Request:
        """The request Struct the typed method would build from the same values."""
        return request_from(ep.api_id, cast(type[Request], ep.entry.request_type), request)

    # --- the policy ----------------------------------------------------------------------

    def _outcome(self, ep: Endpoint, raw: RawResponse, body: object) -> Any:
        """The typed response of a successful answer, or the :class:`KiwoomError` it means."""
        if self.debug:
            log_response(
                ep.api_id, raw.status_code, raw.elapsed * 1e3, raw.headers.get("cont-yn"),
                raw.headers.get("next-key"), raw.content, self._secrets(),
            )  # fmt: skip
        status = raw.status_code
        try:
            resp = ep.entry.decode(raw.content)
        except DecodeError as exc:
            return self._undecodable(ep, raw, body, exc)
        except Exception as exc:  # msgspec's UnicodeDecodeError for a body not UTF-8, or worse
            return self._undecodable(ep, raw, body, _decode_failure(ep, raw, exc))
        rc = resp.return_code
        if rc is None and ep.is_order:
            # Kiwoom always states its verdict on an order; an answer without one is not its.
            if status != 200:
                return self._not_kiwoom(ep, status, body, "")
            return OrderOutcomeUnknownError(ep.api_id, body, "the answer carries no return_code")
        if status == 200 and (rc == 0 or rc == 20 or rc is None):
            raw._typed = resp
            _LAST.set(raw)
            self._unknown_keys(ep, raw, resp)
            return resp
        if rc == 0 or rc is None:
            return self._not_kiwoom(ep, status, body, "")
        return api_error(ep.api_id, rc, mask(resp.return_msg or "", self._secrets()), status)

    def _unknown_keys(self, ep: Endpoint, raw: RawResponse, resp: Any) -> None:
        """Say what the typed response lost: a warning when a row list the catalogue expects is
        absent while the body carries a list the catalogue lacks (a renamed list must not
        read as no data), and in debug mode how many unknown keys the body holds."""
        wire_type = ep.entry.wire_type
        absent = _extra.absent_lists(resp, raw.content)
        if absent:
            found = _extra.unknown_lists(raw.extra, wire_type)
            if found:
                logger.warning(
                    "%s: the response lacks the catalogue's row list %s but carries %s, not in"
                    " the catalogue: its rows are in RawResponse.extra (client.last_response)",
                    ep.api_id, " / ".join(map(repr, absent)), " / ".join(map(repr, found)),
                )  # fmt: skip
        if self.debug and raw.extra:
            log_extra(ep.api_id, _extra.paths(raw.extra, _extra.shape(wire_type)))

    def _undecodable(
        self, ep: Endpoint, raw: RawResponse, body: object, exc: DecodeError
    ) -> KiwoomError:
        """The error an answer means whose body does not decode into the typed response."""
        status = raw.status_code
        try:
            wire = ep.entry.decode_wire(raw.content)
        except Exception:  # DecodeError, or UnicodeDecodeError for a body not UTF-8
            if status == 200:
                return self._unknown(ep, body, exc) if ep.is_order else exc
            preview = mask(raw.content[:200].decode("utf-8", "replace"), self._secrets())
            return self._not_kiwoom(ep, status, body, preview)
        rc = wire.return_code
        if rc.__class__ is str:  # documented as a number; tolerate it quoted
            rc = int(rc) if rc.strip().lstrip("-").isdigit() else None
        if rc == 0 or rc == 20 or rc is None:
            # A success (or a bare error page) whose values do not fit their types.
            if status != 200:
                return self._not_kiwoom(ep, status, body, "")
            return self._unknown(ep, body, exc) if ep.is_order else exc
        return api_error(ep.api_id, rc, mask(wire.return_msg, self._secrets()), status)

    def _not_kiwoom(self, ep: Endpoint, status: int, body: object, preview: str) -> KiwoomError:
        """An answer without Kiwoom's verdict: for an order, only a 4xx says nothing was done."""
        if ep.is_order and not 400 <= status < 500:
            return OrderOutcomeUnknownError(
                ep.api_id, body, f"HTTP {status} without Kiwoom's answer {preview[:80]!r}"
            )
        return HTTPStatusError(ep.api_id, status, preview)

    def _unknown(self, ep: Endpoint, body: object, exc: KiwoomError) -> OrderOutcomeUnknownError:
        reason = f"the answer is unreadable: {mask(str(exc), self._secrets())}"
        return OrderOutcomeUnknownError(ep.api_id, body, reason)

    def _backoff(self, attempt: int) -> float:
        """Exponential back-off with full jitter: a random wait in [0, base * 2**attempt]."""
        return random.uniform(0.0, min(BACKOFF_MAX, BACKOFF_BASE * 2**attempt))

    def _retry_wait(
        self, ep: Endpoint, err: KiwoomError, attempt: int, cooled: float | None = None
    ) -> float | None:
        """Seconds to wait before another attempt after ``err``, or None to raise it.

        Rate-limit rejections teach the limiter (orders too) and wait what it says (``cooled``:
        what it said already, on the async road); HTTP 5xx waits a jittered back-off. Orders
        are never retried.
        """
        if isinstance(err, RateLimitError):
            if cooled is not None:
                wait = cooled
            elif self.limiter is not None:
                wait = self.limiter.on_rejected(
                    ep.api_id, err.return_msg, group=ep.group, is_order=ep.is_order
                )
            else:
                wait = self._backoff(attempt)
        elif isinstance(err, HTTPStatusError | APIError) and err.status_code >= 500:
            wait = self._backoff(attempt)
        else:
            return None
        if ep.is_order or attempt >= self.retries:
            return None
        return wait

    def _transport_error(
        self, ep: Endpoint, body: object, exc: Exception, attempt: int
    ) -> tuple[KiwoomError, float | None]:
        """The error a failed exchange means (no whole answer came back: a network, protocol
        or body-decoding failure), and the wait before retrying it (None: raise)."""
        reason = f"{type(exc).__name__}: {mask(str(exc), self._secrets())}".rstrip(": ")
        if ep.is_order and not isinstance(exc, (*_NOT_SENT, *_REFUSED)):
            return OrderOutcomeUnknownError(ep.api_id, body, reason), None
        err: KiwoomError
        if isinstance(exc, httpx.TimeoutException | TimeoutError):
            err = RequestTimeoutError(ep.api_id, reason)
        else:
            err = TransportError(ep.api_id, reason)
        retryable = isinstance(exc, (*_NOT_SENT, *_MAYBE_SENT))
        if ep.is_order or not retryable or attempt >= self.retries:
            return err, None
        return err, self._backoff(attempt)


def _decode_failure(ep: Endpoint, raw: RawResponse, exc: Exception) -> DecodeError:
    """The :class:`DecodeError` for a failure of decoding that is not one already."""
    if isinstance(exc, UnicodeDecodeError):
        # Only the offending bytes: the text around them may be a token (au10001).
        reason = f"the answer is not UTF-8 ({exc.reason} at byte {exc.start})"
        return DecodeError(ep.api_id, None, raw.content[exc.start : exc.end], reason)
    return DecodeError(ep.api_id, None, None, f"{type(exc).__name__} decoding the answer")
