"""The simulator: a Starlette app served by uvicorn in a background thread."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any

import msgspec
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp
from starlette.websockets import WebSocket

from .._constants import REVOKE_PATH, TOKEN_PATH, WEBSOCKET_PATHS
from ._account import Account
from ._clock import Clock
from ._faults import Faults, Stats
from ._market import Market, Quote
from ._rest import RestApp, stamp_arrival
from ._socket import Session

__all__ = ["Simulator"]


class Simulator:
    """A Kiwoom-compatible server on 127.0.0.1: REST, real-time socket, market and account.

    >>> with Simulator(seed=7) as sim:
    ...     client = kiwoom.Kiwoom(host=sim.url, appkey="any", secretkey="any")

    ``seed`` fixes every price; ``start`` (a KST datetime, default now or 10:00 of the last
    weekday outside market hours) and ``speed`` (simulated seconds per second; 0 stops the
    clock, ``sim.clock.advance(s)`` steps it) fix the clock. ``limits`` rejects calls past
    ``query_per_second``/``order_per_second`` per app key (1701) and ``per_api_limits``
    (1700). ``real_rate`` is REAL frames per second per socket; ``real_every_push`` sends
    trades on every push even when no new trade happened (for benchmarks). ``chart_rows``
    caps the rows of one chart page (default: Kiwoom's 600 daily, 900 intraday).
    """

    def __init__(
        self,
        seed: int = 7,
        speed: float = 1.0,
        host: str = "127.0.0.1",
        port: int = 0,
        limits: bool = True,
        *,
        start: dt.datetime | None = None,
        query_per_second: float = 5.0,
        order_per_second: float = 5.0,
        per_api_limits: Mapping[str, float] | None = None,
        token_ttl: float = 86400.0,
        real_rate: float = 4.0,
        real_every_push: bool = False,
        ping_interval: float = 10.0,
        cash: int = 1_000_000_000,
        chart_rows: int | None = None,
    ) -> None:
        self.seed = seed
        self.host = host
        self.limits = limits
        self.query_per_second = query_per_second
        self.order_per_second = order_per_second
        self.per_api_limits: dict[str, float] = dict(per_api_limits or {})
        self.token_ttl = token_ttl
        self.real_rate = real_rate
        self.real_every_push = real_every_push
        self.ping_interval = ping_interval
        self.chart_rows = chart_rows
        self.clock = Clock(start, speed)
        self.market = Market(seed, self.clock)
        self.account = Account(self.market, cash=cash)
        self.faults = Faults()
        self.stats = Stats()
        self.rest = RestApp(self)
        self.sessions: set[Session] = set()
        self._port = port
        self._connects: collections.deque[float] = collections.deque()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.account.listeners.append(self._account_event)

    # -- addresses --------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """The REST base URL: ``Kiwoom(host=sim.url)``."""
        return f"http://{self.host}:{self._port}"

    @property
    def ws_url(self) -> str:
        """The domestic real-time socket URL."""
        return f"ws://{self.host}:{self._port}{WEBSOCKET_PATHS['domestic']}"

    @property
    def us_ws_url(self) -> str:
        return f"ws://{self.host}:{self._port}{WEBSOCKET_PATHS['us']}"

    # -- the app ----------------------------------------------------------------------------

    def app(self) -> ASGIApp:
        """The ASGI app (serve it yourself, or use :meth:`start`)."""
        rest_paths = [TOKEN_PATH, REVOKE_PATH, *self.rest.paths]
        routes: list[Any] = [Route(p, self.rest.handle, methods=["POST"]) for p in rest_paths]
        routes += [
            Route("/sim/faults", self._faults_endpoint, methods=["POST"]),
            Route("/sim/stats", self._stats_endpoint, methods=["GET"]),
            WebSocketRoute(WEBSOCKET_PATHS["domestic"], self._socket("domestic")),
            WebSocketRoute(WEBSOCKET_PATHS["us"], self._socket("us")),
        ]
        return stamp_arrival(Starlette(routes=routes))

    def _socket(self, region: str) -> Any:
        async def endpoint(ws: WebSocket) -> None:
            await Session(self, ws, region).run()

        return endpoint

    async def _faults_endpoint(self, request: Request) -> Response:
        try:
            body = msgspec.json.decode(await request.body())
            self.faults.apply(str(body["action"]), dict(body.get("args") or {}))
        except (msgspec.DecodeError, KeyError, TypeError, ValueError) as exc:
            return JSONResponse({"ok": False, "error": str(exc)}, 400)
        return JSONResponse({"ok": True})

    async def _stats_endpoint(self, _request: Request) -> Response:
        return JSONResponse(self.stats.as_dict())

    # -- running ----------------------------------------------------------------------------

    def start(self) -> Simulator:
        """Serve in a background thread; returns once the port is bound and serving."""
        if self._thread is not None:
            raise RuntimeError("the simulator is already running")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._port))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app(),
            log_level="warning",
            lifespan="off",
            access_log=False,
            ws="websockets-sansio",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._serve(sock)), name="kiwoom-sim", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the simulator did not start")
            time.sleep(0.005)
        return self

    async def _serve(self, sock: socket.socket) -> None:
        self._loop = asyncio.get_running_loop()
        sweeper = asyncio.create_task(self._sweep())
        try:
            assert self._server is not None
            await self._server.serve(sockets=[sock])
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            sock.close()

    async def _sweep(self) -> None:
        """Match resting orders against the simulated trades as the clock runs."""
        while True:
            await asyncio.sleep(0.1)
            if any(o.open for o in list(self.account.orders.values())):
                await asyncio.to_thread(self.account.sweep)

    def serve(self) -> None:
        """Serve in the foreground until interrupted (Ctrl-C), then stop cleanly."""
        self.start()
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def stop(self) -> None:
        """Close every socket (1001) and stop serving."""
        if self._thread is None or self._server is None:
            return
        loop = self._loop
        if loop is not None and loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self._close_sessions(), loop)
            with contextlib.suppress(Exception):
                future.result(timeout=5)
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._thread = None

    async def _close_sessions(self) -> None:
        await asyncio.gather(*(s.close(1001) for s in list(self.sessions)), return_exceptions=True)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Simulator:
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    def __repr__(self) -> str:
        state = "running" if self._thread else "stopped"
        return f"<Simulator {self.url} seed={self.seed} {state}>"

    # -- shared by REST and socket ----------------------------------------------------------

    def rapid_reconnect(self) -> bool:
        """Record a connection; True when it exceeds ``faults.reconnect_limit``."""
        now = time.monotonic()
        self._connects.append(now)
        limit = self.faults.reconnect_limit
        if limit is None:
            return False
        count, window = limit
        while self._connects and now - self._connects[0] > window:
            self._connects.popleft()
        return len(self._connects) > count

    def realtime_context(self, q: Quote) -> dict[str, Any]:
        """The fields of real-time values for a quote (trade, order book, index...)."""
        ctx = self.rest.quote_context(q)
        ctx["trde_qty"] = q.last_volume
        ctx["cntr_str"] = 100.0
        asks, bids = self.market.order_book(q.code)
        div = 100 if self.market.instrument(q.code).scale else 1
        for i in range(10):
            ask = asks[i] if i < len(asks) else (0, 0)
            bid = bids[i] if i < len(bids) else (0, 0)
            ctx[f"sel_{i + 1}bid"] = ask[0] / div if div > 1 else ask[0]
            ctx[f"sel_{i + 1}bid_req"] = ask[1]
            ctx[f"buy_{i + 1}bid"] = bid[0] / div if div > 1 else bid[0]
            ctx[f"buy_{i + 1}bid_req"] = bid[1]
            ctx[f"sel_{i + 1}bid_jub_pre"] = 0
            ctx[f"buy_{i + 1}bid_jub_pre"] = 0
        ctx["tot_sel_req"] = sum(a[1] for a in asks)
        ctx["tot_buy_req"] = sum(b[1] for b in bids)
        ctx["bid_tm"] = q.time.time()
        return ctx

    def condition_matches(self, seq: str) -> list[str]:
        """Codes matching a saved condition (see ``_socket.CONDITIONS``) right now."""
        out = []
        for inst in self.market.instruments.values():
            if inst.market not in ("KOSPI", "KOSDAQ"):
                continue
            if seq == "3":
                if inst.name.startswith("삼성"):
                    out.append(inst.code)
                continue
            q = self.market.quote(inst.code)
            if (
                (seq == "0" and q.rate >= 1.0)
                or (seq == "1" and q.rate <= -1.0)
                or (seq == "2" and q.price >= 50000 and inst.shares >= 100_000_000)
            ):
                out.append(inst.code)
        return out

    def _account_event(self, rt_type: str, _item: str, ctx: dict[str, Any]) -> None:
        loop = self._loop
        if loop is None or not self.sessions:
            return
        item = str(ctx.get("stk_cd", ""))

        def deliver() -> None:
            for s in list(self.sessions):
                loop.create_task(s.event(rt_type, item, ctx))

        loop.call_soon_threadsafe(deliver)
