"""Client CPU time per request against a local server in another process: our sync and async
clients (typed decode included) vs raw httpx (``post`` + ``.json()``), same run.

Two responses: a 600-row daily chart (~120 KB, ka10081) and a small quote (~0.4 KB, ka10001).
The issue's goals are stated against the reference wrapper (kiwoom-restful, aiohttp), which
measured ~0.65x raw httpx on the chart and ~0.35x on the small answer on the lead's machine;
this script prints ratios to raw httpx measured here.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

import kiwoom

N = {"ka10081": 300, "ka10001": 2000}
REQUESTS = {
    "ka10081": {"stk_cd": "005930", "base_dt": "20250908", "upd_stkpc_tp": "1"},
    "ka10001": {"stk_cd": "005930"},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_us(fn, n: int) -> float:
    fn()  # warm: connection, token, lazy imports
    best = float("inf")
    for _ in range(3):
        t = time.process_time()
        for _ in range(n):
            fn()
        best = min(best, (time.process_time() - t) / n * 1e6)
    return best


def _async_cpu_us(make_call, n: int) -> float:
    async def main() -> float:
        call = await make_call()
        await call()
        best = float("inf")
        for _ in range(3):
            t = time.process_time()
            for _ in range(n):
                await call()
            best = min(best, (time.process_time() - t) / n * 1e6)
        return best

    return asyncio.run(main())


def main() -> None:
    port = _free_port()
    host = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("_server.py")), str(port)],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).parent,
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()
        sync = kiwoom.Kiwoom("bench-app", "bench-secret", host=host, limiter=False)
        raw = httpx.Client()
        headers = {"authorization": "Bearer x", "content-type": "application/json;charset=UTF-8"}
        print(f"client CPU µs per request (best of 3 runs), server on {host}")
        for api_id, n in N.items():
            req = REQUESTS[api_id]
            ours = _cpu_us(lambda api_id=api_id, req=req: sync.call(api_id, req), n)

            def raw_call(api_id=api_id, req=req):
                return raw.post(
                    host + kiwoom.catalog.get(api_id).path,
                    json=req,
                    headers={**headers, "api-id": api_id},
                ).json()

            base = _cpu_us(raw_call, n)

            async def make_async(api_id=api_id, req=req):
                client = kiwoom.AsyncKiwoom("bench-app", "bench-secret", host=host, limiter=False)
                return lambda: client.call(api_id, req)

            ours_async = _async_cpu_us(make_async, n)

            async def make_raw_async(api_id=api_id, req=req):
                client = httpx.AsyncClient()
                url = host + kiwoom.catalog.get(api_id).path

                async def call():
                    r = await client.post(url, json=req, headers={**headers, "api-id": api_id})
                    return r.json()

                return call

            base_async = _async_cpu_us(make_raw_async, n)
            print(
                f"  {api_id}: raw httpx {base:7.0f}   Kiwoom {ours:7.0f} ({ours / base:.2f}x)"
                f"   raw httpx async {base_async:7.0f}"
                f"   AsyncKiwoom {ours_async:7.0f} ({ours_async / base_async:.2f}x)"
            )
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
