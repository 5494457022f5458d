"""Rate-limiter accuracy, measured where it counts: arrival times at the server.

bench/server.py runs in its own process and logs when each request's head arrives; it also
enforces Kiwoom's limits itself (HTTP 429, ``1700``/``1701``), so over-eager sending shows up
as rejections. Each request goes ``begin()``, ``POST`` with httpx, ``finish()`` (as the SDK's
clients do), all queued at once:

(a) 200 queries spread over 200 query API ids of the catalogue, 5/s in total;
(b) 20 queries of ka10081 alone, allowed 1/s.

Per run: the achieved rate as a share of the allowed one, ``(n - 1) / (last - first) / N``,
the most arrivals in any 1-second window ``[t, t + 1s)``, and the shortest time holding
N + 1 arrivals (under 1000 ms means a window held too many). Goals: >= 97% and never more
than N. For comparison, the reference wrapper's strategy (calls exactly 1/N s apart) is
sent by the same code.
Each line takes 40 s in (a) and 20 s in (b).

    python bench/limiter.py [--runs 1] [--only kiwoom-async,kiwoom-threads,spaced-async]
"""

from __future__ import annotations

import argparse
import asyncio
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Protocol

import httpx
from server import arrivals, reset, start_server

from kiwoom import catalog
from kiwoom.ratelimit import Limits, RateLimiter

THREADS = 4


class Pacer(Protocol):
    def acquire(self, api_id: str, *, group: str, is_order: bool) -> float: ...
    async def acquire_async(self, api_id: str, *, group: str, is_order: bool) -> float: ...


class FixedSpacing:
    """The reference wrapper's strategy: calls start exactly ``interval`` seconds apart."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._next = 0.0
        self._lock = threading.Lock()

    def _book(self) -> float:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self._interval
            return start - now

    def acquire(self, api_id: str, *, group: str, is_order: bool) -> float:
        delay = self._book()
        if delay > 0:
            time.sleep(delay)
        return delay

    async def acquire_async(self, api_id: str, *, group: str, is_order: bool) -> float:
        delay = self._book()
        if delay > 0:
            await asyncio.sleep(delay)
        return delay


@dataclass(frozen=True)
class Call:
    api_id: str
    group: str
    path: str


@dataclass(frozen=True)
class Scenario:
    name: str
    calls: Sequence[Call]
    allowed: int  # calls per second that the binding limit allows
    limits: Limits  # what our limiter is told
    server: Mapping[str, object]  # what the server enforces


def scenarios() -> list[Scenario]:
    queries = [e for e in catalog.entries("rest") if not e.is_order and e.group != "oauth"]
    spread = [Call(e.api_id, e.group, e.path) for e in queries[:200]]
    chart = catalog.get("ka10081")
    one = [Call(chart.api_id, chart.group, chart.path)] * 20
    return [
        Scenario(
            "(a) 200 queries, 200 ids, 5/s total",
            spread,
            5,
            Limits(query_per_second=5, order_per_second=5),
            {"total": 5},
        ),
        Scenario(
            "(b) 20 x ka10081 at 1/s",
            one,
            1,
            Limits(query_per_second=5, order_per_second=5, per_api={"ka10081": 1}),
            {"total": 5, "per_api": {"ka10081": 1}},
        ),
    ]


def _send_sync(client: httpx.Client, pacer: Pacer, call: Call) -> None:
    post = partial(client.post, call.path, headers={"api-id": call.api_id}, content=b"{}")
    if not isinstance(pacer, RateLimiter):
        pacer.acquire(call.api_id, group=call.group, is_order=False)
        post()
        return
    # As the SDK's clients do: the call holds its slot until a window after its answer.
    permit = pacer.begin(call.api_id, group=call.group, is_order=False)
    try:
        resp = post()
    finally:
        pacer.finish(permit)
    if resp.status_code == 429:
        pacer.on_rejected(call.api_id, resp.text, group=call.group, is_order=False)


def run_threads(
    base_url: str, pacer: Pacer, calls: Sequence[Call], begin: Callable[[], None]
) -> None:
    """``THREADS`` threads take the queued calls one by one; ``begin`` once connections are warm."""
    todo: queue.SimpleQueue[Call] = queue.SimpleQueue()
    for call in calls:
        todo.put(call)
    with httpx.Client(base_url=base_url) as client:
        warm = [threading.Thread(target=client.post, args=("/oauth2/token",)) for _ in range(8)]
        for t in warm:
            t.start()
        for t in warm:
            t.join()

        def worker() -> None:
            while True:
                try:
                    call = todo.get_nowait()
                except queue.Empty:
                    return
                _send_sync(client, pacer, call)

        threads = [threading.Thread(target=worker) for _ in range(THREADS)]
        begin()
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def run_tasks(
    base_url: str, pacer: Pacer, calls: Sequence[Call], begin: Callable[[], None]
) -> None:
    """One asyncio task per call, all started at once; ``begin`` once connections are warm."""

    async def main() -> None:
        async with httpx.AsyncClient(base_url=base_url) as client:
            await asyncio.gather(*(client.post("/oauth2/token") for _ in range(8)))

            async def send(call: Call) -> None:
                headers = {"api-id": call.api_id}
                post = partial(client.post, call.path, headers=headers, content=b"{}")
                if not isinstance(pacer, RateLimiter):
                    await pacer.acquire_async(call.api_id, group=call.group, is_order=False)
                    await post()
                    return
                permit = await pacer.begin_async(call.api_id, group=call.group, is_order=False)
                try:
                    resp = await post()
                finally:
                    await pacer.finish_async(permit)
                if resp.status_code == 429:
                    await pacer.on_rejected_async(
                        call.api_id, resp.text, group=call.group, is_order=False
                    )

            begin()
            await asyncio.gather(*(send(call) for call in calls))

    asyncio.run(main())


@dataclass(frozen=True)
class Figures:
    achieved: float  # share of the allowed rate
    max_per_window: int
    closest: float  # seconds spanned by the closest N + 1 consecutive arrivals (< 1: over)
    rejected: int


def measure(times: Sequence[float], statuses: Sequence[int], allowed: int) -> Figures:
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):  # windows [times[j], times[j] + 1s) holding times[i]
        while times[j] <= t - 1.0:
            j += 1
        best = max(best, i - j + 1)
    rate = (len(times) - 1) / (times[-1] - times[0])
    closest = min(b - a for a, b in zip(times, times[allowed:], strict=False))
    return Figures(rate / allowed, best, closest, sum(s == 429 for s in statuses))


STRATEGIES = {
    "kiwoom-async": ("ours, asyncio: one task per call", run_tasks, False),
    "kiwoom-threads": (f"ours, sync: {THREADS} threads", run_threads, False),
    "spaced-async": ("reference: exactly 1/N s apart, asyncio", run_tasks, True),
    "spaced-threads": (f"reference: exactly 1/N s apart, {THREADS} threads", run_threads, True),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--only", default="kiwoom-async,kiwoom-threads,spaced-async")
    args = parser.parse_args()
    base_url, stop = start_server()
    try:
        for scenario in scenarios():
            print(f"{scenario.name}: goal >= 97% of allowed, <= {scenario.allowed} per window")
            for key in args.only.split(","):
                label, run, spaced = STRATEGIES[key]
                for _ in range(args.runs):
                    pacer: Pacer = (
                        FixedSpacing(1 / scenario.allowed)
                        if spaced
                        else RateLimiter(scenario.limits)
                    )
                    run(base_url, pacer, scenario.calls, partial(reset, base_url, scenario.server))
                    log = [(t, s) for t, a, s in arrivals(base_url) if not a.startswith("au")]
                    assert len(log) == len(scenario.calls), len(log)
                    fig = measure([t for t, _ in log], [s for _, s in log], scenario.allowed)
                    flag = "" if fig.max_per_window <= scenario.allowed else "  OVER"
                    print(
                        f"  {label:42} {fig.achieved:6.1%} of allowed   max "
                        f"{fig.max_per_window}/1s window   closest {scenario.allowed + 1} "
                        f"within {fig.closest * 1e3:4.0f} ms   {fig.rejected:3d} rejected{flag}",
                        flush=True,
                    )
    finally:
        stop()


if __name__ == "__main__":
    main()
