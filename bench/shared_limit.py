"""One app key's rate budget shared through Redis by several processes, against the simulator.

Processes x threads (default 4 x 2) each call ka10001 in a loop through their own
``kiwoom.Kiwoom`` with ``RedisLimiter`` and ``RedisTokenStore`` on one Redis, for a fixed
time, against one ``kiwoom.sim.Simulator`` enforcing 5 queries/s per app key (it rejects a
call that would put a sixth in any one-second window: 1701). Printed: calls that reached the
server in the run, as a share of the allowance (5/s x seconds; goal >= 97%), the most
arrivals in any one-second window [t, t + 1 s) (goal <= 5), the simulator's rate-limit
rejections (goal 0) and tokens issued (goal 1).

    python bench/shared_limit.py [--seconds 60] [--processes 4] [--threads 2] [--margin 0.025]
                                 [--redis redis://host:port/db] [--json]

A call holds its slot from its start until ``window + margin`` after its answer, so its
arrival, somewhere in between, is a window apart from the arrivals of the calls that take
the slot after it, however late it arrived; the share lost is the calls' round trip (start
to answer, through Redis and the simulator) over the window.

Without ``--redis`` a throw-away ``redis-server`` from the PATH is started on a free port.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import multiprocessing
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

APPKEY = "bench-shared-app-key"
RATE = 5  # the simulator's default queries per second per app key


def _worker(
    url: str, host: str, threads: int, seconds: float, margin: float, sync: Any, out: Any
) -> None:
    import kiwoom
    from kiwoom.ratelimit import REAL_LIMITS
    from kiwoom.redis import RedisLimiter, RedisTokenStore

    limits = dataclasses.replace(REAL_LIMITS, margin=margin)
    client = kiwoom.Kiwoom(
        APPKEY,
        "secret",
        host=host,
        limiter=RedisLimiter(url, limits=limits),
        token_store=RedisTokenStore(url),
        retries=0,
    )
    done, failed = [0], [0]
    lock = threading.Lock()

    def loop() -> None:
        end = start_at.value + seconds
        while time.time() < end:
            try:
                client.call("ka10001", {"stk_cd": "005930"})
                ok = 1
            except kiwoom.KiwoomError:
                ok = 0
            with lock:
                done[0] += ok
                failed[0] += 1 - ok

    ready, go, start_at = sync
    warm = threading.Barrier(threads)

    def run() -> None:
        # Before the clock starts: the token, a connection per thread, and the simulator's
        # answer to ka10001 computed once. Cold, either comes after the call's start was
        # booked and takes long enough on a loaded machine (~0.1 s) to bring the call
        # within a second of the next window's calls at the server.
        with contextlib.suppress(kiwoom.KiwoomError):  # rejected or not, now it is warm
            client.call("ka10001", {"stk_cd": "005930"})
        if warm.wait() == 0:
            ready.put(None)
        go.wait()
        time.sleep(max(0.0, start_at.value - time.time()))
        loop()

    pool = [threading.Thread(target=run) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put((done[0], failed[0]))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _redis_server() -> Iterator[str]:
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not on the PATH: pass --redis URL")
    port = _free_port()
    args = [binary, "--save", "", "--appendonly", "no", "--port", str(port)]
    proc = subprocess.Popen([*args, "--bind", "127.0.0.1"], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        for _ in range(500):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.02)
        client.close()
        yield url
    finally:
        proc.terminate()
        proc.wait(5)


def max_in_window(times: Sequence[float], window: float = 1.0) -> int:
    """Most times in any half-open interval [x, x + window)."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


def run(url: str, seconds: float, processes: int, threads: int, margin: float) -> dict[str, Any]:
    import redis

    from kiwoom.sim import Simulator

    redis.Redis.from_url(url).flushdb()
    with Simulator(seed=7, limits=True, query_per_second=RATE) as sim:
        # The simulator counts its rejections; the times of the calls it let through are
        # their arrivals, as its limit check counts them (monotonic: made wall-clock times
        # here, to compare with the run's start).
        arrivals: list[float] = []
        check = sim.rest._limit
        wall = time.time() - time.monotonic()

        def logged(appkey: str, entry: Any, arrived: float) -> None:
            check(appkey, entry, arrived)
            arrivals.append(arrived + wall)

        sim.rest._limit = logged  # type: ignore[method-assign]
        ctx = multiprocessing.get_context("spawn")
        out, ready, go, start_at = ctx.Queue(), ctx.Queue(), ctx.Event(), ctx.Value("d", 0.0)
        sync = (ready, go, start_at)
        procs = [
            ctx.Process(target=_worker, args=(url, sim.url, threads, seconds, margin, sync, out))
            for _ in range(processes)
        ]
        for p in procs:
            p.start()
        for _ in procs:  # every process started, imported and holding the token
            ready.get(timeout=60)
        start = start_at.value = time.time() + 1.5
        end = start + seconds
        warm_up = sim.stats.rate_limited
        go.set()
        results = [out.get(timeout=seconds + 120) for _ in procs]
        for p in procs:
            p.join(30)
        stats = sim.stats
        in_run = [t for t in arrivals if start <= t < end]
        return {
            "seconds": seconds,
            "processes": processes,
            "threads": threads,
            "margin": margin,
            "calls": len(in_run),
            "allowance": RATE * seconds,
            "share": len(in_run) / (RATE * seconds),
            "max_in_1s": max_in_window(arrivals),
            "rejections": stats.rate_limited - warm_up,
            "warm_up_rejections": warm_up,
            "client_errors": sum(f for _, f in results),
            "tokens_issued": stats.tokens_issued,
            "late_start_s": (min(in_run) - start) if in_run else None,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--margin", type=float, default=None, help="the limiter's margin (default: REAL_LIMITS')"
    )
    parser.add_argument("--redis", help="a Redis URL (default: start a throw-away server)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    from kiwoom.ratelimit import REAL_LIMITS

    margin = REAL_LIMITS.margin if args.margin is None else args.margin
    with _redis_server() if args.redis is None else _given(args.redis) as url:
        result = run(url, args.seconds, args.processes, args.threads, margin)
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"{result['processes']} processes x {result['threads']} threads, "
        f"{result['seconds']:g} s, one app key through Redis, against the simulator (5/s), "
        f"margin {result['margin'] * 1000:g} ms:\n"
        f"  calls at the server    {result['calls']} of {result['allowance']:g} allowed "
        f"({result['share']:.1%}; goal >= 97%)\n"
        f"  most in any 1 s        {result['max_in_1s']} (goal <= {RATE})\n"
        f"  rate-limit rejections  {result['rejections']} (goal 0; "
        f"{result['warm_up_rejections']} while warming up)\n"
        f"  tokens issued          {result['tokens_issued']} (goal 1)"
    )


@contextlib.contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    main()
