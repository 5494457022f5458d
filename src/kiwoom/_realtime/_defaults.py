"""Every default of the real-time socket in one place: hosts, timings, limits."""

from __future__ import annotations

from .._constants import MOCK, REAL, websocket_url

DOMESTIC_URL = websocket_url(REAL)
"""Kiwoom's real-trading socket for domestic stocks (``wss://api.kiwoom.com:10000/...``)."""
DOMESTIC_MOCK_URL = websocket_url(MOCK)
"""The mock-trading (모의투자) socket; it serves KRX only."""
US_URL = websocket_url(REAL, "us")
"""The real-trading socket for US stocks."""

MAX_ITEMS_PER_REGISTRATION = 100
"""Kiwoom accepts at most 100 items (codes) in one REG request."""

BACKOFF_INITIAL = 0.5
"""Seconds before the first reconnect attempt; doubles with every failed attempt."""
BACKOFF_MAX = 30.0
"""Cap of the reconnect delay, in seconds."""
BACKOFF_JITTER = 0.5
"""Each delay is multiplied by a random factor in [1 - jitter, 1], so clients do not move
in step."""
STABLE_AFTER = 30.0
"""A connection that lived this long (seconds) resets the backoff; a shorter one does not, so a
server that accepts and then closes at once (Kiwoom closes with 1000 on rapid reconnects) still
sees growing delays instead of a storm."""

WATCHDOG = 120.0
"""Seconds without any frame (data, answers, Kiwoom's PINGs) after which a socket with active
subscriptions is taken for dead and replaced. Generous on purpose: a quiet market is not a dead
socket, and a dead TCP link is caught sooner by the WebSocket keepalive (websockets pings every
20 s and closes the connection when no pong comes back within 20 s)."""
REQUEST_TIMEOUT = 10.0
"""Seconds to wait for the answer to LOGIN, REG, REMOVE or a condition-search request."""

COMPRESSION: str | None = None
"""Per-message deflate is not offered (``"deflate"`` offers it; ``connect_options`` overrides).
Measured with ``bench/realtime_e2e.py`` on Kiwoom-shaped frames (about 2.3 kB of JSON): it cuts
the bytes to about a third but doubles the client's CPU per frame, and CPU is what bounds a
real-time client; whether Kiwoom's server would accept it cannot be checked offline."""

QUEUE_SIZE = 10_000
"""Ticks buffered per consumer (callback or stream); when full the oldest is dropped, counted."""
READ_TURN = 16
"""Frames the receive loop handles before it lets the consumers (streams, async callbacks) run.
In a burst the socket's reads never wait, so without a turn a stream got its ticks a hundred
frames or more at a time, long out of the CPU's cache: 15-25% more CPU per frame end to end
(``bench/realtime_e2e.py``), and later ticks."""
CALLBACK_BATCH = 256
"""At most this many ticks are handed to a sync callback's worker thread in one go."""
INLINE_CALLBACK_LIMIT = 0.001
"""Seconds a sync callback may take per call (on average over a frame's ticks) and still be
called on the loop, with no thread hop per tick; one that takes longer in three frames in a
row moves to a worker thread for good (logged)."""
