"""``kiwoom.AsyncKiwoom``: the asyncio client."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from time import perf_counter
from types import TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

import httpx
import msgspec

from ._auth import Token, TokenStore, shared_token_async
from ._client import _ENCODE, BaseClient, Endpoint, RawResponse, slot_hold
from ._constants import DEFAULT_RETRIES, DEFAULT_TIMEOUT, REAL, websocket_url
from ._debug import logger
from ._generated._clients import AsyncClientGroups
from ._http import answer_body_async, default_async_transport, has_stray_bytes
from ._model import Request
from ._paging import AsyncPages
from .errors import APIError, KiwoomError, RateLimitError
from .ratelimit import LimiterFactory, RateLimiter

if TYPE_CHECKING:
    from ._realtime import Realtime

__all__ = ["AsyncKiwoom"]

P = ParamSpec("P")
R = TypeVar("R")


class AsyncKiwoom(AsyncClientGroups, BaseClient):
    """The Kiwoom REST API for asyncio: the methods of :class:`Kiwoom`, awaitable.

    >>> async with kiwoom.AsyncKiwoom(appkey, secretkey, host=kiwoom.MOCK) as client:
    ...     chart = await client.chart.daily(stk_cd="005930", base_dt="20250908", upd_stkpc_tp="1")

    Arguments as for :class:`Kiwoom`; ``transport`` is an ``httpx.AsyncBaseTransport``.
    Runs on asyncio. Concurrent calls share one token: when it expires, one task re-issues
    it for all.
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
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            appkey, secretkey, host=host, limiter=limiter, timeout=timeout, retries=retries,
            debug=debug, token_store=token_store,
        )  # fmt: skip
        self._transport = transport or default_async_transport(self.host)
        self._own_transport = transport is None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._token_lock = asyncio.Lock()
        self._sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self._closed = False

    # --- public calls --------------------------------------------------------------------

    async def call(
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
        return await self._exchange(ep, body, _ENCODE(body), next_key, timeout, headers)

    async def call_raw(
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
        await self._exchange(ep, body, _ENCODE(body), next_key, timeout, headers)
        raw = self.last_response
        assert raw is not None
        return raw

    @overload
    def pages(self, method: str, /, request: Any = ...) -> AsyncPages[Any]: ...
    @overload
    def pages(
        self, method: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs
    ) -> AsyncPages[R]: ...
    def pages(self, method: Any, /, *args: Any, **kwargs: Any) -> AsyncPages[Any]:
        """Every page of a paging call: ``async for page in client.pages(...)``.

        As :meth:`Kiwoom.pages`; ``await client.pages(...).collect()`` merges the rows.
        """
        if isinstance(method, str):
            api_id, request = method, (args[0] if args else kwargs.get("request"))

            async def fetch(key: str | None) -> tuple[Any, RawResponse | None]:
                return await self.call(api_id, request, next_key=key), self.last_response
        else:

            async def fetch(key: str | None) -> tuple[Any, RawResponse | None]:
                return await method(*args, next_key=key, **kwargs), self.last_response

        return AsyncPages(fetch)

    def realtime(self, region: str = "domestic", **options: Any) -> Realtime:
        """Kiwoom's real-time socket for this client's host, logged in with its token.

        ``region`` is ``"domestic"`` or ``"us"``. The socket asks this client for the current
        token at every login and for a fresh one when a login is rejected; ``options`` are
        :class:`kiwoom.Realtime`'s (``url``, ``on_reconnect``, ``watchdog``, ``queue_size``...).
        Use it as ``async with client.realtime() as rt:``.
        """
        from ._realtime import Realtime

        async def token() -> str:
            return (await self._valid_token()).value

        async def refresh() -> str:
            self._drop_token(self._token)
            return await token()

        options.setdefault("url", websocket_url(self.host, region))
        return Realtime(token, refresh_token=refresh, **options)

    async def aclose(self) -> None:
        """Revoke the token (au10002) if one was issued, and close the connections."""
        if self._closed:
            return
        self._closed = True
        try:
            # A shared token serves other processes still: it is left to expire.
            if self._token is not None and self.token_store is None:
                await self._revoke(self._token)
        finally:
            self._token = None
            await self._transport.aclose()
            # A shared limiter's or token store's connections of this loop (kiwoom.redis).
            if self.limiter is not None:
                await self.limiter.release_async()
            release = getattr(self.token_store, "release_async", None)
            if release is not None:
                await release()

    async def __aenter__(self) -> AsyncKiwoom:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --- the request loop ----------------------------------------------------------------

    async def _request(
        self,
        api_id: str,
        body: Request,
        response_type: type[R],
        next_key: str | None,
        timeout: float | None,
        headers: Mapping[str, str] | None,
    ) -> R:
        ep = self._endpoints.get(api_id) or self._make_endpoint(api_id)
        result: R = await self._exchange(ep, body, _ENCODE(body), next_key, timeout, headers)
        return result

    async def _exchange(
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
            token = await self._valid_token() if authed else None
            request = self._build(ep, content, token, next_key, timeout, headers)
            self._follow_loop()
            budget = self._attempt_budget(timeout)
            permit = None
            if limiter is not None:
                permit = await limiter.begin_async(
                    ep.api_id, group=ep.group, is_order=ep.is_order, hold=slot_hold(budget)
                )
            started = perf_counter()
            try:
                async with asyncio.timeout(budget):
                    response = await self._transport.handle_async_request(request)
                    try:
                        data = await answer_body_async(response)
                        if has_stray_bytes(response):
                            # Never let them be read as the next request's answer.
                            await response.extensions["network_stream"].aclose()
                    finally:
                        await response.aclose()
            except Exception as exc:  # no whole answer: classified, never raised bare
                if limiter is not None and permit is not None:
                    # The exchange ended now, not after the back-off below.
                    await limiter.finish_async(permit)
                    permit = None
                err, wait = self._transport_error(ep, body, exc, attempt)
                if wait is None:
                    raise err from exc
                await self._sleep(wait)
                attempt += 1
                continue
            finally:
                if limiter is not None and permit is not None:
                    await limiter.finish_async(permit)
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
            cooled = None
            if self.limiter is not None and isinstance(outcome, RateLimitError):
                cooled = await self.limiter.on_rejected_async(
                    ep.api_id, outcome.return_msg, group=ep.group, is_order=ep.is_order
                )
            wait = self._retry_wait(ep, outcome, attempt, cooled)
            if wait is None:
                raise outcome
            await self._sleep(wait)
            attempt += 1

    def _follow_loop(self) -> None:
        """A client reused under another event loop (a second ``asyncio.run``) starts a new
        pool: the old one's connections belong to the closed loop, and writing on them fails
        in ways that would make an order that was never sent look lost."""
        loop = asyncio.get_running_loop()
        if loop is self._loop:
            return
        if self._loop is not None and self._own_transport:
            self._transport = default_async_transport(self.host)
        self._loop = loop

    # --- the token -----------------------------------------------------------------------

    async def _valid_token(self) -> Token:
        token = self._token
        if token is not None and time.time() < token.refresh_at:
            return token
        async with self._token_lock:
            token = self._token
            if token is None or not token.fresh():
                token = self._token = await self._fresh_token()
            return token

    def _drop_token(self, used: Token | None) -> None:
        # No await between the check and the write: atomic for the event loop.
        if self._token is used:
            self._token = None
            self._rejected = used.value if used is not None else None

    async def _fresh_token(self) -> Token:
        if self.token_store is None:
            return await self._issue()
        return await shared_token_async(
            self.token_store, self._shared_key, self._issue, self._rejected
        )

    async def _issue(self) -> Token:
        ep = self._issue_ep
        await self._exchange(ep, None, self._creds.issue_body(), None, None, None, authed=False)
        raw = self.last_response
        assert raw is not None
        return self._parse_token(raw)

    async def _revoke(self, token: Token) -> None:
        ep = self._revoke_ep
        try:
            await self._exchange(
                ep, None, self._creds.revoke_body(token.value), None, None, None, authed=False
            )
        except KiwoomError as exc:
            # The token may have expired already; closing must not fail on it.
            logger.debug("au10002: token not revoked: %s", exc)
