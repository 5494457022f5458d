"""The relay end to end, beside the direct socket: throughput and the latency it adds.

A local Kiwoom-like socket (LOGIN, REG/REMOVE answered, then REAL frames as fast as it can)
feeds, in one run:

1. throughput, direct: one process on its own socket (``Realtime``), typed ticks of every frame;
2. throughput, relay: one relay process publishing to a throw-away redis-server, 4 consumer
   processes (``RelayClient``) each taking every tick; frames/s from the first frame sent to
   the last tick of the slowest consumer;
3. latency: the relay's 4 consumers and a direct consumer at once, fed paced probes (0B ticks
   numbered in ``acc_trde_qty``): send-to-tick time per probe, p50/p99 of each road, and the
   difference (what the relay adds: Redis, a second process, a second decode of the envelope).
   Every phase is bounded: a phase that does not finish says so.

The frames are bench/_realtime_frames.py's (70% 0B / 30% 0D, 1-3 items). Every process shares
the machine's cores, so the relay's figures include its 5 processes competing with each other.
Needs ``redis-server`` on the PATH.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _realtime_frames import frames as make_frames
from websockets.asyncio.server import ServerConnection, serve

HERE = Path(__file__).parent
WORKERS = HERE / "_relay_workers.py"
FRAMES = 20_000
CONSUMERS = 4
PROBES = 1_000
PROBE_RATE = 1_000.0  # probes per second
PROBE = 1_000_000_000


class Feed:
    """A socket that answers LOGIN and REG/REMOVE, and sends frames to whoever registered."""

    def __init__(self) -> None:
        self.registered: set[ServerConnection] = set()
        self.url = ""

    async def handler(self, ws: ServerConnection) -> None:
        try:
            async for raw in ws:
                msg = json.loads(raw)
                trnm = msg.get("trnm")
                if trnm in ("LOGIN", "REG", "REMOVE"):
                    await ws.send(json.dumps({"trnm": trnm, "return_code": 0, "return_msg": ""}))
                if trnm == "REG":
                    self.registered.add(ws)
        finally:
            self.registered.discard(ws)

    async def send(self, frames: list[str], rate: float | None = None) -> list[float]:
        """Send every frame to every registered socket; the send time of each frame."""
        times = []
        start = time.monotonic()
        for i, frame in enumerate(frames):
            if rate is not None:
                delay = start + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            times.append(time.monotonic())
            for ws in list(self.registered):
                await ws.send(frame)
        return times


def start_redis() -> tuple[subprocess.Popen[bytes], str]:
    exe = shutil.which("redis-server")
    if exe is None:
        sys.exit("bench/relay.py needs redis-server on the PATH")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", tempfile.gettempdir()],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    import redis

    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    client.close()
    return proc, f"redis://127.0.0.1:{port}/0"


SPAWNED: list[asyncio.subprocess.Process] = []


async def spawn(*args: str) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(WORKERS), *args, stdout=asyncio.subprocess.PIPE
    )
    SPAWNED.append(proc)
    return proc


async def ready(proc: asyncio.subprocess.Process) -> None:
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    if line.strip() != b"ready":
        raise SystemExit(f"a worker failed to start: {line!r}")


async def result(proc: asyncio.subprocess.Process) -> dict[str, Any]:
    assert proc.stdout is not None
    out, _ = await proc.communicate()
    return dict(json.loads(out.decode().strip().splitlines()[-1]))


async def wait_registered(feed: Feed, n: int) -> None:
    while len(feed.registered) < n:
        await asyncio.sleep(0.01)


def probe_frames(template: dict[str, Any]) -> list[str]:
    out = []
    for i in range(PROBES):
        values = dict(template["values"], **{"13": str(PROBE + i)})
        item = dict(template, values=values)
        out.append(json.dumps({"trnm": "REAL", "data": [item]}, ensure_ascii=False))
    return out


def percentiles(samples: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(samples, n=100)
    return q[49] * 1e3, q[98] * 1e3


async def main() -> None:
    frames = [f.decode() for f in make_frames(FRAMES)]
    items = sum(len(json.loads(f)["data"]) for f in frames)
    template = next(
        d for f in frames for d in json.loads(f)["data"] if d["type"] == "0B"
    )  # a 0B item, to number as probes
    probes = probe_frames(template)
    redis_proc, redis_url = start_redis()
    namespace = f"bench:{uuid.uuid4().hex[:8]}"
    feed = Feed()
    server = await serve(feed.handler, "127.0.0.1", 0, max_size=2**22)
    port = server.sockets[0].getsockname()[1]
    ws_url = f"ws://127.0.0.1:{port}/api/dostk/websocket"
    print(f"{FRAMES} REAL frames, {items} items (70% 0B / 30% 0D); {CONSUMERS} relay consumers;"
          f" load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    try:
        # 1. the direct socket
        direct = await spawn("direct", ws_url, str(items))
        await ready(direct)
        t0 = time.monotonic()
        await feed.send(frames)
        got = await result(direct)
        direct_rate = FRAMES / (got["last"] - t0)
        print(f"{'direct socket, 1 consumer':<34} {direct_rate:>10,.0f} frames/s"
              f"   {got['count']}/{items} ticks")  # fmt: skip

        # 2. the relay
        await spawn("relay", ws_url, redis_url, namespace)
        consumers = [
            await spawn("relay-consumer", redis_url, namespace, str(items))
            for _ in range(CONSUMERS)
        ]
        for c in consumers:
            await ready(c)
        await wait_registered(feed, 1)
        t0 = time.monotonic()
        await feed.send(frames)
        sent = time.monotonic() - t0
        results = [await result(c) for c in consumers]
        end = max(r["last"] for r in results)
        relay_rate = FRAMES / (end - t0)
        counts = "/".join(str(r["count"]) for r in results)
        lost = sum(r["lost"] + r["dropped"] for r in results)
        print(f"{'relay, ' + str(CONSUMERS) + ' consumers, end to end':<34} {relay_rate:>10,.0f}"
              f" frames/s   {relay_rate / direct_rate:.2f}x direct   ticks {counts} of {items}"
              f" each, {lost} lost; the relay took them in {sent:.2f}s")  # fmt: skip

        # 3. latency, both roads at once
        try:
            await asyncio.wait_for(latency(feed, ws_url, redis_url, namespace, probes), 120)
        except TimeoutError:
            print("latency: did not complete within 120 s")
    finally:
        for proc in SPAWNED:
            if proc.returncode is None:
                proc.terminate()
                await proc.wait()
        server.close()
        await server.wait_closed()
        redis_proc.terminate()
        redis_proc.wait()


async def latency(
    feed: Feed, ws_url: str, redis_url: str, namespace: str, probes: list[str]
) -> None:
    consumers = [
        await spawn("relay-consumer", redis_url, namespace, str(PROBES)) for _ in range(CONSUMERS)
    ]
    direct = await spawn("direct", ws_url, str(PROBES))
    for c in [*consumers, direct]:
        await ready(c)
    await wait_registered(feed, 2)
    sent_at = await feed.send(probes, PROBE_RATE)
    direct_got = await result(direct)
    relay_got = [await result(c) for c in consumers]

    def latencies(got: dict[str, Any]) -> list[float]:
        return [t - sent_at[i] for i, t in got["probes"]]

    d50, d99 = percentiles(latencies(direct_got))
    pooled = [x for r in relay_got for x in latencies(r)]
    r50, r99 = percentiles(pooled)
    print(f"latency at {PROBE_RATE:.0f} frames/s, send to typed tick, {PROBES} probes:")
    print(f"  {'direct socket':<30} p50 {d50:7.2f} ms   p99 {d99:7.2f} ms")
    print(f"  {'relay (4 consumers pooled)':<30} p50 {r50:7.2f} ms   p99 {r99:7.2f} ms")
    print(f"  {'added by the relay':<30} p50 {r50 - d50:7.2f} ms   p99 {r99 - d99:7.2f} ms")


if __name__ == "__main__":
    asyncio.run(main())
