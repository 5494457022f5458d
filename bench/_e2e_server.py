"""The end-to-end benchmark's frame server: ``python _e2e_server.py FRAMES.json PHASES.json DIR``.

A ``websockets`` server in a process of its own on 127.0.0.1 (prints its URL, serves until
stdin closes). Every connection gets the same bytes the same way: it answers LOGIN, then each
REG is acknowledged and starts the next phase (PHASES: ``[[first, last], ...]`` frame slices):
the phase's frames are sent as text frames in chunks of CHUNK, yielding to the loop between
chunks, as fast as the socket's flow control lets them go; a slice ``[first, last, rate]`` is
sent as a trickle instead, one frame every 1/rate s. The send time of every frame
(``time.monotonic``, one clock for every process on the machine) is written to
``DIR/<grp_no>.json`` once the phase is sent: the side channel the lag is measured from.
Per-message deflate is accepted when a client offers it (websockets' default).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from websockets.asyncio.server import ServerConnection, serve

CHUNK = 64


async def main() -> None:
    frames = [f.encode() for f in json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))]
    phases = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
    out = Path(sys.argv[3])

    async def send_phase(
        ws: ServerConnection, group: str, first: int, last: int, rate: float = 0
    ) -> None:
        stamps = []
        monotonic = time.monotonic
        if rate:  # a trickle: one frame every 1/rate s, on a fixed schedule
            begin = monotonic()
            for i, frame in enumerate(frames[first:last]):
                await asyncio.sleep(max(0.0, begin + i / rate - monotonic()))
                stamps.append(monotonic())
                await ws.send(frame, text=True)
        else:
            for start in range(first, last, CHUNK):
                for frame in frames[start : min(start + CHUNK, last)]:
                    stamps.append(monotonic())
                    await ws.send(frame, text=True)
                await asyncio.sleep(0)
        (out / f"{group}.json").write_text(json.dumps(stamps))

    async def handler(ws: ServerConnection) -> None:
        phase = 0
        sending: asyncio.Task[None] | None = None
        async for message in ws:
            frame = json.loads(message)
            trnm = frame["trnm"]
            if trnm == "LOGIN":
                await ws.send('{"trnm":"LOGIN","return_code":0,"return_msg":""}')
            elif trnm in ("REG", "REMOVE"):
                await ws.send(f'{{"trnm":"{trnm}","return_code":0,"return_msg":""}}')
                if trnm == "REG" and phase < len(phases):
                    if sending is not None:
                        await sending
                    phase += 1
                    sending = asyncio.get_running_loop().create_task(
                        send_phase(ws, frame["grp_no"], *phases[phase - 1])
                    )

    async with serve(handler, "127.0.0.1", 0, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"ws://127.0.0.1:{port}/api/dostk/websocket", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(main())
