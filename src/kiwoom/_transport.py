"""Lean httpx transports for Kiwoom's exchanges: one POST, one whole answer, keep-alive.

httpx's default transports (httpcore + h11) spend most of a small call's CPU time in generic
machinery: event objects, per-header validation, two writes per request. Kiwoom's traffic
is narrow (HTTP/1.1 POSTs with a small JSON body, answers with a length or chunked body),
so these transports speak exactly that over the standard library's sockets (asyncio
streams for the async one) and return ordinary ``httpx.Response`` objects. For anything
they do not do (HTTP/2, client certificates) pass httpx's own transport to the
client: ``transport=httpx.HTTPTransport(...)`` or ``httpx.AsyncHTTPTransport(...)``. When
the environment names a proxy for the host (``HTTPS_PROXY``...), the clients take httpx's
transport through it by themselves.

Failures raise httpx's exceptions with the meaning the retry policy relies on:
``ConnectError``/``ConnectTimeout`` (nothing was sent), ``WriteError``/``WriteTimeout``,
``ReadError``/``ReadTimeout``/``RemoteProtocolError`` (the request may have been received).
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import ssl
import urllib.request
from typing import Any

import httpx

from ._constants import MAX_KEEPALIVE

__all__ = [
    "LeanAsyncTransport",
    "LeanTransport",
    "default_async_transport",
    "default_transport",
    "environment_proxy",
]

_READ_SIZE = 1 << 16
_Key = tuple[str, str, int]
_NO_BODY = frozenset({204, 304}) | frozenset(range(100, 200))


def _ssl_context() -> ssl.SSLContext:
    try:
        import certifi  # httpx's own CA bundle, so both transports trust the same roots

        return ssl.create_default_context(cafile=certifi.where())
    except ImportError:  # pragma: no cover - certifi ships with httpx
        return ssl.create_default_context()


def _key(url: httpx.URL) -> _Key:
    scheme = url.scheme
    if scheme not in ("http", "https"):
        raise httpx.UnsupportedProtocol(f"unsupported URL scheme {scheme!r}")
    return scheme, url.host, url.port or (443 if scheme == "https" else 80)


def _request_bytes(request: httpx.Request) -> bytes:
    head = [b"POST " if request.method == "POST" else request.method.encode() + b" "]
    head.append(request.url.raw_path)
    head.append(b" HTTP/1.1\r\n")
    for name, value in request.headers.raw:
        head += (name, b": ", value, b"\r\n")
    head.append(b"\r\n")
    head.append(request.read())
    return b"".join(head)


class _Head:
    """The status line and headers of an answer, and how its body is framed."""

    __slots__ = ("chunked", "headers", "keep_alive", "length", "reason", "status")

    def __init__(self, raw: bytes) -> None:
        lines = raw.split(b"\r\n")
        version, _, rest = lines[0].partition(b" ")
        code, _, self.reason = rest.partition(b" ")
        if not version.startswith(b"HTTP/1.") or not code.isdigit():
            raise httpx.RemoteProtocolError(f"malformed status line {lines[0][:80]!r}")
        self.status = int(code)
        self.length: int | None = None
        self.chunked = False
        self.keep_alive = version == b"HTTP/1.1"
        headers: list[tuple[bytes, bytes]] = []
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(b":")
            if not sep:
                raise httpx.RemoteProtocolError(f"malformed header line {line[:80]!r}")
            value = value.strip()
            headers.append((name, value))
            lower = name.lower()
            if lower == b"content-length":
                if not value.isdigit():
                    raise httpx.RemoteProtocolError(f"bad content-length {value[:40]!r}")
                self.length = int(value)
            elif lower == b"transfer-encoding":
                self.chunked = b"chunked" in value.lower()
            elif lower == b"connection":
                token = value.lower()
                if b"close" in token:
                    self.keep_alive = False
                elif b"keep-alive" in token:
                    self.keep_alive = True
        self.headers = headers
        if self.status in _NO_BODY:
            self.length, self.chunked = 0, False
        elif self.length is None and not self.chunked:
            self.keep_alive = False  # the body runs until the server closes

    def response(self, body: bytes) -> httpx.Response:
        return httpx.Response(
            self.status,
            headers=self.headers,
            stream=httpx.ByteStream(body),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": self.reason},
        )


def _timeouts(request: httpx.Request) -> dict[str, float | None]:
    timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
    return timeouts


# --- blocking -------------------------------------------------------------------------------


class _Conn:
    __slots__ = ("buffer", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def readable_while_idle(self) -> bool:
        """True when an idle connection has data or EOF waiting: it is no longer usable."""
        try:
            ready, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(ready)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def _recv(self) -> bytes:
        try:
            data = self.sock.recv(_READ_SIZE)
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "timed out reading the answer") from exc
        except OSError as exc:
            raise httpx.ReadError(str(exc)) from exc
        return data

    def _need(self, what: str) -> None:
        data = self._recv()
        if not data:
            raise httpx.RemoteProtocolError(f"server disconnected while sending the {what}")
        self.buffer += data

    def read_head(self) -> _Head:
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end >= 0:
                raw, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
                head = _Head(raw)
                if head.status == 100:
                    continue
                return head
            if not self.buffer:
                data = self._recv()
                if not data:
                    raise httpx.RemoteProtocolError("server disconnected without sending an answer")
                self.buffer = data
            else:
                self._need("headers")

    def read_exactly(self, n: int) -> bytes:
        while len(self.buffer) < n:
            self._need("body")
        body, self.buffer = self.buffer[:n], self.buffer[n:]
        return body

    def read_line(self) -> bytes:
        while (end := self.buffer.find(b"\r\n")) < 0:
            self._need("body")
        line, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
        return line

    def read_body(self, head: _Head) -> bytes:
        if head.length is not None and not head.chunked:
            return self.read_exactly(head.length)
        if head.chunked:
            parts: list[bytes] = []
            while True:
                size = int(self.read_line().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.read_line():  # trailers, up to the blank line
                        pass
                    return b"".join(parts)
                parts.append(self.read_exactly(size))
                self.read_line()
        while data := self._recv():
            self.buffer += data
        body, self.buffer = self.buffer, b""
        return body


class LeanTransport(httpx.BaseTransport):
    """Blocking HTTP/1.1 keep-alive transport (thread-safe; idle connections are pooled)."""

    def __init__(
        self, *, ssl_context: ssl.SSLContext | None = None, max_idle: int = MAX_KEEPALIVE
    ) -> None:
        self._ssl = ssl_context
        self._max_idle = max_idle
        self._idle: dict[_Key, list[_Conn]] = {}

    def _connect(self, key: _Key, timeout: float | None) -> _Conn:
        scheme, host, port = key
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc) or "timed out connecting") from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc)) from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if scheme == "https":
            if self._ssl is None:
                self._ssl = _ssl_context()
            try:
                sock = self._ssl.wrap_socket(sock, server_hostname=host)
            except TimeoutError as exc:
                sock.close()
                raise httpx.ConnectTimeout(str(exc) or "timed out in the TLS handshake") from exc
            except OSError as exc:
                sock.close()
                raise httpx.ConnectError(str(exc)) from exc
        return _Conn(sock)

    def _checkout(self, key: _Key, timeout: float | None) -> _Conn:
        idle = self._idle.get(key)
        while idle:
            try:
                conn = idle.pop()
            except IndexError:
                break
            if not conn.readable_while_idle():
                return conn
            conn.close()
        return self._connect(key, timeout)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        key = _key(request.url)
        timeouts = _timeouts(request)
        conn = self._checkout(key, timeouts.get("connect"))
        data = _request_bytes(request)
        sock = conn.sock
        try:
            sock.settimeout(timeouts.get("write"))
            try:
                sock.sendall(data)
            except TimeoutError as exc:
                raise httpx.WriteTimeout(str(exc) or "timed out sending the request") from exc
            except OSError as exc:
                raise httpx.WriteError(str(exc)) from exc
            sock.settimeout(timeouts.get("read"))
            head = conn.read_head()
            body = conn.read_body(head)
        except BaseException:
            conn.close()
            raise
        if head.keep_alive and not conn.buffer:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self._max_idle:
                idle.append(conn)
            else:
                conn.close()
        else:
            conn.close()
        return head.response(body)

    def close(self) -> None:
        idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()


# --- asyncio --------------------------------------------------------------------------------


class _AsyncConn:
    __slots__ = ("loop", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.loop = asyncio.get_running_loop()

    def stale(self) -> bool:
        """True when the server closed it, it holds a stray answer, or it belongs to another
        event loop (a client reused across ``asyncio.run`` calls)."""
        return (
            self.loop is not asyncio.get_running_loop()
            or self.reader.at_eof()
            or self.writer.is_closing()
            or bool(self.reader._buffer)  # type: ignore[attr-defined]
        )

    def close(self) -> None:
        # The loop it belongs to may be closed already: nothing is left to release then.
        with contextlib.suppress(RuntimeError):
            self.writer.close()

    async def read_head(self) -> _Head:
        while True:
            raw = await self.reader.readuntil(b"\r\n\r\n")
            head = _Head(raw[:-4])
            if head.status != 100:
                return head

    async def read_body(self, head: _Head) -> bytes:
        reader = self.reader
        if head.length is not None and not head.chunked:
            return await reader.readexactly(head.length)
        if head.chunked:
            parts: list[bytes] = []
            while True:
                line = await reader.readuntil(b"\r\n")
                size = int(line[:-2].split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while await reader.readuntil(b"\r\n") != b"\r\n":
                        pass
                    return b"".join(parts)
                parts.append(await reader.readexactly(size))
                await reader.readexactly(2)
        return await reader.read()


class LeanAsyncTransport(httpx.AsyncBaseTransport):
    """asyncio HTTP/1.1 keep-alive transport (idle connections are pooled)."""

    def __init__(
        self, *, ssl_context: ssl.SSLContext | None = None, max_idle: int = MAX_KEEPALIVE
    ) -> None:
        self._ssl = ssl_context
        self._max_idle = max_idle
        self._idle: dict[_Key, list[_AsyncConn]] = {}

    async def _connect(self, key: _Key) -> _AsyncConn:
        scheme, host, port = key
        context: Any = None
        if scheme == "https":
            if self._ssl is None:
                self._ssl = _ssl_context()
            context = self._ssl
        try:
            reader, writer = await asyncio.open_connection(
                host, port, ssl=context, server_hostname=host if context else None, limit=1 << 20
            )
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc) or "timed out connecting") from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc)) from exc
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _AsyncConn(reader, writer)

    async def _checkout(self, key: _Key, timeout: float | None) -> _AsyncConn:
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if not conn.stale():
                return conn
            conn.close()
        try:
            async with asyncio.timeout(timeout):
                return await self._connect(key)
        except TimeoutError as exc:
            if isinstance(exc, httpx.TimeoutException):
                raise
            raise httpx.ConnectTimeout("timed out connecting") from exc

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = _key(request.url)
        timeouts = _timeouts(request)
        conn = await self._checkout(key, timeouts.get("connect"))
        stage = "write"
        try:
            conn.writer.write(_request_bytes(request))
            async with asyncio.timeout(timeouts.get("write")):
                await conn.writer.drain()
            stage = "read"
            async with asyncio.timeout(timeouts.get("read")):
                head = await conn.read_head()
                body = await conn.read_body(head)
        except TimeoutError as exc:
            conn.close()
            if stage == "write":
                raise httpx.WriteTimeout("timed out sending the request") from exc
            raise httpx.ReadTimeout("timed out reading the answer") from exc
        except asyncio.IncompleteReadError as exc:
            conn.close()
            raise httpx.RemoteProtocolError("server disconnected before the answer ended") from exc
        except asyncio.LimitOverrunError as exc:
            conn.close()
            raise httpx.RemoteProtocolError("answer headers too long") from exc
        except OSError as exc:
            conn.close()
            raise (httpx.WriteError if stage == "write" else httpx.ReadError)(str(exc)) from exc
        except BaseException:
            conn.close()
            raise
        if head.keep_alive:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self._max_idle:
                idle.append(conn)
            else:
                conn.close()
        else:
            conn.close()
        return head.response(body)

    async def aclose(self) -> None:
        idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()


def environment_proxy(base_url: str) -> str | None:
    """The proxy the environment (``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``...) names for
    ``base_url``, or None. The lean transports speak to the host directly, so a client behind
    such a proxy takes httpx's own transport instead."""
    url = httpx.URL(base_url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if proxy and not urllib.request.proxy_bypass(url.host):
        return proxy
    return None


def default_transport(base_url: str) -> httpx.BaseTransport:
    proxy = environment_proxy(base_url)
    return httpx.HTTPTransport(proxy=proxy) if proxy else LeanTransport()


def default_async_transport(base_url: str) -> httpx.AsyncBaseTransport:
    proxy = environment_proxy(base_url)
    return httpx.AsyncHTTPTransport(proxy=proxy) if proxy else LeanAsyncTransport()
