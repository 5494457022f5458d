"""One token for many concurrent callers, on both clients, with callers that truly overlap.

The fake server answers after a few milliseconds (a blocking sleep for the threads of the
sync client, ``await asyncio.sleep`` for the tasks of the async one), so a burst of calls is
in flight together while the token is being re-issued; ``fake.peak`` proves they overlapped.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from _fake import APPKEY, SECRET, FakeKiwoom, ok, rejected

from kiwoom import AsyncKiwoom, Kiwoom
from kiwoom.errors import AuthError

DAILY = {"stk_cd": "005930", "base_dt": "20250908", "upd_stkpc_tp": "1"}
CALLERS = 16
LATENCY = 0.005  # seconds every answer takes
ISSUE_LATENCY = 0.010  # extra seconds an au10001 answer takes
EXPIRED = rejected(3, "[8005:Token이 유효하지 않습니다]")


def staggered() -> Callable[[httpx.Request], float]:
    """Answers to a burst that come back spread over 5-50 ms: some rejections with the old
    token arrive after the new one was issued, as they do when calls leave at different times."""
    counter = itertools.count()

    def latency(request: httpx.Request) -> float:
        if request.headers["api-id"] == "au10001":
            return LATENCY
        return LATENCY + 0.003 * (next(counter) % CALLERS)

    return latency


def sync_client(fake: FakeKiwoom) -> Kiwoom:
    return Kiwoom(APPKEY, SECRET, transport=fake.transport(), limiter=False)


def async_client(fake: FakeKiwoom) -> AsyncKiwoom:
    return AsyncKiwoom(APPKEY, SECRET, transport=fake.async_transport(), limiter=False)


def burst(call: Callable[[int], Any]) -> list[Any]:
    """``call(i)`` for every caller at once, each in its own thread; results or exceptions."""
    start = threading.Barrier(CALLERS)

    def one(i: int) -> Any:
        start.wait()
        try:
            return call(i)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=CALLERS) as pool:
        return list(pool.map(one, range(CALLERS)))


async def async_burst(call: Callable[[int], Any]) -> list[Any]:
    return await asyncio.gather(*(call(i) for i in range(CALLERS)), return_exceptions=True)


def tagged(i: int) -> dict[str, Any]:
    """Keyword arguments of caller ``i``'s call: its requests carry ``x-caller: i``."""
    return {**DAILY, "headers": {"x-caller": str(i)}}


def tokens_by_caller(fake: FakeKiwoom) -> dict[str, list[str]]:
    """Caller -> the token of each ka10081 request it sent, in order."""
    out: dict[str, list[str]] = defaultdict(list)
    for sent in fake.calls("ka10081"):
        if "x-caller" in sent.headers:
            out[sent.headers["x-caller"]].append(sent.headers["authorization"].split()[-1])
    return dict(out)


def assert_one_refresh_after_rejection(fake: FakeKiwoom, results: list[Any]) -> None:
    assert not [r for r in results if isinstance(r, Exception)]
    assert fake.issued == 2  # the first token and ONE refresh shared by every caller
    by_caller = tokens_by_caller(fake)
    assert len(by_caller) == CALLERS
    for tokens in by_caller.values():
        # Rejected once with the old token at most, then served with the new one.
        assert tokens in (["tok-2"], ["tok-1", "tok-2"]), tokens
    rejected_callers = sum(tokens[0] == "tok-1" for tokens in by_caller.values())
    assert rejected_callers >= 2, "the callers did not overlap: nothing was tested"


def rejecting_three_times() -> Callable[[httpx.Request], httpx.Response]:
    """8005 for each caller's first three requests, then success: a client that resends more
    than once ends with a success instead of the rejection (rather than looping for ever)."""
    seen: dict[str, int] = defaultdict(int)
    lock = threading.Lock()

    def route(request: httpx.Request) -> httpx.Response:
        with lock:
            seen[request.headers["x-caller"]] += 1
            n = seen[request.headers["x-caller"]]
        return EXPIRED if n <= 3 else ok()

    return route


def assert_persistent_rejection_never_loops(fake: FakeKiwoom, results: list[Any]) -> None:
    assert all(isinstance(r, AuthError) and r.code == 8005 for r in results), results
    for tokens in tokens_by_caller(fake).values():
        assert len(tokens) == 2  # the call and one resend after a refresh, never more
    assert fake.issued <= 1 + CALLERS


# --- the blocking client, threads ----------------------------------------------------------


def test_threads_needing_the_first_token_share_one_issue():
    fake = FakeKiwoom(latency=LATENCY, issue_latency=ISSUE_LATENCY)
    client = sync_client(fake)
    burst(lambda i: client.chart.daily(**DAILY))
    assert fake.issued == 1
    assert len(fake.calls("ka10081")) == CALLERS


def test_threads_past_the_refresh_time_share_one_issue():
    fake = FakeKiwoom(latency=LATENCY, issue_latency=ISSUE_LATENCY)
    client = sync_client(fake)
    client.chart.daily(**DAILY)
    assert client._token is not None
    client._token.refresh_at = 0.0  # due for renewal: every caller sees it at once
    fake.peak = 0
    burst(lambda i: client.chart.daily(**DAILY))
    assert fake.issued == 2
    auth = [s.headers["authorization"] for s in fake.calls("ka10081")[1:]]
    assert auth == ["Bearer tok-2"] * CALLERS
    assert fake.peak >= 2  # the calls were in flight together


def test_threads_rejected_with_8005_share_one_refresh():
    fake = FakeKiwoom(latency=staggered(), issue_latency=ISSUE_LATENCY)
    client = sync_client(fake)
    client.chart.daily(**DAILY)
    fake.expired.add("tok-1")  # the server now rejects tok-1 with 8005
    results = burst(lambda i: client.chart.daily(**tagged(i)))
    assert_one_refresh_after_rejection(fake, results)


def test_threads_rejected_with_8005_every_time_never_loop():
    fake = FakeKiwoom(latency=staggered(), routes={"ka10081": rejecting_three_times()})
    client = sync_client(fake)
    results = burst(lambda i: client.chart.daily(**tagged(i)))
    assert_persistent_rejection_never_loops(fake, results)


# --- the asyncio client, tasks -------------------------------------------------------------


def test_tasks_needing_the_first_token_share_one_issue():
    fake = FakeKiwoom(latency=LATENCY, issue_latency=ISSUE_LATENCY)

    async def main() -> None:
        client = async_client(fake)
        await async_burst(lambda i: client.chart.daily(**DAILY))

    asyncio.run(main())
    assert fake.issued == 1
    assert len(fake.calls("ka10081")) == CALLERS


def test_tasks_past_the_refresh_time_share_one_issue():
    fake = FakeKiwoom(latency=LATENCY, issue_latency=ISSUE_LATENCY)

    async def main() -> None:
        client = async_client(fake)
        await client.chart.daily(**DAILY)
        assert client._token is not None
        client._token.refresh_at = 0.0
        fake.peak = 0
        await async_burst(lambda i: client.chart.daily(**DAILY))

    asyncio.run(main())
    assert fake.issued == 2
    auth = [s.headers["authorization"] for s in fake.calls("ka10081")[1:]]
    assert auth == ["Bearer tok-2"] * CALLERS
    assert fake.peak >= 2  # the calls were in flight together


def test_tasks_rejected_with_8005_share_one_refresh():
    fake = FakeKiwoom(latency=staggered(), issue_latency=ISSUE_LATENCY)

    async def main() -> list[Any]:
        client = async_client(fake)
        await client.chart.daily(**DAILY)
        fake.expired.add("tok-1")
        return await async_burst(lambda i: client.chart.daily(**tagged(i)))

    results = asyncio.run(main())
    assert_one_refresh_after_rejection(fake, results)
    assert all(tokens == ["tok-1", "tok-2"] for tokens in tokens_by_caller(fake).values())


def test_tasks_rejected_with_8005_every_time_never_loop():
    fake = FakeKiwoom(latency=staggered(), routes={"ka10081": rejecting_three_times()})

    async def main() -> list[Any]:
        client = async_client(fake)
        return await async_burst(lambda i: client.chart.daily(**tagged(i)))

    results = asyncio.run(main())
    assert_persistent_rejection_never_loops(fake, results)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_rejection_after_the_refresh_keeps_the_new_token(kind):
    """A late 8005 for the old token must not throw away the token issued meanwhile."""
    fake = FakeKiwoom()
    if kind == "sync":
        client: Any = sync_client(fake)
        client.chart.daily(**DAILY)
        old = client._token
        client._token = None
        client._valid_token()  # tok-2, issued by another caller
        client._drop_token(old)  # the late rejection of a call sent with tok-1
    else:
        client = async_client(fake)

        async def main() -> Any:
            await client.chart.daily(**DAILY)
            old = client._token
            client._token = None
            await client._valid_token()
            client._drop_token(old)

        asyncio.run(main())
    assert client._token is not None and client._token.value == "tok-2"
