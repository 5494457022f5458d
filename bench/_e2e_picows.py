"""picows end to end: ``python _e2e_picows.py MODE LOOP URL TAG PHASES.json``.

Runs in bench/.venv (picows is not one of our dependencies), with the protocol of
``_e2e_client.py``: the same frame server, the same bytes, the same chunking. Modes:
- ``picows-recv``: picows' own API (a ``WSListener`` whose ``on_ws_frame`` is called from the
  transport's ``data_received``: no task switch or future per frame), each payload copied out
  as ``bytes``, no decode;
- ``picows-decode``: that plus ``msgspec.json.decode`` into all-string Structs tagged by type,
  the Structs of ``_e2e_client.bare_decoder`` (their fields come from our catalogue, passed in
  the file named by ``E2E_WIRE_FIELDS``, as bench/.venv has no ``kiwoom`` of ours);
- ``picows-compat-recv``: picows' websockets-compatible API (``picows.websockets``, the
  ``websockets.asyncio`` interface: ``await ws.recv()``), no decode.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Union

import msgspec

TYPES = ("0B", "0D", "0C", "0H")


def bare_decoder() -> Any:
    """``_e2e_client.bare_decoder``'s Structs, built from the field file."""
    fields: dict[str, dict[str, str]] = json.loads(Path(os.environ["E2E_WIRE_FIELDS"]).read_text())
    tagged = []
    for t in TYPES:
        names = fields[t]  # attribute -> FID
        values = msgspec.defstruct(
            f"Wire{t}", [(n, str, "") for n in names], rename=names, kw_only=True, gc=False
        )
        tagged.append(
            msgspec.defstruct(
                f"Bare{t}",
                [("values", values), ("name", str, ""), ("item", str, "")],
                tag_field="type",
                tag=t,
            )
        )
    frame = msgspec.defstruct(
        "BareFrame",
        [("trnm", str), ("data", list[Union[tuple(tagged)]], [])],  # type: ignore[valid-type]  # noqa: UP007
    )
    return msgspec.json.Decoder(frame).decode


async def native(url: str, tag: str, phases: list[list[int]], decode: bool) -> Any:
    from picows import WSCloseCode, WSListener, WSMsgType, ws_connect

    decoder = bare_decoder() if decode else None
    monotonic = time.monotonic
    loop = asyncio.get_running_loop()
    text = WSMsgType.TEXT

    class Listener(WSListener):  # type: ignore[misc]
        def __init__(self) -> None:
            self.got: list[float] = []
            self.target = 0
            self.answer: asyncio.Future[bytes] = loop.create_future()
            self.done: asyncio.Future[None] = loop.create_future()

        def on_ws_frame(self, transport: Any, frame: Any) -> None:
            if frame.msg_type is not text:
                return
            raw = frame.get_payload_as_bytes()
            if raw[9:13] != b"REAL":  # LOGIN and REG answers
                if not self.answer.done():
                    self.answer.set_result(raw)
                return
            if decoder is not None:
                decoder(raw)
            got = self.got
            got.append(monotonic())
            if len(got) == self.target:
                self.done.set_result(None)

    transport, listener = await ws_connect(Listener, url, max_frame_size=2**22)
    transport.send(text, b'{"trnm":"LOGIN","token":"bench-token"}')
    await listener.answer
    cpu, stamps = [], []
    process_time = time.process_time
    for phase, (frames, _items) in enumerate(phases):
        listener.got, listener.target = [], frames
        listener.done = loop.create_future()
        start = process_time()
        transport.send(text, json.dumps({"trnm": "REG", "grp_no": f"{tag}-{phase}"}).encode())
        await listener.done
        cpu.append(process_time() - start)
        stamps.append(listener.got)
    transport.send_close(WSCloseCode.OK)
    transport.disconnect()
    await transport.wait_disconnected()
    return {"cpu": cpu, "stamps": stamps, "lost": 0}


async def compat(url: str, tag: str, phases: list[list[int]]) -> Any:
    from picows.websockets import connect

    cpu, stamps = [], []
    monotonic, process_time = time.monotonic, time.process_time
    async with connect(url, max_size=2**22, compression=None) as ws:
        await ws.send('{"trnm":"LOGIN","token":"bench-token"}')
        await ws.recv()
        for phase, (frames, _items) in enumerate(phases):
            got: list[float] = []
            start = process_time()
            await ws.send(json.dumps({"trnm": "REG", "grp_no": f"{tag}-{phase}"}))
            n = 0
            while n < frames:
                raw = await ws.recv(decode=False)
                if raw[9:13] != b"REAL":
                    continue
                got.append(monotonic())
                n += 1
            cpu.append(process_time() - start)
            stamps.append(got)
    return {"cpu": cpu, "stamps": stamps, "lost": 0}


def main() -> None:
    mode, loop, url, tag = sys.argv[1:5]
    phases = json.loads(Path(sys.argv[5]).read_text(encoding="utf-8"))
    if mode == "picows-compat-recv":
        coro = compat(url, tag, phases)
    else:
        coro = native(url, tag, phases, decode=mode == "picows-decode")
    if loop == "uvloop":
        import uvloop

        result = uvloop.run(coro)
    else:
        result = asyncio.run(coro)
    Path(os.environ["E2E_OUT"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
