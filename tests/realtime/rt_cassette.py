"""Frame cassettes: record the frames a client sends and receives, replay them without a network.

vcrpy does not record WebSockets, so this records at the connection: the client's ``connect``
(``kiwoom._realtime._client.connect``) is patched to return a recording wrapper of the real
connection, or a replaying stand-in that checks every frame the client sends against the
cassette and hands it the recorded answers in order. The LOGIN token is never written: it is
stored as ``<token>``.

A cassette (YAML)::

    recorded_against: fixture        # or the mock server's host
    type: 0B                         # the real-time type exercised
    group: "1"
    items: ["005930", "000660"]
    frames:                          # in the order they crossed the socket
    - send: '{"trnm":"LOGIN","token":"<token>"}'
    - recv: '{"trnm": "LOGIN", "return_code": 0, "return_msg": ""}'
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import yaml
from websockets.exceptions import ConnectionClosedOK

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "realtime"
TOKEN = "<token>"


def _masked(text: str | bytes) -> str:
    text = text if isinstance(text, str) else text.decode()
    try:
        msg = json.loads(text)
    except ValueError:
        return text
    if isinstance(msg, dict) and msg.get("trnm") == "LOGIN" and "token" in msg:
        return json.dumps({**msg, "token": TOKEN}, separators=(",", ":"))
    return text


class Recording:
    """Wraps a live connection and notes every frame, in order."""

    def __init__(self, ws: Any, frames: list[dict[str, str]]) -> None:
        self._ws = ws
        self.frames = frames
        self.transport = getattr(ws, "transport", None)

    async def send(self, text: str | bytes) -> None:
        self.frames.append({"send": _masked(text)})
        await self._ws.send(text)

    async def recv(self, decode: bool | None = None) -> str | bytes:
        text = await self._ws.recv(decode=decode)
        self.frames.append({"recv": text if isinstance(text, str) else text.decode()})
        return text  # type: ignore[no-any-return]

    async def close(self) -> None:
        await self._ws.close()


class Replay:
    """Stands in for a connection: checks what is sent, answers what was recorded."""

    def __init__(self, frames: list[dict[str, str]]) -> None:
        self.frames = frames
        self.pos = 0
        self.closed = False
        self._changed = asyncio.Condition()
        self.transport = None

    @property
    def finished(self) -> bool:
        return self.pos == len(self.frames)

    def _matches(self, text: str) -> bool:
        expected = self.frames[self.pos].get("send")
        if expected is None:
            return False
        if json.loads(expected).get("trnm") == "PING":
            return text == expected  # a PING must be echoed unchanged
        return bool(json.loads(_masked(text)) == json.loads(expected))

    async def send(self, text: str | bytes) -> None:
        """Accept a frame when the cassette reaches it.

        A frame sent before the recorded answers it followed were read (the client's timing is
        not the recording's) waits for the reader to catch up; one that never comes fails.
        """
        text = text if isinstance(text, str) else text.decode()
        async with self._changed:
            try:
                async with asyncio.timeout(5):
                    await self._changed.wait_for(lambda: self.finished or self._matches(text))
            except TimeoutError:
                where = self.frames[self.pos] if not self.finished else "nothing more"
                raise AssertionError(f"sent {text}, the cassette expects {where}") from None
            assert not self.finished, f"unexpected frame sent after the cassette: {text}"
            self.pos += 1
            self._changed.notify_all()

    async def recv(self, decode: bool | None = None) -> str | bytes:
        """The next recorded frame: text, or its UTF-8 bytes with ``decode=False`` (as
        websockets hands a text frame over)."""
        async with self._changed:
            await self._changed.wait_for(
                lambda: self.closed or (not self.finished and "recv" in self.frames[self.pos])
            )
            if self.closed:
                raise ConnectionClosedOK(None, None)
            text = self.frames[self.pos]["recv"]
            self.pos += 1
            self._changed.notify_all()
            return text.encode() if decode is False else text

    async def close(self) -> None:
        async with self._changed:
            self.closed = True
            self._changed.notify_all()


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def save(path: Path, cassette: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(cassette, allow_unicode=True, sort_keys=False, width=100000)
    path.write_text(text, encoding="utf-8")
