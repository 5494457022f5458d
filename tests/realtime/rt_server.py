"""An in-process Kiwoom WebSocket server speaking the real-time protocol, with faults on demand.

Login (accept or reject by token), PING (checks the echo), REG/REMOVE acks, REAL frames,
condition search (CNSRLST, CNSRREQ one-shot and real-time, CNSRCLR) and faults: drop the
connection, go silent, send malformed frames, reject logins, close with code 1000.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from kiwoom import catalog

GOOD_TOKEN = "good-token"
MAX_ITEMS = 100  # items Kiwoom accepts in one REG or REMOVE request

CONDITIONS = [["0", "거래량급증"], ["1", "신고가"]]
MATCHES = {"0": ["005930", "000660"], "1": ["035420"]}


def condition_row(code: str) -> dict[str, str]:
    return {
        "9001": "A" + code,
        "302": "삼성전자",
        "10": "-000072500",
        "25": "5",
        "11": "-00000100",
        "12": "-00000138",
        "13": "000012345",
        "16": "+000072600",
        "17": "+000073000",
        "18": "-000072000",
    }


class KiwoomServer:
    """The fixture server. ``url`` once started; every connection and frame is recorded."""

    def __init__(self, path: str = "/api/dostk/websocket") -> None:
        self.path = path
        self.accepted_tokens = {GOOD_TOKEN}
        self.answer = True  # False: accept frames but answer nothing (a silent server)
        self.reg_code = 0  # non-zero: reject REG with this code
        self.oversized = 0  # REG/REMOVE requests rejected for carrying over MAX_ITEMS items
        # trnm names whose answers a SYSTEM frame precedes (the real server sends one at LOGIN)
        self.system_before: set[str] = set()
        self.connect_times: list[float] = []
        self.logins: list[str] = []
        self.received: list[Any] = []
        self.pongs: list[str] = []
        self.registered: dict[str, set[tuple[str, str]]] = {}  # of the current connection
        self.ws: ServerConnection | None = None
        self.logged_in = asyncio.Event()
        self._server: Any = None
        self.url = ""

    async def __aenter__(self) -> KiwoomServer:
        self._server = await serve(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}{self.path}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, ws: ServerConnection) -> None:
        self.connect_times.append(time.monotonic())
        self.ws = ws
        self.registered = {}
        self.logged_in.clear()
        try:
            async for raw in ws:
                msg = json.loads(raw)
                self.received.append(msg)
                if not self.answer:
                    continue
                await self._answer(ws, msg, raw)
        except Exception:
            pass

    async def _answer(self, ws: ServerConnection, msg: dict[str, Any], raw: str | bytes) -> None:
        trnm = msg.get("trnm")
        if trnm in self.system_before:
            await self.system(ws, "R10001", "연결되었습니다")
        if trnm == "LOGIN":
            self.logins.append(msg["token"])
            if msg["token"] in self.accepted_tokens:
                await ws.send(json.dumps({"trnm": "LOGIN", "return_code": 0, "return_msg": ""}))
                self.logged_in.set()
            else:
                await ws.send(
                    json.dumps({"trnm": "LOGIN", "return_code": 8005, "return_msg": "토큰 만료"})
                )
                await ws.close()
        elif trnm == "PING":
            self.pongs.append(raw if isinstance(raw, str) else raw.decode())
        elif trnm in ("REG", "REMOVE"):
            if trnm == "REG" and self.reg_code:
                await ws.send(
                    json.dumps({"trnm": trnm, "return_code": self.reg_code, "return_msg": "no"})
                )
                return
            if any(len(d["item"]) > MAX_ITEMS for d in msg["data"]):
                self.oversized += 1
                await ws.send(
                    json.dumps({"trnm": trnm, "return_code": 1, "return_msg": "over 100 items"})
                )
                return
            if trnm == "REG" and msg.get("refresh") == "0":
                self.registered.pop(msg["grp_no"], None)
            pairs = self.registered.setdefault(msg["grp_no"], set())
            for d in msg["data"]:
                for t in d["type"]:
                    for item in d["item"]:
                        if trnm == "REG":
                            pairs.add((t, item))
                        else:
                            pairs.discard((t, item))
            await ws.send(json.dumps({"trnm": trnm, "return_code": 0, "return_msg": ""}))
        elif trnm == "CNSRLST":
            await ws.send(
                json.dumps(
                    {"trnm": "CNSRLST", "return_code": 0, "return_msg": "", "data": CONDITIONS},
                    ensure_ascii=False,
                )
            )
        elif trnm == "CNSRREQ":
            seq = msg["seq"]
            codes = MATCHES.get(seq, [])
            if msg["search_type"] == "0":
                body = {
                    "trnm": "CNSRREQ",
                    "seq": seq,
                    "cont_yn": "N",
                    "next_key": "",
                    "return_code": 0,
                    "data": [condition_row(c) for c in codes],
                }
            else:
                body = {
                    "trnm": "CNSRREQ",
                    "seq": seq,
                    "return_code": 0,
                    "data": [{"jmcode": "A" + c} for c in codes],
                }
            await ws.send(json.dumps(body, ensure_ascii=False))
        elif trnm == "CNSRCLR":
            await ws.send(json.dumps({"trnm": "CNSRCLR", "seq": msg["seq"], "return_code": 0}))

    # -- pushing data and faults ----------------------------------------------------------

    async def wait_registered(self, group: str, pairs: int, timeout: float = 5.0) -> None:
        """Wait until the current connection has ``pairs`` (type, item) pairs in ``group``."""
        async with asyncio.timeout(timeout):
            while len(self.registered.get(group, ())) < pairs:
                await asyncio.sleep(0.005)

    async def send(self, frame: str) -> None:
        assert self.ws is not None
        await self.ws.send(frame)

    async def real(self, items: list[tuple[str, str, dict[str, str]]]) -> None:
        """Send one REAL frame of (type, item, values) items."""
        data = [
            {"type": t, "name": catalog.get(t).name, "item": i, "values": v} for t, i, v in items
        ]
        await self.send(json.dumps({"trnm": "REAL", "data": data}, ensure_ascii=False))

    async def condition_event(self, seq: str, code: str, action: str) -> None:
        values = {"841": seq, "9001": code, "843": action, "20": "152028", "907": "2"}
        await self.send(
            json.dumps(
                {"trnm": "REAL", "data": [{"type": "02", "name": "조건검색", "values": values}]},
                ensure_ascii=False,
            )
        )

    async def system(self, ws: ServerConnection, code: str, message: str) -> None:
        """A SYSTEM frame: the server's notice, answering nothing."""
        frame = {"trnm": "SYSTEM", "code": code, "message": message}
        await ws.send(json.dumps(frame, ensure_ascii=False))

    async def ping(self, text: str = '{"trnm":"PING","ts":"20251125 1200"}') -> None:
        await self.send(text)

    def drop(self) -> None:
        """Cut the TCP connection without a closing handshake."""
        assert self.ws is not None
        self.ws.transport.abort()

    async def close(self, code: int = 1000) -> None:
        assert self.ws is not None
        await self.ws.close(code)
