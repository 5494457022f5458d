"""Orders are never retried, on either client: every failure of an order is sent once and
raised, while the same failure of a query is retried (so each case proves something).

The one resend allowed is after an 8005 token rejection, which the server gives before it
acts on the call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from _fake import APPKEY, SECRET, FakeKiwoom, ok, rejected

import kiwoom
from kiwoom import AsyncKiwoom, Kiwoom
from kiwoom.errors import (
    APIError,
    AuthError,
    HTTPStatusError,
    KiwoomError,
    OrderOutcomeUnknownError,
    RateLimitError,
    RequestTimeoutError,
    TransportError,
)
from kiwoom.ratelimit import Permit, RateLimiter

ORDER = {"dmst_stex_tp": "KRX", "stk_cd": "005930", "ord_qty": "1", "trde_tp": "3"}
DAILY = {"stk_cd": "005930", "base_dt": "20250908", "upd_stkpc_tp": "1"}
RATE = "[1700:허용된 요청 개수를 초과하였습니다. 유량=1, API ID=kt10000]"


class SpyLimiter(RateLimiter):
    """Never waits; asks for a 1 s wait after each rate-limit rejection."""

    def begin(
        self, api_id: str, *, group: str, is_order: bool, hold: float | None = None
    ) -> Permit:
        return Permit(0.0)

    async def begin_async(
        self, api_id: str, *, group: str, is_order: bool, hold: float | None = None
    ) -> Permit:
        return Permit(0.0)

    def on_rejected(self, api_id: str, message: str, *, group: str, is_order: bool) -> float:
        return 1.0

    async def on_rejected_async(
        self, api_id: str, message: str, *, group: str, is_order: bool
    ) -> float:
        return 1.0


def raising(exc: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def route(request: httpx.Request) -> httpx.Response:
        raise exc

    return route


# (failure, the error an order gets: a class or a tuple of acceptable ones)
FAILURES: dict[str, tuple[Any, Any]] = {
    "read timeout": (raising(httpx.ReadTimeout("no answer")), OrderOutcomeUnknownError),
    "write timeout": (raising(httpx.WriteTimeout("stalled")), OrderOutcomeUnknownError),
    "read error": (raising(httpx.ReadError("reset by peer")), OrderOutcomeUnknownError),
    "write error": (raising(httpx.WriteError("broken pipe")), OrderOutcomeUnknownError),
    "protocol error": (
        raising(httpx.RemoteProtocolError("peer closed")),
        OrderOutcomeUnknownError,
    ),
    "connect error": (raising(httpx.ConnectError("refused")), TransportError),
    "connect timeout": (raising(httpx.ConnectTimeout("no route")), RequestTimeoutError),
    "HTTP 500 with an error body": (
        httpx.Response(500, json={"return_code": 1, "return_msg": "[9999:서버 오류]"}),
        APIError,
    ),
    # A bare error page: a server's status or, now that its body says nothing, an unknown outcome.
    "HTTP 503 error page": (
        httpx.Response(503, text="busy"),
        (HTTPStatusError, OrderOutcomeUnknownError),
    ),
    "HTTP 504 from a gateway": (
        httpx.Response(504, text="<html>gateway timeout</html>"),
        OrderOutcomeUnknownError,
    ),
    "rate limit (return_code 5)": (rejected(5, RATE), RateLimitError),
    "rate limit (HTTP 429)": (rejected(5, RATE, status=429), RateLimitError),
}


def attempt(
    kind: str, fake: FakeKiwoom, call: Callable[[Any], Any], **options: Any
) -> tuple[Any, list[float]]:
    """Run ``call(client)`` on a new client of ``kind``: (its result or exception, its waits)."""
    options = {"limiter": SpyLimiter(), "retries": 2, **options}
    waits: list[float] = []
    if kind == "sync":
        client = Kiwoom(APPKEY, SECRET, transport=fake.transport(), **options)
        client._sleep = waits.append
        try:
            return call(client), waits
        except Exception as exc:
            return exc, waits

    async def main() -> Any:
        client = AsyncKiwoom(APPKEY, SECRET, transport=fake.async_transport(), **options)

        async def sleep(seconds: float) -> None:
            waits.append(seconds)

        client._sleep = sleep
        try:
            return await call(client)
        except Exception as exc:
            return exc

    return asyncio.run(main()), waits


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_an_order_is_sent_once_whatever_fails(kind, failure):
    answer, expected = FAILURES[failure]
    fake = FakeKiwoom(routes={"kt10000": answer})
    err, waits = attempt(kind, fake, lambda c: c.order.buy(**ORDER))
    assert isinstance(err, KiwoomError) and isinstance(err, expected), repr(err)
    if expected is TransportError:  # never sent: not an unknown outcome
        assert not isinstance(err, OrderOutcomeUnknownError)
    assert err.api_id == "kt10000"
    assert len(fake.calls("kt10000")) == 1
    assert waits == []
    if isinstance(err, OrderOutcomeUnknownError):
        assert isinstance(err.request, kiwoom.Kt10000Request) and err.request.stk_cd == "005930"


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_the_same_failure_of_a_query_is_retried(kind, failure):
    answer, _expected = FAILURES[failure]
    fake = FakeKiwoom(routes={"ka10081": answer})
    err, waits = attempt(kind, fake, lambda c: c.chart.daily(**DAILY))
    assert isinstance(err, KiwoomError), repr(err)
    assert len(fake.calls("ka10081")) == 3  # the call and its 2 retries
    assert len(waits) == 2


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_an_order_rejected_for_its_token_is_resent_once_with_a_new_one(kind):
    fake = FakeKiwoom(routes={"kt10000": [rejected(3, "[8005:Token이 유효하지 않습니다]"), ok()]})
    result, waits = attempt(kind, fake, lambda c: c.order.buy(**ORDER))
    assert isinstance(result, kiwoom.Kt10000Response), repr(result)
    sent = fake.calls("kt10000")
    assert [s.headers["authorization"] for s in sent] == ["Bearer tok-1", "Bearer tok-2"]
    assert sent[0].body == sent[1].body == ORDER
    assert waits == []


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_an_order_rejected_for_its_token_twice_is_not_sent_a_third_time(kind):
    expired = rejected(3, "[8005:Token이 유효하지 않습니다]")
    # A third send would be accepted: a client that loops ends placed, not hanging.
    fake = FakeKiwoom(routes={"kt10000": [expired, expired, expired, ok()]})
    err, _ = attempt(kind, fake, lambda c: c.order.buy(**ORDER))
    assert isinstance(err, AuthError) and err.code == 8005
    assert len(fake.calls("kt10000")) == 2
