"""One benchmark worker: ``python _workers.py NAME URL`` prints client CPU µs per request.

Each worker runs in its own process (ours in the project's .venv; raw aiohttp and the
reference wrapper kiwoom-restful in bench/.venv, whose package is also named ``kiwoom``),
so ``time.process_time`` counts that client's CPU only; the server is a third process.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

DAILY = {"stk_cd": "005930", "base_dt": "20250908", "upd_stkpc_tp": "1"}
CALLS = {
    # api id -> (path, request body, requests per run)
    "ka10081": ("/api/dostk/chart", DAILY, 300),
    "ka10001": ("/api/dostk/stkinfo", {"stk_cd": "005930"}, 2000),
}
RUNS = 3
KEYS = ("bench-appkey", "bench-secretkey")


def measure(call) -> float:
    best = float("inf")
    for _ in range(RUNS):
        t = time.process_time()
        call()
        best = min(best, time.process_time() - t)
    return best


async def measure_async(call) -> float:
    best = float("inf")
    for _ in range(RUNS):
        t = time.process_time()
        await call()
        best = min(best, time.process_time() - t)
    return best


def kiwoom_sync(url: str) -> dict[str, float]:
    import kiwoom

    client = kiwoom.Kiwoom(*KEYS, host=url, limiter=False)
    out = {}
    for api_id, (_path, body, n) in CALLS.items():
        client.call(api_id, body)

        def run(api_id=api_id, body=body, n=n):
            for _ in range(n):
                client.call(api_id, body)

        out[api_id] = measure(run) / n * 1e6
    client.close()
    return out


async def kiwoom_async(url: str) -> dict[str, float]:
    import kiwoom

    out = {}
    async with kiwoom.AsyncKiwoom(*KEYS, host=url, limiter=False) as client:
        for api_id, (_path, body, n) in CALLS.items():
            await client.call(api_id, body)

            async def run(api_id=api_id, body=body, n=n):
                for _ in range(n):
                    await client.call(api_id, body)

            out[api_id] = await measure_async(run) / n * 1e6
    return out


def _headers(api_id: str) -> dict[str, str]:
    return {
        "api-id": api_id,
        "authorization": "Bearer x",
        "content-type": "application/json;charset=UTF-8",
    }


def httpx_sync(url: str) -> dict[str, float]:
    import httpx

    out = {}
    with httpx.Client() as client:
        for api_id, (path, body, n) in CALLS.items():
            client.post(url + path, json=body, headers=_headers(api_id)).json()

            def run(api_id=api_id, path=path, body=body, n=n):
                for _ in range(n):
                    client.post(url + path, json=body, headers=_headers(api_id)).json()

            out[api_id] = measure(run) / n * 1e6
    return out


async def httpx_async(url: str) -> dict[str, float]:
    import httpx

    out = {}
    async with httpx.AsyncClient() as client:
        for api_id, (path, body, n) in CALLS.items():
            (await client.post(url + path, json=body, headers=_headers(api_id))).json()

            async def run(api_id=api_id, path=path, body=body, n=n):
                for _ in range(n):
                    (await client.post(url + path, json=body, headers=_headers(api_id))).json()

            out[api_id] = await measure_async(run) / n * 1e6
    return out


async def aiohttp_raw(url: str) -> dict[str, float]:
    import aiohttp

    out = {}
    async with aiohttp.ClientSession() as session:
        for api_id, (path, body, n) in CALLS.items():

            async def once(api_id=api_id, path=path, body=body):
                async with session.post(url + path, json=body, headers=_headers(api_id)) as r:
                    return await r.json()

            await once()

            async def run(once=once, n=n):
                for _ in range(n):
                    await once()

            out[api_id] = await measure_async(run) / n * 1e6
    return out


async def reference(url: str) -> dict[str, float]:
    # kiwoom-restful 0.4.0 (in bench/.venv). Its API class accepts only Kiwoom's own hosts and
    # opens the WebSocket too; its HTTP client underneath makes the same requests.
    from kiwoom.http.client import Client

    api = Client(url, *KEYS)
    await api._connect(*KEYS)
    api._limiter.set(10**9)  # its 5/s spacing sleeps; we measure CPU, not the allowance
    out = {}
    for api_id, (path, body, n) in CALLS.items():
        await api.request(path, api_id, data=body)

        async def run(api_id=api_id, path=path, body=body, n=n):
            for _ in range(n):
                (await api.request(path, api_id, data=body)).json()

        out[api_id] = await measure_async(run) / n * 1e6
    await api.close()
    return out


WORKERS = {
    "kiwoom sync": kiwoom_sync,
    "kiwoom async": kiwoom_async,
    "raw httpx": httpx_sync,
    "raw httpx async": httpx_async,
    "raw aiohttp": aiohttp_raw,
    "kiwoom-restful 0.4.0": reference,
}

if __name__ == "__main__":
    name, url = sys.argv[1], sys.argv[2]
    worker = WORKERS[name]
    result = worker(url)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    print(json.dumps(result))
