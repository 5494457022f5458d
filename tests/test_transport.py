"""The clients' HTTP on real sockets (127.0.0.1, no internet): httpx's transports with our
pool limits, keep-alive, TLS trust and proxies from the environment, failures classified."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
from types import SimpleNamespace

import httpx
import pytest
from _raw_server import QUOTE, ScriptServer, answer, buy, order_answer, quote, run, token_answer

import kiwoom
from kiwoom import _http
from kiwoom.errors import (
    KiwoomError,
    OrderOutcomeUnknownError,
    RequestTimeoutError,
    TransportError,
)


def test_keep_alive_and_the_request_on_the_wire(serve, mode):
    server = serve(token_answer(), answer(QUOTE, "cont-yn: Y", "next-key: K2"))
    results = run(mode, server, quote, quote, quote)
    assert [r.stk_cd for r in results] == ["005930"] * 3
    assert server.connections == 1  # the token and three calls on one connection
    head, body = server.requests[1]
    assert head.startswith(b"POST /api/dostk/stkinfo HTTP/1.1\r\n")
    for line in (b"api-id: ka10001", b"authorization: Bearer T1", b"host: 127.0.0.1"):
        assert line in head
    assert body == b'{"stk_cd":"005930"}'


def test_chunked_and_close_delimited_answers(serve, mode):
    chunked = (
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
        b'7;ext=1\r\n{"stk_c\r\n' + b"%x\r\n" % (len(QUOTE) - 7) + QUOTE[7:] + b"\r\n"
        b"0\r\nx-trailer: 1\r\n\r\n"
    )
    until_close = b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n" + QUOTE
    server = ScriptServer([token_answer(), chunked, until_close, answer(QUOTE)], close_after={2})
    try:
        results = run(mode, server, quote, quote, quote)
    finally:
        server.stop()
    assert [r.stk_cd for r in results] == ["005930"] * 3
    assert server.connections == 2


def test_an_order_on_a_connection_the_server_closed_while_idle_is_sent(mode):
    # The server closes the order's connection after answering (without saying so): the
    # pooled connection is stale by the next order, and must be replaced before the order
    # is written, not fail it as unknown.
    first = token_answer("T1", "connection: close")
    server = ScriptServer([first, order_answer("0000001")], close_after={1})

    def closed(client: object) -> bool:
        return server.closed.wait(5)

    try:
        results = run(mode, server, buy, closed, buy)
    finally:
        server.stop()
    assert [r.ord_no for r in results[::2]] == ["0000001", "0000001"]
    assert server.connections == 3


def test_an_async_client_reused_across_event_loops(serve):
    server = serve(token_answer(), answer(QUOTE))
    client = kiwoom.AsyncKiwoom("app", "secret", host=server.url, limiter=False)

    async def once(last: bool = False) -> str:
        info = await quote(client)
        if last:
            await client._transport.aclose()
        return str(info.stk_cd)

    assert [asyncio.run(once(last=n == 2)) for n in range(3)] == ["005930"] * 3
    assert server.connections == 3  # a pooled connection never crosses to another loop


def test_a_disconnect_without_an_answer(serve, mode):
    server = serve(token_answer(), "close")
    [err] = run(mode, server, buy, retries=3)
    assert isinstance(err, OrderOutcomeUnknownError)
    assert server.api_ids() == [b"au10001", b"kt10000"]  # once, never retried

    server = serve(token_answer(), "close", "close", answer(QUOTE))
    [info] = run(mode, server, quote, retries=2)  # queries are retried
    assert info.stk_cd == "005930"


def test_a_read_timeout(serve, mode):
    server = serve(token_answer(), "hang")
    [err] = run(mode, server, quote, timeout=0.2)
    assert isinstance(err, RequestTimeoutError)
    [err] = run(mode, serve(token_answer(), "hang"), buy, timeout=0.2, retries=3)
    assert isinstance(err, OrderOutcomeUnknownError)


def test_a_refused_connection_sent_nothing(mode):
    sock = socket.create_server(("127.0.0.1", 0))
    closed = SimpleNamespace(url=f"http://127.0.0.1:{sock.getsockname()[1]}")
    sock.close()
    [err] = run(mode, closed, buy, retries=3)
    assert type(err) is TransportError  # not OrderOutcomeUnknownError: nothing left
    assert "ConnectError" in str(err)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_https_trusts_ssl_cert_file(tmp_path, monkeypatch, mode):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ScriptServer([token_answer(), answer(QUOTE)], tls=context)
    try:
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        [err] = run(mode, server, quote, retries=0)  # not trusted by the default roots
        assert isinstance(err, TransportError) and "CERTIFICATE" in str(err).upper()
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        [info] = run(mode, server, quote)
        assert info.stk_cd == "005930"
    finally:
        server.stop()


def test_a_proxy_named_by_the_environment(serve, monkeypatch, mode):
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    proxy = serve(token_answer(), answer(QUOTE))
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    target = SimpleNamespace(url="http://kiwoom.invalid")  # never resolved: only the proxy is
    [info] = run(mode, target, quote)
    assert info.stk_cd == "005930"
    assert proxy.requests[1][0].startswith(b"POST http://kiwoom.invalid/api/dostk/stkinfo ")

    monkeypatch.setenv("NO_PROXY", "kiwoom.invalid")
    [err] = run(mode, target, quote, retries=0)
    assert isinstance(err, TransportError)
    assert len(proxy.requests) == 2


def test_an_unusable_proxy_is_a_kiwoom_error(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "ftp://proxy.internal:21")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(KiwoomError, match="proxy"):
        kiwoom.Kiwoom("app", "secret", host="https://api.kiwoom.com")
    with pytest.raises(KiwoomError, match="proxy"):
        kiwoom.AsyncKiwoom("app", "secret", host="https://api.kiwoom.com")


def test_the_default_transports_are_httpx_own():
    assert isinstance(_http.default_transport("https://api.kiwoom.com"), httpx.HTTPTransport)
    transport = _http.default_async_transport("https://api.kiwoom.com")
    assert isinstance(transport, httpx.AsyncHTTPTransport)
