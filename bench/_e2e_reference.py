"""The reference end-to-end: ``python _e2e_reference.py MODE LOOP URL TAG PHASES.json``.

Runs in bench/.venv (kiwoom-restful 0.4.0, whose package is also named ``kiwoom``; aiohttp),
with the protocol of ``_e2e_client.py``. Modes:
- ``reference``: kiwoom-restful's own receive path over its own socket: ``Socket`` (aiohttp
  ``ws_connect``; its reader task puts every text frame in ``API.queue``) and
  ``API._on_receive_websocket`` (envelope decode, one task per item, the values handed to an
  async callback as bytes), with a callback per type stamping each item;
- ``aiohttp-recv``: a bare aiohttp receive loop, no decode (the other library's ceiling).
Its ``API`` accepts only Kiwoom's hosts, so its socket is pointed at the server afterwards.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

TYPES = ("0B", "0D", "0C", "0H")


async def reference(url: str, tag: str, phases: list[list[int]]) -> Any:
    import aiohttp
    from kiwoom.config import REAL
    from kiwoom.http.socket import Socket

    from kiwoom import API

    api = API(REAL, "bench-appkey", "bench-secretkey")
    api.socket = Socket(url=url, queue=api.queue)
    monotonic, process_time = time.monotonic, time.process_time
    got: list[float] = []
    target = 0
    done = asyncio.Event()

    async def on_real(data: object) -> None:
        got.append(monotonic())
        if len(got) == target:
            done.set()

    async def quiet(msg: object) -> None:
        pass

    for t in TYPES:
        api.add_callback_on_real_data(t, on_real)
    for trnm in ("LOGIN", "REG"):
        api.add_callback_on_real_data(trnm, quiet)
    session = aiohttp.ClientSession()
    await api.socket.connect(session, "bench-token")
    api._stop_event.clear()
    receiver = asyncio.create_task(api._on_receive_websocket())
    cpu, stamps = [], []
    for phase, (_frames, items) in enumerate(phases):
        got, target = [], items
        done.clear()
        start = process_time()
        await api.socket.send({"trnm": "REG", "grp_no": f"{tag}-{phase}"})
        await done.wait()
        cpu.append(process_time() - start)
        stamps.append(got)
    api._stop_event.set()
    receiver.cancel()
    await api.socket.close()
    await session.close()
    return {"cpu": cpu, "stamps": stamps, "lost": 0}


async def aiohttp_recv(url: str, tag: str, phases: list[list[int]]) -> Any:
    import aiohttp

    cpu, stamps = [], []
    monotonic, process_time = time.monotonic, time.process_time
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.send_str('{"trnm":"LOGIN","token":"bench-token"}')
        await ws.receive_str()
        for phase, (frames, _items) in enumerate(phases):
            got: list[float] = []
            start = process_time()
            await ws.send_str(json.dumps({"trnm": "REG", "grp_no": f"{tag}-{phase}"}))
            n = 0
            while n < frames:
                raw = await ws.receive_str()
                if raw[9:13] != "REAL":
                    continue
                got.append(monotonic())
                n += 1
            cpu.append(process_time() - start)
            stamps.append(got)
    return {"cpu": cpu, "stamps": stamps, "lost": 0}


def main() -> None:
    mode, loop, url, tag = sys.argv[1:5]
    phases = json.loads(Path(sys.argv[5]).read_text(encoding="utf-8"))
    run = reference if mode == "reference" else aiohttp_recv
    if loop == "uvloop":
        import uvloop

        result = uvloop.run(run(url, tag, phases))
    else:
        result = asyncio.run(run(url, tag, phases))
    Path(os.environ["E2E_OUT"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
