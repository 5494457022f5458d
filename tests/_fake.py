"""A fake Kiwoom REST server behind ``httpx.MockTransport``: records every request."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

APPKEY = "APPKEY-0123456789abcdef"
SECRET = "SECRET-fedcba9876543210"

Route = Callable[[httpx.Request], httpx.Response]
Latency = Callable[[httpx.Request], float]


def ok(body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        200, headers=headers, json={"return_code": 0, "return_msg": "ok", **(body or {})}
    )


def rejected(return_code: int, return_msg: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json={"return_code": return_code, "return_msg": return_msg})


@dataclass
class Sent:
    api_id: str
    path: str
    headers: httpx.Headers
    body: Any
    method: str = ""
    host: str = ""
    content: bytes = b""


@dataclass
class FakeKiwoom:
    """Issues tokens ``tok-1``, ``tok-2``...; answers routes by api id, queued or constant.

    ``latency`` (seconds, or a function of the request giving them) delays every answer: a
    blocking sleep on the sync transport, ``await asyncio.sleep`` on the async one, so that
    concurrent callers truly overlap. ``issue_latency`` adds seconds to each au10001 answer.
    ``peak`` is the most requests the fake was answering at once (proof that callers overlapped).
    """

    expires_dt: str = "20991231235959"
    routes: dict[str, list[Route | httpx.Response] | Route | httpx.Response] = field(
        default_factory=dict
    )
    sent: list[Sent] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    expired: set[str] = field(default_factory=set)
    issued: int = 0
    latency: float | Latency = 0.0
    issue_latency: float = 0.0
    peak: int = 0
    _in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def calls(self, api_id: str) -> list[Sent]:
        return [s for s in self.sent if s.api_id == api_id]

    def _answer(self, request: httpx.Request) -> httpx.Response:
        api_id = request.headers.get("api-id", "")
        content = request.read()
        body = json.loads(content or b"null")
        url = request.url
        sent = Sent(api_id, url.path, request.headers, body, request.method, url.host, content)
        self.sent.append(sent)
        if api_id == "au10001" and api_id not in self.routes:  # a route: a failing issue
            with self._lock:  # threads may issue at once: every token gets its own number
                self.issued += 1
                number = self.issued
            return ok(
                {
                    "token": f"tok-{number}",
                    "token_type": "bearer",
                    "expires_dt": self.expires_dt,
                }
            )
        if api_id == "au10002":
            self.revoked.append(body["token"])
            return ok()
        auth = request.headers.get("authorization", "")
        if auth.removeprefix("Bearer ") in self.expired:
            return rejected(3, "[8005:Token이 유효하지 않습니다]")
        route = self.routes.get(api_id)
        if isinstance(route, list):
            route = route.pop(0) if len(route) > 1 else route[0]
        if route is None:
            return ok()
        if isinstance(route, httpx.Response):
            return route
        return route(request)

    def _delay(self, request: httpx.Request) -> float:
        delay = self.latency(request) if callable(self.latency) else self.latency
        if request.headers.get("api-id") == "au10001":
            delay += self.issue_latency
        return delay

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def handler(self, request: httpx.Request) -> httpx.Response:
        delay = self._delay(request)
        self._enter()
        try:
            if delay:
                time.sleep(delay)
            return self._answer(request)
        finally:
            self._leave()

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)  # an answer never comes in the same loop turn
        delay = self._delay(request)
        self._enter()
        try:
            if delay:
                await asyncio.sleep(delay)
            return self._answer(request)
        finally:
            self._leave()

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    def async_transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.async_handler)


def chart_page(rows: list[tuple[str, str]], *, next_key: str | None = None) -> httpx.Response:
    """A ka10081 page of (date, close) rows, with paging headers when next_key is given."""
    headers = {"cont-yn": "Y", "next-key": next_key} if next_key else {"cont-yn": "N"}
    return ok(
        {
            "stk_cd": "005930",
            "stk_dt_pole_chart_qry": [{"dt": d, "cur_prc": c} for d, c in rows],
        },
        headers,
    )
