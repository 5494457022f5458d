"""Sync callbacks: called on the loop with each frame's ticks, moved to a worker thread once
they turn out slow; in order, every tick, counted, whichever road."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import pytest
from rt_samples import wire_values

from kiwoom import Realtime, Tick
from kiwoom._realtime import _defaults


def frames(n: int) -> list[bytes]:
    out = []
    for i in range(n):
        values = wire_values("0B") | {"20": f"09{i // 60:02d}{i % 60:02d}"}
        data = [{"type": "0B", "name": "주식체결", "item": "005930", "values": values}]
        out.append(json.dumps({"trnm": "REAL", "data": data}).encode())
    return out


def test_a_quick_sync_callback_runs_on_the_loop_per_frame() -> None:
    async def main() -> None:
        rt = Realtime("token", url="ws://unused")
        seen: list[tuple[int, int]] = []
        sub = rt.on("0B", lambda tick: seen.append((threading.get_ident(), tick.values.cntr_tm)))
        for i, raw in enumerate(frames(50)):
            rt.process(raw)
            assert len(seen) == i + 1  # called with the frame, no task or thread in between
        assert {ident for ident, _ in seen} == {threading.get_ident()}
        assert [t.second for _, t in seen] == [i % 60 for i in range(50)]
        assert rt.stats().types["0B"].dispatched == 50
        await sub.aclose()
        await rt.close()

    asyncio.run(main())


def test_a_slow_sync_callback_moves_to_a_worker_thread(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        rt = Realtime("token", url="ws://unused")
        seen: list[tuple[int, int]] = []

        def slow(tick: Tick[Any]) -> None:
            time.sleep(_defaults.INLINE_CALLBACK_LIMIT * 3)
            seen.append((threading.get_ident(), tick.values.cntr_tm.second))

        sub = rt.on("0B", slow)
        for raw in frames(10):
            rt.process(raw)
            await asyncio.sleep(0)
        for _ in range(500):
            if len(seen) == 10:
                break
            await asyncio.sleep(0.01)
        loop_thread = threading.get_ident()
        # Three slow frames on the loop, then the rest in a worker thread, in order.
        assert [ident == loop_thread for ident, _ in seen] == [True] * 3 + [False] * 7
        assert [second for _, second in seen] == list(range(10))
        assert rt.stats().types["0B"].dispatched == 10
        await sub.aclose()
        await rt.close()

    asyncio.run(main())
    assert "now runs in a worker thread" in caplog.text


def test_closing_the_client_calls_the_ticks_still_queued() -> None:
    async def main() -> list[int]:
        rt = Realtime("token", url="ws://unused")
        seen: list[int] = []
        rt.on("0B", lambda tick: seen.append(tick.values.cntr_tm.second))
        for raw in frames(5):
            rt.process(raw)
        await rt.close()
        return seen

    assert asyncio.run(main()) == list(range(5))
