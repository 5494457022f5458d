"""A scripted HTTP server on 127.0.0.1 that answers with raw bytes, wrong ones on purpose,
and :func:`run`, which drives either client against it.

The n-th request gets the n-th action: bytes to send, ``"close"`` (close without answering),
``"hang"`` (never answer) or a callable given the socket (to trickle, to send forever).
It records every request (head, body) and counts connections.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import socket
import ssl
import threading
from collections.abc import Callable
from typing import Any

import pytest

import kiwoom
from kiwoom.errors import KiwoomError

Action = bytes | str | Callable[[socket.socket, threading.Event], None]

OK_BODY = b'{"return_code":0,"return_msg":"ok"}'


def answer(body: bytes = OK_BODY, *extra: str, status: str = "200 OK") -> bytes:
    """A well-formed answer with a Content-Length and the ``extra`` header lines."""
    head = "".join(f"{h}\r\n" for h in extra)
    return (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json;charset=UTF-8\r\n{head}"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode() + body


def token_answer(token: str = "T1", *extra: str) -> bytes:
    """An au10001 answer issuing ``token``, with the ``extra`` header lines."""
    return answer(
        json.dumps(
            {"token": token, "token_type": "bearer", "expires_dt": "20991231235959",
             "return_code": 0, "return_msg": "ok"}
        ).encode(),
        *extra,
    )  # fmt: skip


def order_answer(ord_no: str) -> bytes:
    """A kt10000 answer placing order ``ord_no``."""
    body = {"ord_no": ord_no, "dmst_stex_tp": "KRX", "return_code": 0, "return_msg": "ok"}
    return answer(json.dumps(body).encode())


class ScriptServer:
    """Answers the n-th request with the n-th action (the last one repeats)."""

    def __init__(
        self,
        actions: list[Action],
        close_after: set[int] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.actions = actions
        self.close_after = close_after or set()
        self.requests: list[tuple[bytes, bytes]] = []
        self.connections = 0
        self.closed = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        if tls is not None:
            self._sock = tls.wrap_socket(self._sock, server_side=True)
            self.url = f"https://localhost:{self.port}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._start(self._accept)

    def _start(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def api_ids(self) -> list[bytes]:
        """The ``api-id`` header of every request received, in order."""
        return [h.split(b"api-id: ")[1][:7] for h, _ in self.requests]

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except ssl.SSLError:
                continue
            except OSError:
                return
            self.connections += 1
            self._start(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        with conn:
            try:
                self._answer_all(conn, buf)
            except OSError:  # the client gave up: what the hostile tests want
                return

    def _answer_all(self, conn: socket.socket, buf: bytes) -> None:
        while True:
            while b"\r\n\r\n" not in buf:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            head, buf = buf.split(b"\r\n\r\n", 1)
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(buf) < length:
                buf += conn.recv(65536)
            body, buf = buf[:length], buf[length:]
            index = len(self.requests)
            self.requests.append((head, body))
            action = self.actions[min(index, len(self.actions) - 1)]
            if action == "close":
                self.closed.set()
                return
            if action == "hang":
                self._stop.wait(10)
                return
            if callable(action):
                action(conn, self._stop)
                return
            assert isinstance(action, bytes)
            conn.sendall(action)
            if index in self.close_after:
                conn.shutdown(socket.SHUT_RDWR)
                self.closed.set()
                return

    def stop(self) -> None:
        self._stop.set()
        self._sock.close()
        for thread in self._threads[1:]:
            thread.join(5)


ORDER = {"dmst_stex_tp": "KRX", "stk_cd": "005930", "ord_qty": "1", "trde_tp": "3"}
QUOTE = b'{"stk_cd":"005930","stk_nm":"\xec\x82\xbc\xec\x84\xb1","return_code":0,"return_msg":"ok"}'


def buy(client: Any) -> Any:
    return client.order.buy(**ORDER)


def quote(client: Any) -> Any:
    return client.stock_info.basic_info(stk_cd="005930")


def run(mode: str, server: Any, *calls: Callable[[Any], Any], **options: Any) -> list:
    """Each call on one client, in order: its result, or the exception it raised (always a
    KiwoomError). The token is never revoked, so the server's script is all the calls'."""
    options = {"limiter": False, "retries": 0, "timeout": 5.0} | options
    out: list[Any] = []
    if mode == "sync":
        client = kiwoom.Kiwoom("app", "secret", host=server.url, **options)
        for call in calls:
            try:
                out.append(call(client))
            except Exception as exc:
                out.append(exc)
        client._transport.close()
    else:

        async def main() -> None:
            client = kiwoom.AsyncKiwoom("app", "secret", host=server.url, **options)
            for call in calls:
                try:
                    result = call(client)
                    out.append(await result if inspect.isawaitable(result) else result)
                except Exception as exc:
                    out.append(exc)
            await client._transport.aclose()

        asyncio.run(main())
    for result in out:
        if isinstance(result, BaseException):
            assert isinstance(result, KiwoomError), repr(result)
    return out


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def serve():
    servers: list[ScriptServer] = []

    def make(*actions: Action) -> ScriptServer:
        servers.append(ScriptServer(list(actions)))
        return servers[-1]

    yield make
    for server in servers:
        server.stop()
