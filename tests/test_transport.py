"""The lean transports against a scripted HTTP server on 127.0.0.1 (real sockets, no internet)."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable

import httpx
import pytest

import kiwoom
from kiwoom._transport import LeanAsyncTransport, LeanTransport
from kiwoom.errors import OrderOutcomeUnknownError

Action = bytes | str  # bytes: send them; "close": close without answering; "hang": never answer


def answer(body: bytes = b'{"return_code":0,"return_msg":"ok"}', *extra: str) -> bytes:
    head = "".join(f"{h}\r\n" for h in extra)
    return (
        f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{head}"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode() + body


class ScriptServer:
    """Answers the n-th request with the n-th action; records requests and connections."""

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
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        if tls is not None:
            self._sock = tls.wrap_socket(self._sock, server_side=True)
            self.url = self.url.replace("http:", "https:").replace("127.0.0.1", "localhost")
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except ssl.SSLError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        with conn:
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
                    self._stop.wait(5)
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


@pytest.fixture
def serve():
    servers: list[ScriptServer] = []

    def make(actions: list[Action], close_after: set[int] | None = None) -> ScriptServer:
        servers.append(ScriptServer(actions, close_after))
        return servers[-1]

    yield make
    for s in servers:
        s.stop()


def _request(url: str, body: bytes = b'{"a":1}', read: float | None = 5.0) -> httpx.Request:
    return httpx.Request(
        "POST",
        url + "/api/dostk/chart",
        headers={"api-id": "ka10081", "content-type": "application/json"},
        content=body,
        extensions={"timeout": {"connect": 5.0, "read": read, "write": 5.0, "pool": 5.0}},
    )


def sync_send(url: str, n: int = 1, **kw) -> list[httpx.Response]:
    transport = LeanTransport()
    out = []
    for _ in range(n):
        response = transport.handle_request(_request(url, **kw))
        response.read()
        out.append(response)
    transport.close()
    return out


def async_send(url: str, n: int = 1, between: Callable[[], object] | None = None, **kw):
    async def main() -> list[httpx.Response]:
        transport = LeanAsyncTransport()
        out = []
        for _ in range(n):
            response = await transport.handle_async_request(_request(url, **kw))
            await response.aread()
            out.append(response)
            if between is not None:
                await asyncio.to_thread(between)
        await transport.aclose()
        return out

    return asyncio.run(main())


SENDERS = {"sync": sync_send, "async": async_send}


@pytest.fixture(params=["sync", "async"])
def send(request):
    return SENDERS[request.param]


def test_request_bytes_and_keep_alive(serve, send):
    server = serve([answer(b'{"x":1}', "cont-yn: Y", "next-key: K2")])
    responses = send(server.url, 3)
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert responses[0].content == b'{"x":1}'
    assert responses[0].headers["next-key"] == "K2"
    assert server.connections == 1  # one connection, reused
    head, body = server.requests[0]
    assert head.startswith(b"POST /api/dostk/chart HTTP/1.1\r\n")
    assert b"api-id: ka10081" in head and b"Host: 127.0.0.1" in head
    assert body == b'{"a":1}'


def test_chunked_answer(serve, send):
    chunked = (
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
        b'5\r\n{"a":\r\n4;ext=1\r\n 1}\n\r\n0\r\nx-trailer: 1\r\n\r\n'
    )
    server = serve([chunked])
    responses = send(server.url, 2)
    assert [r.content for r in responses] == [b'{"a": 1}\n'] * 2
    assert server.connections == 1


def test_connection_close_and_body_until_close(serve, send):
    server = serve([answer(b"{}", "connection: close"), b"HTTP/1.1 200 OK\r\n\r\n{}"], {0, 1})
    responses = send(server.url, 2)
    assert [r.content for r in responses] == [b"{}", b"{}"]
    assert server.connections == 2


def test_interim_100_continue_is_skipped(serve, send):
    server = serve([b"HTTP/1.1 100 Continue\r\n\r\n" + answer(b"{}")])
    assert send(server.url)[0].content == b"{}"


def test_idle_connection_closed_by_the_server_is_replaced(serve):
    server = serve([answer()], close_after={0})
    transport = LeanTransport()
    transport.handle_request(_request(server.url)).read()
    assert server.closed.wait(5)
    assert transport.handle_request(_request(server.url)).status_code == 200
    assert server.connections == 2
    server2 = serve([answer()], close_after={0})
    responses = async_send(server2.url, 2, between=lambda: server2.closed.wait(5))
    assert [r.status_code for r in responses] == [200, 200]
    assert server2.connections == 2


def test_async_client_reused_across_event_loops(serve):
    server = serve([answer()])
    transport = LeanAsyncTransport()

    async def once() -> int:
        response = await transport.handle_async_request(_request(server.url))
        await response.aread()
        return response.status_code

    assert [asyncio.run(once()) for _ in range(3)] == [200, 200, 200]
    assert server.connections == 3  # a pooled connection never crosses to another loop


def test_disconnect_without_answer(serve, send):
    server = serve(["close"])
    with pytest.raises(httpx.RemoteProtocolError):
        send(server.url)


def test_read_timeout(serve, send):
    server = serve(["hang"])
    with pytest.raises(httpx.ReadTimeout):
        send(server.url, read=0.1)


def test_connect_refused(send):
    sock = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
    with pytest.raises(httpx.ConnectError):
        send(url)


def _token() -> bytes:
    return answer(
        json.dumps(
            {"token": "T1", "token_type": "bearer", "expires_dt": "20991231235959",
             "return_code": 0, "return_msg": "ok"}
        ).encode()
    )  # fmt: skip


def test_clients_use_the_lean_transport_end_to_end(serve):
    body = json.dumps(
        {"stk_cd": "005930", "stk_dt_pole_chart_qry": [{"dt": "20250908", "cur_prc": "-1"}],
         "return_code": 0, "return_msg": "ok"}
    ).encode()  # fmt: skip
    server = serve([_token(), answer(body), answer()] * 2)
    args = {"stk_cd": "005930", "base_dt": "20250908", "upd_stkpc_tp": "1"}
    with kiwoom.Kiwoom("app", "secret", host=server.url, limiter=False) as client:
        assert client.chart.daily(**args).stk_dt_pole_chart_qry[0].cur_prc == 1

    async def main():
        async with kiwoom.AsyncKiwoom("app", "secret", host=server.url, limiter=False) as client:
            return await client.chart.daily(**args)

    assert asyncio.run(main()).stk_dt_pole_chart_qry[0].cur_prc == 1
    assert [h.split(b"api-id: ")[1][:7] for h, _ in server.requests] == [
        b"au10001", b"ka10081", b"au10002", b"au10001", b"ka10081", b"au10002",
    ]  # fmt: skip


def test_order_lost_on_a_real_socket_is_sent_once(serve):
    server = serve([_token(), "close"])
    order = {"dmst_stex_tp": "KRX", "stk_cd": "005930", "ord_qty": "1", "trde_tp": "3"}
    client = kiwoom.Kiwoom("app", "secret", host=server.url, limiter=False, retries=3)
    with pytest.raises(OrderOutcomeUnknownError):
        client.order.buy(**order)
    assert len(server.requests) == 2  # the token, and the order once
    client._transport.close()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_https_with_a_trusted_certificate(serve, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    server = ScriptServer([answer(b"{}")], tls=server_ctx)
    try:
        client_ctx = ssl.create_default_context(cafile=str(cert))
        transport = LeanTransport(ssl_context=client_ctx)
        for _ in range(2):
            response = transport.handle_request(_request(server.url))
            assert response.read() == b"{}"
        assert server.connections == 1
        transport.close()

        async def main() -> bytes:
            t = LeanAsyncTransport(ssl_context=client_ctx)
            response = await t.handle_async_request(_request(server.url))
            await t.aclose()
            return await response.aread()

        assert asyncio.run(main()) == b"{}"
        with pytest.raises(httpx.ConnectError):  # not trusted by the default roots
            LeanTransport().handle_request(_request(server.url))
    finally:
        server.stop()


def test_a_proxy_in_the_environment_routes_through_httpx(monkeypatch):
    from kiwoom._transport import default_async_transport, default_transport

    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert isinstance(default_transport("https://api.kiwoom.com"), LeanTransport)

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert isinstance(default_transport("https://api.kiwoom.com"), httpx.HTTPTransport)
    assert isinstance(default_async_transport("https://api.kiwoom.com"), httpx.AsyncHTTPTransport)

    monkeypatch.setenv("NO_PROXY", "api.kiwoom.com")
    assert isinstance(default_transport("https://api.kiwoom.com"), LeanTransport)
