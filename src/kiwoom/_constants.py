"""Every default of the HTTP clients, in one place."""

from __future__ import annotations

from urllib.parse import urlsplit

REAL = "https://api.kiwoom.com"
"""Kiwoom's real-trading REST host."""
MOCK = "https://mockapi.kiwoom.com"
"""Kiwoom's mock-trading (모의투자) REST host."""

ENV_APPKEY = "KIWOOM_APPKEY"
ENV_SECRETKEY = "KIWOOM_SECRETKEY"
ENV_DEBUG = "KIWOOM_DEBUG"
ENV_REDIS_URL = "KIWOOM_REDIS_URL"
"""A Redis URL: every client shares rate limits and its token through it (``kiwoom.redis``)."""
ENV_TOKEN_FILE = "KIWOOM_TOKEN_FILE"
"""A file path: without ``KIWOOM_REDIS_URL``, every client shares its token through it
(``kiwoom.FileTokenStore``)."""

DEFAULT_TIMEOUT = 10.0
"""Seconds for connect, read, write and pool waits, per attempt."""
DEFAULT_RETRIES = 3
"""Extra attempts of a query after the first (orders are never retried)."""
BACKOFF_BASE = 0.25
"""Seconds: the n-th retry waits a random time in [0, min(BACKOFF_MAX, BACKOFF_BASE * 2**n)]."""
BACKOFF_MAX = 8.0

TOKEN_REFRESH_MARGIN = 300.0
"""Seconds before ``expires_dt`` at which a token is re-issued proactively."""
KST_OFFSET_HOURS = 9
"""``expires_dt`` is Korea time (UTC+9)."""

MAX_CONNECTIONS = 50
"""Connections open at once per client; more concurrent calls wait for one (``pool`` timeout)."""
MAX_KEEPALIVE = 20
"""Idle keep-alive connections kept per client."""
KEEPALIVE_EXPIRY = 5.0
"""Seconds an idle connection is kept (httpx's default): a shorter idle time leaves less
chance that the server closes it just as an order is sent on it."""
MAX_ANSWER_BYTES = 64 * 1024 * 1024
"""An answer longer than this is abandoned (Kiwoom's largest pages are a few hundred KB)."""

CONTENT_TYPE = "application/json;charset=UTF-8"
TOKEN_PATH = "/oauth2/token"
REVOKE_PATH = "/oauth2/revoke"

LOGGER_NAME = "kiwoom"
LOG_BODY_LIMIT = 2000
"""Characters of a body shown in a debug log line."""


WEBSOCKET_PORT = 10000
"""Kiwoom serves its real-time sockets on this port of the REST hosts."""
WEBSOCKET_PATHS = {"domestic": "/api/dostk/websocket", "us": "/api/us/websocket"}


def websocket_url(host: str, region: str = "domestic") -> str:
    """The real-time socket URL for a REST host: ``wss://api.kiwoom.com:10000/api/dostk/websocket``
    for REAL; for any other base URL, the same host and port with ``ws``/``wss``."""
    try:
        path = WEBSOCKET_PATHS[region]
    except KeyError:
        raise ValueError(f"region must be 'domestic' or 'us', got {region!r}") from None
    parts = urlsplit(host)
    scheme = "wss" if parts.scheme == "https" else "ws"
    netloc = parts.netloc
    if host.rstrip("/") in (REAL, MOCK):
        netloc = f"{parts.hostname}:{WEBSOCKET_PORT}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}{path}"
