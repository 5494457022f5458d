"""The simulator's throughput, in one run: REST answers per second (limits off) and real-time
frames per second it pushes and the SDK consumes.

The simulator runs in a child process of its own (``--serve``), so it and the client each
have an interpreter; on a 2-core machine they still share the CPU with whatever else runs.

REST: 16 concurrent raw httpx calls (the server alone), then the SDK's AsyncKiwoom with the
limiter off, for ka10001 (a quote), ka10081 (600 daily rows) and ka10030 (a ranking the
simulator fills from the catalogue's field kinds), DURATION seconds each.

Real-time: one socket registered for 0B and 0D of 50 stocks (100 items), the simulator
pushing every registered item in every frame as fast as it can; the SDK consumes typed ticks
from ``rt.stream``. Printed: frames and items per second sent by the simulator, frames and
ticks per second the SDK decoded and handed over, and ticks dropped from full queues.

    python bench/sim.py [--duration 5]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import subprocess
import sys
import time
from typing import Any

import httpx

import kiwoom

KEYS = {"appkey": "bench-appkey", "secretkey": "bench-secretkey"}
START = dt.datetime(2026, 12, 2, 10, 0)
_RANKING = {
    "mrkt_tp": "000", "sort_tp": "1", "mang_stk_incls": "0", "crd_tp": "0", "trde_qty_tp": "0",
    "pric_tp": "0", "trde_prica_tp": "0", "mrkt_open_tp": "0", "stex_tp": "1",
}  # fmt: skip
CALLS = {
    "ka10001": ("/api/dostk/stkinfo", {"stk_cd": "005930"}),
    "ka10081": (
        "/api/dostk/chart",
        {"stk_cd": "005930", "base_dt": "20261202", "upd_stkpc_tp": "1"},
    ),
    "ka10030": ("/api/dostk/rkinfo", _RANKING),
}
CONCURRENCY = 16


def serve(rate: float) -> None:
    """The child: a simulator until stdin closes; its stats as JSON on stdout at the end."""
    from kiwoom.sim import Simulator

    with Simulator(
        seed=7, start=START, speed=60, limits=False, real_rate=rate, real_every_push=True
    ) as sim:
        print(sim.url, flush=True)
        sys.stdin.read()
        print(json.dumps(sim.stats.as_dict()), flush=True)


async def _rest_raw(url: str, api_id: str, duration: float) -> float:
    path, body = CALLS[api_id]
    async with httpx.AsyncClient(base_url=url) as http:
        token = (
            await http.post(
                "/oauth2/token",
                headers={"api-id": "au10001"},
                json={"grant_type": "client_credentials", **KEYS},
            )
        ).json()["token"]
        headers = {"api-id": api_id, "authorization": f"Bearer {token}"}
        done = 0
        end = time.perf_counter() + duration

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < end:
                answer = await http.post(path, headers=headers, json=body)
                assert answer.json()["return_code"] == 0
                done += 1

        t = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return done / (time.perf_counter() - t)


async def _rest_sdk(url: str, api_id: str, duration: float) -> float:
    _path, body = CALLS[api_id]
    async with kiwoom.AsyncKiwoom(host=url, limiter=False, **KEYS) as client:
        await client.call(api_id, body)
        done = 0
        end = time.perf_counter() + duration

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < end:
                await client.call(api_id, body)
                done += 1

        t = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return done / (time.perf_counter() - t)


async def _frames(url: str, duration: float) -> dict[str, Any]:
    codes = [c for c, i in kiwoom_sim_universe().items() if i.market in ("KOSPI", "KOSDAQ")][:50]
    async with kiwoom.AsyncKiwoom(host=url, **KEYS) as client, client.realtime() as rt:
        ticks = 0
        stream = rt.stream(["0B", "0D"], maxsize=100_000)

        async def consume() -> None:
            nonlocal ticks
            async for _tick in stream:
                ticks += 1

        consumer = asyncio.create_task(consume())
        await rt.register(codes, ["0B", "0D"], group="1")
        await asyncio.sleep(1.0)  # warm-up: histories of 50 stocks are generated
        before = httpx.get(f"{url}/sim/stats").json()
        frames0, ticks0 = rt.stats().frames, ticks
        t = time.perf_counter()
        await asyncio.sleep(duration)
        elapsed = time.perf_counter() - t
        after = httpx.get(f"{url}/sim/stats").json()
        stats = rt.stats()
        consumer.cancel()
        dropped = sum(c.dropped for c in stats.types.values())
        return {
            "sent_frames": (after["frames_sent"] - before["frames_sent"]) / elapsed,
            "sent_items": (after["items_sent"] - before["items_sent"]) / elapsed,
            "got_frames": (stats.frames - frames0) / elapsed,
            "got_ticks": (ticks - ticks0) / elapsed,
            "dropped": dropped,
        }


def kiwoom_sim_universe() -> dict[str, Any]:
    from kiwoom.sim._universe import universe

    return universe()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=1000.0, help="pushes per second asked")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.rate)
        return
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--rate", str(args.rate)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        url = child.stdout.readline().strip()
        print(f"simulator at {url} (child process), {args.duration:g} s per measurement")
        print("REST answers per second, 16 concurrent calls, limits off:")
        for api_id in CALLS:
            raw = asyncio.run(_rest_raw(url, api_id, args.duration))
            sdk = asyncio.run(_rest_sdk(url, api_id, args.duration))
            print(f"  {api_id}  raw httpx {raw:7.0f}/s   kiwoom.AsyncKiwoom {sdk:7.0f}/s")
        f = asyncio.run(_frames(url, args.duration))
        print("Real-time, 0B+0D of 50 stocks (100 items) in every frame, pushed as fast as it can:")
        print(f"  simulator sent  {f['sent_frames']:7.1f} frames/s  {f['sent_items']:8.0f} items/s")
        print(f"  SDK consumed    {f['got_frames']:7.1f} frames/s  {f['got_ticks']:8.0f} ticks/s"
              f"  (dropped {f['dropped']})")  # fmt: skip
        child.stdin.close()
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()


if __name__ == "__main__":
    main()
