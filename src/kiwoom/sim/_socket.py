"""The real-time socket: LOGIN, PING, REG/REMOVE, REAL frames, SYSTEM frames, condition search.

One :class:`Session` per connection. REAL frames carry every registered (type, item) pair
that has news, several in one frame: trades (0B, 0J, FE) when a simulated trade happened,
the other market types on every push, ``00``/``04`` (and US ``F5``) when the account changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

import msgspec
from starlette.websockets import WebSocket, WebSocketDisconnect

from .. import catalog
from ._fill import fill, shape_of

if TYPE_CHECKING:
    from ._server import Simulator

__all__ = ["CONDITIONS", "Session"]

MAX_ITEMS = 100
"""Items one REG may carry."""
PING_GRACE = 30.0
"""Seconds without an echoed PING after which a connection is closed."""
_TRADE_TYPES = frozenset({"0B", "0J", "FE"})
_EVENT_TYPES = frozenset({"00", "04", "F4", "F5"})

CONDITIONS: list[tuple[str, str]] = [
    ("0", "상승률 1% 이상"),
    ("1", "하락률 1% 이상"),
    ("2", "5만원 이상 대형주"),
    ("3", "삼성 계열"),
]
"""The saved condition formulas (seq, name) every account has in the simulator."""


# Guessed values of the fields a real-time context does not name, kept once made.
_FIXED: dict[tuple[int, str], str] = {}


def _encode(obj: Any) -> str:
    return msgspec.json.encode(obj).decode()


class Session:
    """One socket connection."""

    def __init__(self, sim: Simulator, ws: WebSocket, region: str) -> None:
        self.sim = sim
        self.ws = ws
        self.region = region
        self.logged_in = False
        self.groups: dict[str, list[tuple[str, str]]] = {}
        self.watches: dict[str, set[str]] = {}
        self._last: dict[tuple[str, str], int] = {}
        self._send_lock = asyncio.Lock()
        self._ping_text: str | None = None
        self._ping_echoed = True
        self._closed = False
        self._drops = sim.faults.drops
        self._system_seen = len(sim.faults.system_messages())

    # -- sending ----------------------------------------------------------------------------

    async def send(self, obj: dict[str, Any] | str, *, answer: bool = False) -> None:
        faults = self.sim.faults
        if faults.silent or self._closed:
            return
        if answer and faults.delay:
            await asyncio.sleep(faults.delay)
        text = obj if isinstance(obj, str) else _encode(obj)
        if faults.take_malformed():
            text = text[: max(1, len(text) // 2)] + "\x00<garbage"
        async with self._send_lock:
            await self.ws.send_text(text)

    async def close(self, code: int) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            await self.ws.close(code)

    # -- the connection ---------------------------------------------------------------------

    async def run(self) -> None:
        sim = self.sim
        await self.ws.accept()
        sim.stats.connections += 1
        if sim.rapid_reconnect():
            await self.close(1000)
            return
        sim.sessions.add(self)
        tasks = [asyncio.create_task(self._push()), asyncio.create_task(self._ping())]
        try:
            while True:
                text = await self.ws.receive_text()
                await self._receive(text)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            self._closed = True
            sim.sessions.discard(self)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _receive(self, text: str) -> None:
        try:
            msg = msgspec.json.decode(text)
        except msgspec.DecodeError:
            await self.send({"trnm": "", "return_code": 1, "return_msg": "[1517:JSON 형식 오류]"})
            return
        if not isinstance(msg, dict):
            return
        trnm = str(msg.get("trnm", ""))
        if trnm == "PING":
            if text == self._ping_text:
                self._ping_echoed = True
            return
        if self.sim.faults.silent:
            return
        if trnm == "LOGIN":
            await self._login(str(msg.get("token", "")))
            return
        if not self.logged_in:
            await self.send(
                {"trnm": trnm, "return_code": 1, "return_msg": "[8005:로그인 후 이용하세요]"},
                answer=True,
            )
            return
        handler = {
            "REG": self._reg,
            "REMOVE": self._remove,
            "CNSRLST": self._condition_list,
            "CNSRREQ": self._condition_request,
            "CNSRCLR": self._condition_stop,
        }.get(trnm)
        if handler is None:
            await self.send(
                {"trnm": trnm, "return_code": 1, "return_msg": "[1505:알 수 없는 서비스]"}
            )
            return
        await handler(msg)

    async def _login(self, token: str) -> None:
        sim = self.sim
        if sim.rest.tokens.check(token, sim.faults.expirations) is None:
            await self.send(
                {
                    "trnm": "LOGIN",
                    "return_code": 100013,
                    "return_msg": "[8005:Token이 유효하지 않습니다]",
                },
                answer=True,
            )
            await self.close(1000)
            return
        self.logged_in = True
        sim.stats.logins += 1
        await self.send({"trnm": "LOGIN", "return_code": 0, "return_msg": ""}, answer=True)

    # -- registrations ----------------------------------------------------------------------

    def _pairs(self, msg: dict[str, Any]) -> list[tuple[str, str]] | str:
        pairs: list[tuple[str, str]] = []
        for d in msg.get("data") or []:
            items = [str(i) for i in d.get("item") or [""]]
            types = [str(t) for t in d.get("type") or []]
            if len(items) > MAX_ITEMS:
                return f"[1517:한 번에 등록할 수 있는 종목은 {MAX_ITEMS}개까지입니다]"
            for t in types:
                try:
                    entry = catalog.get(t)
                except KeyError:
                    return f"[1517:알 수 없는 실시간 항목입니다. type={t}]"
                if entry.kind != "realtime":
                    return f"[1517:알 수 없는 실시간 항목입니다. type={t}]"
                pairs += [(t, i) for i in items]
        return pairs

    async def _reg(self, msg: dict[str, Any]) -> None:
        pairs = self._pairs(msg)
        if isinstance(pairs, str):
            await self.send({"trnm": "REG", "return_code": 1, "return_msg": pairs}, answer=True)
            return
        group = str(msg.get("grp_no", "1"))
        current = [] if str(msg.get("refresh", "1")) == "0" else self.groups.get(group, [])
        self.groups[group] = current + [p for p in pairs if p not in current]
        await self.send({"trnm": "REG", "return_code": 0, "return_msg": ""}, answer=True)

    async def _remove(self, msg: dict[str, Any]) -> None:
        pairs = self._pairs(msg)
        if isinstance(pairs, str):
            await self.send({"trnm": "REMOVE", "return_code": 1, "return_msg": pairs}, answer=True)
            return
        group = str(msg.get("grp_no", "1"))
        if group in self.groups:
            gone = set(pairs)
            self.groups[group] = [p for p in self.groups[group] if p not in gone]
            if not self.groups[group] or not pairs:
                del self.groups[group]
        await self.send({"trnm": "REMOVE", "return_code": 0, "return_msg": ""}, answer=True)

    def registered(self) -> set[tuple[str, str]]:
        return {p for pairs in self.groups.values() for p in pairs}

    # -- condition search -------------------------------------------------------------------

    async def _condition_list(self, msg: dict[str, Any]) -> None:
        data = [[seq, name] for seq, name in CONDITIONS]
        await self.send(
            {"trnm": "CNSRLST", "return_code": 0, "return_msg": "", "data": data}, answer=True
        )

    async def _condition_request(self, msg: dict[str, Any]) -> None:
        seq = str(msg.get("seq", ""))
        if seq not in dict(CONDITIONS):
            await self.send(
                {
                    "trnm": "CNSRREQ",
                    "seq": seq,
                    "return_code": 1,
                    "return_msg": "[1517:조건검색식이 없습니다]",
                },
                answer=True,
            )
            return
        codes = await asyncio.to_thread(self.sim.condition_matches, seq)
        if str(msg.get("search_type", "0")) == "1":
            self.watches[seq] = set(codes)
            data: list[Any] = [{"jmcode": "A" + c} for c in codes]
            body = {"trnm": "CNSRREQ", "seq": seq, "return_code": 0, "return_msg": "", "data": data}
        else:
            shape = shape_of(catalog.get("ka10172").response_type)
            row_shape = next(f for f in shape.fields if f.many).sub
            assert row_shape is not None
            data = []
            for c in codes:
                ctx = self.sim.rest.quote_context(self.sim.market.quote(c))
                ctx["stk_cd"] = "A" + c
                data.append(fill(row_shape, ctx))
            body = {
                "trnm": "CNSRREQ",
                "seq": seq,
                "cont_yn": "N",
                "next_key": "",
                "return_code": 0,
                "return_msg": "",
                "data": data,
            }
        await self.send(body, answer=True)

    async def _condition_stop(self, msg: dict[str, Any]) -> None:
        seq = str(msg.get("seq", ""))
        self.watches.pop(seq, None)
        await self.send(
            {"trnm": "CNSRCLR", "seq": seq, "return_code": 0, "return_msg": ""}, answer=True
        )

    # -- pushing ----------------------------------------------------------------------------

    async def _ping(self) -> None:
        """PING every ``ping_interval``; a client that echoes none for 3 intervals and 30 s
        is closed (1000)."""
        sim = self.sim
        last_echo = time.monotonic()
        missed = 0
        while True:
            await asyncio.sleep(sim.ping_interval)
            if sim.faults.silent:
                continue
            if self._ping_echoed:
                missed = 0
                last_echo = time.monotonic()
            else:
                sim.stats.pings_missed += 1
                missed += 1
                if missed >= 3 and time.monotonic() - last_echo > PING_GRACE:
                    await self.close(1000)
                    return
            self._ping_text = _encode({"trnm": "PING"})
            self._ping_echoed = False
            sim.stats.pings_sent += 1
            await self.send(self._ping_text)

    async def _push(self) -> None:
        sim = self.sim
        last_watch = 0.0
        while True:
            await asyncio.sleep(1.0 / sim.real_rate if sim.real_rate > 0 else 0)
            if sim.faults.drops != self._drops:
                self._drops = sim.faults.drops
                await self.close(1011)
                return
            messages = sim.faults.system_messages()
            for m in messages[self._system_seen :]:
                code, _, text = m.partition("\x00")
                await self.send({"trnm": "SYSTEM", "code": code, "message": text})
            self._system_seen = len(messages)
            if not self.logged_in:
                continue
            if self.watches and time.monotonic() - last_watch >= 1.0:
                last_watch = time.monotonic()
                await self._condition_events()
            items = await asyncio.to_thread(self._items)
            if items:
                await self.send({"trnm": "REAL", "data": items})
                sim.stats.frames_sent += 1
                sim.stats.items_sent += len(items)

    def _items(self) -> list[dict[str, Any]]:
        sim = self.sim
        items = []
        contexts: dict[str, dict[str, Any]] = {}
        for rt_type, item in sorted(self.registered()):
            if rt_type in _EVENT_TYPES or not item:
                continue
            try:
                q = sim.market.quote(item)
            except KeyError:
                continue
            if rt_type in _TRADE_TYPES and not sim.real_every_push:
                if self._last.get((rt_type, item)) == q.tick_no:
                    continue
                self._last[(rt_type, item)] = q.tick_no
            ctx = contexts.get(q.code)
            if ctx is None:
                ctx = contexts[q.code] = sim.realtime_context(q)
            items.append(self.item(rt_type, item, ctx))
        return items

    @staticmethod
    def item(rt_type: str, item: str, ctx: dict[str, Any]) -> dict[str, Any]:
        entry = catalog.get(rt_type)
        values = fill(shape_of(entry.response_type), ctx, fixed=_FIXED)
        return {"type": rt_type, "name": entry.name, "item": item, "values": values}

    async def _condition_events(self) -> None:
        now = self.sim.clock.now().strftime("%H%M%S")
        data = []
        for seq, current in self.watches.items():
            fresh = set(await asyncio.to_thread(self.sim.condition_matches, seq))
            for code, action in [(c, "I") for c in fresh - current] + [
                (c, "D") for c in current - fresh
            ]:
                values = {"841": seq, "9001": "A" + code, "843": action, "20": now, "907": "2"}
                data.append(
                    {"type": "02", "name": "조건검색", "item": "A" + code, "values": values}
                )
            self.watches[seq] = fresh
        if data:
            await self.send({"trnm": "REAL", "data": data})

    async def event(self, rt_type: str, item: str, ctx: dict[str, Any]) -> None:
        """An account event (00/04/F5) to this session, when it registered the type."""
        if not self.logged_in or not any(t == rt_type for t, _ in self.registered()):
            return
        await self.send({"trnm": "REAL", "data": [self.item(rt_type, item, ctx)]})
        self.sim.stats.frames_sent += 1
        self.sim.stats.items_sent += 1
