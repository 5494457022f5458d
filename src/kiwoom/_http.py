"""The clients' HTTP: httpx's own transports (httpcore + h11), and the two guards we add.

The transports are ``httpx.HTTPTransport``/``AsyncHTTPTransport``: HTTP/1.1 keep-alive, the
pool limits of ``_constants``, the environment's trust settings (``SSL_CERT_FILE``,
``SSL_CERT_DIR``) and its proxy for the host (``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``).

What we add on top, because money moves over these connections:

- An answer followed by bytes past its end (past its ``Content-Length``, after its last
  chunk) must never be read as the answer to the next request: h11 keeps such bytes and
  parses them as the next response, so the connection that carried them is closed.
- One deadline per attempt: httpx's timeouts bound each network operation, so a server
  that trickles an endless answer could hold a call forever. The async client bounds the
  attempt with ``asyncio.timeout``; the blocking one clamps every socket operation to the
  time left (:func:`deadline`), and both stop reading an answer past ``MAX_ANSWER_BYTES``.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterable
from contextvars import ContextVar
from time import monotonic
from typing import Any

import httpcore
import httpx

from ._constants import KEEPALIVE_EXPIRY, MAX_ANSWER_BYTES, MAX_CONNECTIONS, MAX_KEEPALIVE
from ._errors import KiwoomError

__all__ = [
    "answer_body",
    "answer_body_async",
    "deadline",
    "default_async_transport",
    "default_transport",
    "environment_proxy",
    "has_stray_bytes",
]

_LIMITS = httpx.Limits(
    max_connections=MAX_CONNECTIONS,
    max_keepalive_connections=MAX_KEEPALIVE,
    keepalive_expiry=KEEPALIVE_EXPIRY,
)

deadline: ContextVar[float | None] = ContextVar("kiwoom_deadline", default=None)
"""``time.monotonic()`` by which the blocking client's current attempt must end (None: none)."""


def environment_proxy(base_url: str) -> str | None:
    """The proxy the environment (``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``...) names for
    ``base_url``, or None."""
    url = httpx.URL(base_url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if proxy and not urllib.request.proxy_bypass(url.host):
        return proxy
    return None


def _proxy_failure(base_url: str, exc: Exception) -> KiwoomError:
    # The proxy URL may carry a password: name the host and the reason only.
    return KiwoomError(f"the proxy the environment names for {base_url} is unusable: {exc}")


def default_transport(base_url: str) -> httpx.HTTPTransport:
    """httpx's blocking transport for ``base_url``, every attempt bounded by :data:`deadline`."""
    try:
        transport = httpx.HTTPTransport(limits=_LIMITS, proxy=environment_proxy(base_url))
    except (ImportError, ValueError) as exc:  # a SOCKS proxy without socksio, a bad URL
        raise _proxy_failure(base_url, exc) from None
    pool = getattr(transport, "_pool", None)
    # httpx takes no network backend; its pool does (a public httpcore interface).
    if pool is not None and hasattr(pool, "_network_backend"):
        pool._network_backend = _DeadlineBackend(pool._network_backend)
    return transport


def default_async_transport(base_url: str) -> httpx.AsyncHTTPTransport:
    """httpx's asyncio transport for ``base_url``."""
    try:
        return httpx.AsyncHTTPTransport(limits=_LIMITS, proxy=environment_proxy(base_url))
    except (ImportError, ValueError) as exc:
        raise _proxy_failure(base_url, exc) from None


# --- bytes past the end of an answer -----------------------------------------------------


def has_stray_bytes(response: httpx.Response) -> bool:
    """True when the connection that carried ``response`` (read to its end) already holds
    bytes past it. Call before closing the response, while the connection is still ours."""
    # No public API reaches h11's buffer: follow httpx's response stream to httpcore's HTTP/1.1
    # connection. Anything else (a mock transport, HTTP/2) answers False; the hostile-server
    # tests fail if a new httpx or httpcore moves these.
    stream = getattr(response.stream, "_httpcore_stream", None)  # httpx's ResponseStream
    stream = getattr(stream, "_stream", None)  # httpcore's PoolByteStream
    connection = getattr(stream, "_connection", None)  # HTTP11ConnectionByteStream
    h11_state = getattr(connection, "_h11_state", None)
    if h11_state is None:
        return False
    data, _closed = h11_state.trailing_data
    return bool(data)


def _too_long() -> httpx.RemoteProtocolError:
    return httpx.RemoteProtocolError(f"answer longer than {MAX_ANSWER_BYTES} bytes")


def answer_body(response: httpx.Response) -> bytes:
    """The whole (decoded) body, at most ``MAX_ANSWER_BYTES``."""
    parts: list[bytes] = []
    size = 0
    for part in response.iter_bytes():
        size += len(part)
        if size > MAX_ANSWER_BYTES:
            raise _too_long()
        parts.append(part)
    return b"".join(parts)


async def answer_body_async(response: httpx.Response) -> bytes:
    """The whole (decoded) body, at most ``MAX_ANSWER_BYTES``."""
    parts: list[bytes] = []
    size = 0
    async for part in response.aiter_bytes():
        size += len(part)
        if size > MAX_ANSWER_BYTES:
            raise _too_long()
        parts.append(part)
    return b"".join(parts)


# --- the blocking client's deadline ------------------------------------------------------


def _left(timeout: float | None, late: type[Exception]) -> float | None:
    """``timeout`` clamped to the time left before :data:`deadline`; ``late`` once it passed."""
    end = deadline.get()
    if end is None:
        return timeout
    left = end - monotonic()
    if left <= 0:
        raise late("the attempt took longer than its timeout")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    __slots__ = ("_inner",)

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(
            ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    __slots__ = ("_inner",)

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.connect_tcp(
            host, port, _left(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return _DeadlineStream(inner)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        inner = self._inner.connect_unix_socket(
            path, _left(timeout, httpcore.ConnectTimeout), socket_options
        )
        return _DeadlineStream(inner)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
