"""One end-to-end client: ``python _e2e_client.py MODE LOOP URL TAG PHASES.json [deflate]``.

Runs in a process of its own (``time.process_time`` is this client's CPU only), connects to the
frame server, logs in and sends one REG per phase (group ``TAG-<phase>``), which starts that
phase's frames. PHASES: ``[[frames, items], ...]``. Writes JSON to the file named by
``E2E_OUT``: per phase the CPU seconds from its REG to its last unit handled, and the
``time.monotonic`` stamp of every unit (an item for ``ours`` and the reference, a frame for the
bare loops).

Modes (the project's environment):
- ``ours``: ``kiwoom.Realtime`` consuming typed ticks of every type from ``rt.stream``;
- ``ours-callback``: the same with a plain callback (``rt.on``) stamping each tick;
- ``bare-recv``: the same socket library reading bytes, no decode (the receive ceiling);
- ``bare-decode``: that loop plus ``msgspec.json.decode`` into all-string Structs tagged by type;
- ``sync-recv``: websockets' sync client (a reader thread) reading bytes, no decode (LOOP ``-``).
``deflate`` offers per-message deflate (the server accepts it); otherwise ``compression=None``.
``max_queue=N`` sets websockets' buffer of received frames (default 16; 0: unbounded).
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
CODES = ["005930"]


async def ours(url: str, tag: str, phases: list[list[int]], options: dict[str, Any]) -> Any:
    from kiwoom import Realtime

    rt = Realtime("bench-token", url=url, watchdog=None, connect_options=options)
    await rt.connect()
    total = sum(items for _, items in phases)
    stream = rt.stream(list(TYPES), maxsize=total + 1)
    cpu, stamps = [], []
    monotonic, process_time = time.monotonic, time.process_time
    for phase, (_frames, items) in enumerate(phases):
        got: list[float] = []
        start = process_time()
        await rt.register(CODES, list(TYPES), group=f"{tag}-{phase}")
        n = 0
        async for _tick in stream:
            got.append(monotonic())
            n += 1
            if n == items:
                break
        cpu.append(process_time() - start)
        stamps.append(got)
    counters = rt.stats().types
    lost = sum(c.dropped + c.decode_errors for c in counters.values())
    await rt.close()
    return {"cpu": cpu, "stamps": stamps, "lost": lost}


async def ours_callback(
    url: str, tag: str, phases: list[list[int]], options: dict[str, Any]
) -> Any:
    """``ours`` with a plain (sync) callback, ``rt.on``, instead of a stream."""
    from kiwoom import Realtime

    rt = Realtime("bench-token", url=url, watchdog=None, connect_options=options)
    await rt.connect()
    monotonic, process_time = time.monotonic, time.process_time
    got: list[float] = []
    target = 0
    done = asyncio.Event()

    def on_tick(tick: Any) -> None:
        got.append(monotonic())
        if len(got) == target:
            done.set()

    rt.on(list(TYPES), on_tick, maxsize=sum(items for _, items in phases) + 1)
    cpu, stamps = [], []
    for phase, (_frames, items) in enumerate(phases):
        got, target = [], items
        done.clear()
        start = process_time()
        await rt.register(CODES, list(TYPES), group=f"{tag}-{phase}")
        await done.wait()
        cpu.append(process_time() - start)
        stamps.append(got)
    counters = rt.stats().types
    lost = sum(c.dropped + c.decode_errors + c.callback_errors for c in counters.values())
    await rt.close()
    return {"cpu": cpu, "stamps": stamps, "lost": lost}


def bare_decoder() -> Any:
    from kiwoom import catalog

    tagged = tuple(
        msgspec.defstruct(
            f"Bare{t}",
            [("values", catalog.get(t).wire_type), ("name", str, ""), ("item", str, "")],
            tag_field="type",
            tag=t,
        )
        for t in TYPES
    )

    frame = msgspec.defstruct(
        "BareFrame",
        [("trnm", str), ("data", list[Union[tagged]], [])],  # type: ignore[valid-type]  # noqa: UP007
    )
    return msgspec.json.Decoder(frame).decode


async def bare(
    url: str, tag: str, phases: list[list[int]], options: dict[str, Any], decode: bool
) -> Any:
    from websockets.asyncio.client import connect

    decoder = bare_decoder() if decode else None
    cpu, stamps = [], []
    monotonic, process_time = time.monotonic, time.process_time
    async with connect(url, **options) as ws:
        await ws.send('{"trnm":"LOGIN","token":"bench-token"}')
        await ws.recv()
        for phase, (frames, _items) in enumerate(phases):
            got: list[float] = []
            start = process_time()
            await ws.send(json.dumps({"trnm": "REG", "grp_no": f"{tag}-{phase}"}))
            n = 0
            while n < frames:
                raw = await ws.recv(decode=False)
                if raw[9:13] != b"REAL":  # '{"trnm":"REAL"...': the REG answer is skipped
                    continue
                if decoder is not None:
                    decoder(raw)
                got.append(monotonic())
                n += 1
            cpu.append(process_time() - start)
            stamps.append(got)
    return {"cpu": cpu, "stamps": stamps, "lost": 0}


def sync_recv(url: str, tag: str, phases: list[list[int]], options: dict[str, Any]) -> Any:
    from websockets.sync.client import connect

    cpu, stamps = [], []
    monotonic, process_time = time.monotonic, time.process_time
    with connect(url, **options) as ws:
        ws.send('{"trnm":"LOGIN","token":"bench-token"}')
        ws.recv()
        for phase, (frames, _items) in enumerate(phases):
            got: list[float] = []
            start = process_time()
            ws.send(json.dumps({"trnm": "REG", "grp_no": f"{tag}-{phase}"}))
            n = 0
            while n < frames:
                raw = ws.recv(decode=False)
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
    deflate = "deflate" in sys.argv[6:]
    options: dict[str, Any] = {"max_size": 2**22, "compression": "deflate" if deflate else None}
    for arg in sys.argv[6:]:
        if arg.startswith("max_queue="):  # frames websockets buffers before it pauses reading
            options["max_queue"] = int(arg.split("=")[1]) or None
    if mode == "sync-recv":
        Path(os.environ["E2E_OUT"]).write_text(json.dumps(sync_recv(url, tag, phases, options)))
        return
    if mode == "ours":
        coro = ours(url, tag, phases, options)
    elif mode == "ours-callback":
        coro = ours_callback(url, tag, phases, options)
    else:
        coro = bare(url, tag, phases, options, decode=mode == "bare-decode")
    if loop == "uvloop":
        import uvloop

        result = uvloop.run(coro)
    else:
        result = asyncio.run(coro)
    Path(os.environ["E2E_OUT"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
