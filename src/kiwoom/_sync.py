"""``kiwoom.Kiwoom``: the blocking client."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from time import monotonic, perf_counter
from types import TracebackType
from typing import Any, ParamSpec, TypeVar, overload

import httpx
import msgspec

from ._auth import Token, TokenStore, shared_token
from ._client import _ENCODE, BaseClient, Endpoint, RawResponse, slot_hold
from ._constants import DEFAULT_RETRIES, DEFAULT_TIMEOUT, REAL
from ._debug import logger
from ._generated._clients import ClientGroups
from ._http import answer_body, deadline, default_transport, has_stray_bytes
from ._model import Request
from ._paging import Pages
from .errors import APIError, KiwoomError
from .ratelimit import LimiterFactory, RateLimiter

__all__ = ["Kiwoom"]

P = ParamSpec("P")
R = TypeVar("R")


class Kiwoom(ClientGroups, BaseClient):
    """The Kiwoom REST API, blocking. Safe to share between threads.

    >>> with kiwoom.Kiwoom(appkey, secretkey, host=kiwoom.MOCK) as client:
    ...     chart = client.chart.daily(stk_cd="005930", base_dt="20250908", upd_stkpc_tp="1")

    ``appkey``/``secretkey`` default to ``KIWOOM_APPKEY``/``KIWOOM_SECRETKEY``; the secret key
    may be the path of a file holding it. ``host`` is ``REAL``, ``MOCK`` or any base URL (a
    simulator, a proxy: it gets the real server's rate limits). ``limiter`` is ``True`` (the
    process-wide limiter of this app key and host), ``False`` (none), a ``RateLimiter``, or
    ``kiwoom.redis.RedisLimiter(url)`` (shared by every process of the key, on any host).
    ``token_store`` (``kiwoom.FileTokenStore(path)``, ``kiwoom.redis.RedisTokenStore(url)``)
    shares one token among those processes; ``KIWOOM_REDIS_URL`` sets both, and without it
    ``KIWOOM_TOKEN_FILE`` (a path) gives every client ``FileTokenStore(path)``.
    ``retries`` extra attempts for queries (never for orders); ``timeout`` seconds per attempt
    in all (with a ``transport`` of your own: per network operation, as httpx counts them);
    ``debug`` (or ``KIWOOM_DEBUG=1``) logs every exchange to the ``kiwoom`` logger, secrets
    masked (to stderr when no logging handler is configured); ``transport`` an
    ``httpx.BaseTransport`` (tests, proxies).

    The token is issued on the first call, re-issued shortly before it expires or once when
    the server rejects it (8005), and revoked by :meth:`close` (``with`` closes) unless it is
    shared through a ``token_store``.
    """

    def __init__(
        self,
        appkey: str | None = None,
        secretkey: str | os.PathLike[str] | None = None,
        *,
        host: str = REAL,
        limiter: RateLimiter | LimiterFactory | bool = True,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        debug: bool | None = None,
        token_store: TokenStore | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            appkey, secretkey, host=host, limiter=limiter, timeout=timeout, retries=retries,
            debug=debug, token_store=token_store,
        )  # fmt: skip
        self._transport = transport or default_transport(self.host)
        self._token_lock = threading.Lock()
        self._sleep: Callable[[float], None] = time.sleep
        self._closed = False

    # --- public calls --------------------------------------------------------------------

    def call(
        self,
        api_id: str,
        request: Mapping[str, Any] | msgspec.Struct | None = None,
        *,
        next_key: str | None = None,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Call any REST API by id with a request (or a dict of wire names); typed response."""
        ep = self._endpoint(api_id)
        body = self._request_body(ep, request)
        return self._exchange(ep, body, _ENCODE(body), next_key, timeout, headers)

    def call_raw(
        self,
        api_id: str,
        request: Mapping[str, Any] | msgspec.Struct | None = None,
        *,
        next_key: str | None = None,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> RawResponse:
        """Like :meth:`call`, returning the :class:`RawResponse` (headers, body, paging)."""
        ep = self._endpoint(api_id)
        body = self._request_body(ep, request)
        self._exchange(ep, body, _ENCODE(body), next_key, timeout, headers)
        raw = self.last_response
        assert raw is not None
        return raw

    @overload
    def pages(self, method: str, /, request: Any = ...) -> Pages[Any]: ...
    @overload
    def pages(self, method: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> Pages[R]: ...
    def pages(self, method: Any, /, *args: Any, **kwargs: Any) -> Pages[Any]:
        """Every page of a paging call, following ``cont-yn``/``next-key``.

        ``client.pages(client.chart.daily, stk_cd="005930", base_dt=..., upd_stkpc_tp="1")``
        or ``client.pages("ka10081", request)``. Chain ``.until(predicate)`` to stop after
        the first page the predicate accepts, ``.collect()`` for one response holding every row.
        """
        if isinstance(method, str):
            api_id, request = method, (args[0] if args else kwargs.get("request"))

            def fetch(key: str | None) -> tuple[Any, RawResponse | None]:
                return self.call(api_id, request, next_key=key), self.last_response
        else:

            def fetch(key: str | None) -> tuple[Any, RawResponse | None]:
                return method(*args, next_key=key, **kwargs), self.last_response

        return Pages(fetch)

    def close(self) -> None:
        """Revoke the token (au10002) if one was issued, and close the connections."""
        if self._closed:
            return
        self._closed = True
        try:
            # A shared token serves other processes still: it is left to expire.
            if self._token is not None and self.token_store is None:
                self._revoke(self._token)
        finally:
            self._token = None
            self._transport.close()

    def __enter__(self) -> Kiwoom:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- the request loop ----------------------------------------------------------------

    def _request(
        self,
        api_id: str,
        body: Request,
        response_type: type[R],
        next_key: str | None,
        timeout: float | None,
        headers: Mapping[str, str] | None,
    ) -> R:
        ep = self._endpoints.get(api_id) or self._make_endpoint(api_id)
        result: R = self._exchange(ep, body, _ENCODE(body), next_key, timeout, headers)
        return result

    def _exchange(
        self,
        ep: Endpoint,
        body: object,
        content: bytes,
        next_key: str | None,
        timeout: float | None,
        headers: Mapping[str, str] | None,
        authed: bool = True,
    ) -> Any:
        """Send until an answer is final; return its typed response or raise its error."""
        attempt = 0
        refreshed = False
        limiter = self.limiter if authed else None
        while True:
            token = self._valid_token() if authed else None
            request = self._build(ep, content, token, next_key, timeout, headers)
            budget = self._attempt_budget(timeout)
            permit = None
            if limiter is not None:
                permit = limiter.begin(
                    ep.api_id, group=ep.group, is_order=ep.is_order, hold=slot_hold(budget)
                )
            started = perf_counter()
            ends = deadline.set(None if budget is None else monotonic() + budget)
            try:
                response = self._transport.handle_request(request)
                try:
                    data = answer_body(response)
                    if has_stray_bytes(response):
                        # Never let them be read as the next request's answer.
                        response.extensions["network_stream"].close()
                finally:
                    response.close()
            except Exception as exc:  # no whole answer: classified, never raised bare
                if limiter is not None and permit is not None:
                    # The exchange ended now, not after the back-off below.
                    limiter.finish(permit)
                    permit = None
                err, wait = self._transport_error(ep, body, exc, attempt)
                if wait is None:
                    raise err from exc
                self._sleep(wait)
                attempt += 1
                continue
            finally:
                deadline.reset(ends)
                if limiter is not None and permit is not None:
                    limiter.finish(permit)
            raw = RawResponse(
                ep.entry, response.status_code, response.headers, data, perf_counter() - started
            )
            outcome = self._outcome(ep, raw, body)
            if not isinstance(outcome, KiwoomError):
                return outcome
            if authed and not refreshed and isinstance(outcome, APIError) and outcome.code == 8005:
                # The server refused the token before acting on the call: resending is safe,
                # for orders too. Once only, so a persistent 8005 cannot loop.
                refreshed = True
                self._drop_token(token)
                continue
            wait = self._retry_wait(ep, outcome, attempt)
            if wait is None:
                raise outcome
            self._sleep(wait)
            attempt += 1

    # --- the token -----------------------------------------------------------------------

    def _valid_token(self) -> Token:
        token = self._token
        if token is not None and time.time() < token.refresh_at:
            return token
        with self._token_lock:
            token = self._token
            if token is None or not token.fresh():
                token = self._token = self._fresh_token()
            return token

    def _drop_token(self, used: Token | None) -> None:
        with self._token_lock:
            if self._token is used:
                self._token = None
                self._rejected = used.value if used is not None else None

    def _fresh_token(self) -> Token:
        if self.token_store is None:
            return self._issue()
        return shared_token(self.token_store, self._shared_key, self._issue, self._rejected)

    def _issue(self) -> Token:
        ep = self._issue_ep
        self._exchange(ep, None, self._creds.issue_body(), None, None, None, authed=False)
        raw = self.last_response
        assert raw is not None
        return self._parse_token(raw)

    def _revoke(self, token: Token) -> None:
        ep = self._revoke_ep
        try:
            self._exchange(
                ep, None, self._creds.revoke_body(token.value), None, None, None, authed=False
            )
        except KiwoomError as exc:
            # The token may have expired already; closing must not fail on it.
            logger.debug("au10002: token not revoked: %s", exc)
