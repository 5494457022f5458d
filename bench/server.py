"""A Kiwoom-like HTTP/1.1 server for benchmarks, run in a process of its own.

Standard library only (asyncio), keep-alive, every response prepared in advance, so it is
never the bottleneck and costs the measured client no CPU time:

- ``POST /oauth2/token`` (au10001): a fresh random token; ``POST /oauth2/revoke`` (au10002).
- ``POST /api/...``: the canned body of the request's ``api-id`` header (a small default for
  ids without one), with the response headers ``api-id``, ``cont-yn: N``, ``next-key:``.
- Records the arrival of every request to those paths: ``time.monotonic()`` when its head
  was read (one clock for every process of the machine), api id and status.
- ``GET /_arrivals``: ``{"arrivals": [[t, api_id, status], ...]}``.
- ``POST /_reset``: forgets the arrivals; a JSON body ``{"total": 5, "per_api": {"ka10081": 1}}``
  makes the server enforce those calls per second in any 1-second window like Kiwoom does:
  HTTP 429 with ``return_code`` 5 and ``[1700:... 유량=1, API ID=ka10081]`` (``1701`` for the
  total). Rejected calls do not count against the window.

    base_url, stop = start_server({"ka10081": chart_body()})
    ...
    stop()

Run directly: ``python bench/server.py [--bodies DIR]`` (DIR holds ``<api-id>.json`` files);
it prints ``PORT <n>`` once it listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from _bodies import default_body

_OK = "정상적으로 처리되었습니다"
_TOO_MANY = "허용된 요청 개수를 초과하였습니다."
_JSON = b"application/json;charset=UTF-8"


def _response(status: int, body: bytes, headers: Mapping[str, str] | None = None) -> bytes:
    reason = {200: "OK", 404: "Not Found", 429: "Too Many Requests"}[status]
    lines = [f"HTTP/1.1 {status} {reason}".encode()]
    lines.append(b"content-type: " + _JSON)
    lines.append(b"content-length: " + str(len(body)).encode())
    lines += [f"{k}: {v}".encode() for k, v in (headers or {}).items()]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def _api_response(api_id: str, body: bytes) -> bytes:
    return _response(200, body, {"api-id": api_id, "cont-yn": "N", "next-key": ""})


class _Window:
    """Calls let through in the last second, for the server's own rate limits."""

    def __init__(self, per_second: float) -> None:
        self.allowed = int(per_second)
        self.times: collections.deque[float] = collections.deque()

    def admits(self, now: float) -> bool:
        while self.times and self.times[0] <= now - 1.0:
            self.times.popleft()
        return len(self.times) < self.allowed


class _State:
    def __init__(self, bodies: Mapping[str, bytes]) -> None:
        self.responses = {k: _api_response(k, v) for k, v in bodies.items()}
        self.default = default_body()
        self.arrivals: list[tuple[float, str, int]] = []
        self.total: _Window | None = None
        self.per_api: dict[str, _Window] = {}

    def api(self, api_id: str, now: float) -> bytes:
        rejected = self._reject(api_id, now)
        if rejected is not None:
            self.arrivals.append((now, api_id, 429))
            return rejected
        self.arrivals.append((now, api_id, 200))
        response = self.responses.get(api_id)
        if response is None:
            response = self.responses[api_id] = _api_response(api_id, self.default)
        return response

    def _reject(self, api_id: str, now: float) -> bytes | None:
        windows = {1701: self.total, 1700: self.per_api.get(api_id)}
        for code, window in windows.items():
            if window is not None and not window.admits(now):
                msg = f"[{code}:{_TOO_MANY} 유량={window.allowed}, API ID={api_id}]"
                body = json.dumps({"return_code": 5, "return_msg": msg}, ensure_ascii=False)
                return _response(429, body.encode(), {"api-id": api_id})
        for window in windows.values():
            if window is not None:
                window.times.append(now)
        return None

    def reset(self, body: bytes) -> None:
        self.arrivals.clear()
        limits: dict[str, Any] = json.loads(body) if body.strip() else {}
        total = limits.get("total")
        self.total = _Window(total) if total else None
        self.per_api = {k: _Window(v) for k, v in limits.get("per_api", {}).items()}


class _Connection(asyncio.Protocol):
    def __init__(self, state: _State) -> None:
        self.state = state
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.head_seen = 0.0  # when the head of the pending request was complete

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            if not self.head_seen:
                self.head_seen = time.monotonic()
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            method, path, _ = head[0].split(" ", 2)
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            size = int(headers.get("content-length", "0"))
            if len(self.buffer) < end + 4 + size:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + size])
            del self.buffer[: end + 4 + size]
            arrived, self.head_seen = self.head_seen, 0.0
            assert self.transport is not None
            self.transport.write(self._answer(method, path, headers, body, arrived))
            if headers.get("connection", "").lower() == "close":
                self.transport.close()
                return

    def _answer(
        self, method: str, path: str, headers: dict[str, str], body: bytes, arrived: float
    ) -> bytes:
        state = self.state
        if path.startswith("/api/"):
            return state.api(headers.get("api-id", ""), arrived)
        if path == "/oauth2/token":
            state.arrivals.append((arrived, "au10001", 200))
            token = {
                "expires_dt": "20991231235959",
                "token_type": "bearer",
                "token": secrets.token_urlsafe(48),
                "return_code": 0,
                "return_msg": _OK,
            }
            return _api_response("au10001", json.dumps(token, ensure_ascii=False).encode())
        if path == "/oauth2/revoke":
            state.arrivals.append((arrived, "au10002", 200))
            revoked = json.dumps({"return_code": 0, "return_msg": _OK}, ensure_ascii=False)
            return _api_response("au10002", revoked.encode())
        if path == "/_arrivals" and method == "GET":
            return _response(200, json.dumps({"arrivals": state.arrivals}).encode())
        if path == "/_reset" and method == "POST":
            state.reset(body)
            return _response(200, b"{}")
        return _response(404, b'{"return_code":1,"return_msg":"not found"}')


async def _serve(bodies: Mapping[str, bytes], port: int) -> None:
    state = _State(bodies)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Connection(state), "127.0.0.1", port)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bodies", type=Path, help="a directory of <api-id>.json bodies")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    bodies = (
        {p.stem: p.read_bytes() for p in sorted(args.bodies.glob("*.json"))} if args.bodies else {}
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(bodies, args.port))


def start_server(bodies: Mapping[str, bytes] | None = None) -> tuple[str, Callable[[], None]]:
    """Start the server in a new process on a free port; return its base URL and a stopper."""
    folder = tempfile.TemporaryDirectory(prefix="kiwoom-bench-")
    for api_id, body in (bodies or {}).items():
        (Path(folder.name) / f"{api_id}.json").write_bytes(body)
    proc = subprocess.Popen(
        [sys.executable, __file__, "--bodies", folder.name],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).parent,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    if not line.startswith("PORT "):
        proc.kill()
        folder.cleanup()
        raise RuntimeError(f"bench server did not start: {line!r}")

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        folder.cleanup()

    return f"http://127.0.0.1:{int(line.split()[1])}", stop


def arrivals(base_url: str) -> list[tuple[float, str, int]]:
    """Every recorded arrival since the last reset: (monotonic time, api id, status)."""
    with urllib.request.urlopen(f"{base_url}/_arrivals") as resp:
        return [(t, a, s) for t, a, s in json.load(resp)["arrivals"]]


def reset(base_url: str, limits: Mapping[str, Any] | None = None) -> None:
    """Forget the arrivals; enforce ``limits`` (``{"total": 5, "per_api": {...}}``) if given."""
    data = json.dumps(limits or {}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{base_url}/_reset", data=data)):
        pass


if __name__ == "__main__":
    _main()
