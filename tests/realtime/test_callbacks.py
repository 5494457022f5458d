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

from kiwoom import KiwoomError, Realtime, Tick
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


async def _until(done: Any, seconds: float = 5.0) -> None:
    """Let the loop run until ``done()`` holds (worker threads finish their batches)."""
    for _ in range(int(seconds / 0.005)):
        if done():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("timed out")


def test_a_thread_callback_never_delays_the_loop() -> None:
    """``thread=True``: in a worker thread from the first tick. While it blocks, a stream and
    an inline callback get every tick at once, and the loop goes on."""

    async def main() -> None:
        rt = Realtime("token", url="ws://unused")
        release = threading.Event()
        blocked: list[tuple[int, int]] = []

        def blocking(tick: Tick[Any]) -> None:
            release.wait(10)  # a sync order call, say
            blocked.append((threading.get_ident(), tick.values.cntr_tm.second))

        inline: list[int] = []
        sub = rt.on("0B", blocking, thread=True)
        rt.on("0B", lambda tick: inline.append(tick.values.cntr_tm.second))
        stream = rt.stream("0B")
        lags = []
        for i, raw in enumerate(frames(20)):
            start = time.perf_counter()
            rt.process(raw)
            tick = await anext(stream)
            lags.append(time.perf_counter() - start)
            assert tick.values.cntr_tm.second == i and inline[-1] == i
            await asyncio.sleep(0.002)  # the worker thread takes its batch meanwhile
        assert blocked == []  # still in its first call
        assert max(lags) < 0.05, lags
        release.set()
        await _until(lambda: len(blocked) == 20)
        loop_thread = threading.get_ident()
        assert all(ident != loop_thread for ident, _ in blocked)
        assert [second for _, second in blocked] == list(range(20))
        # The first tick alone, the 19 queued while it blocked in one more batch.
        assert sub.batches == 2
        assert rt.stats().types["0B"].dispatched == 60
        await rt.close()

    asyncio.run(main())


def test_a_thread_callback_takes_a_loop_turns_ticks_in_one_hop() -> None:
    async def main() -> None:
        rt = Realtime("token", url="ws://unused")
        seen: list[int] = []
        sub = rt.on("0B", lambda tick: seen.append(tick.values.cntr_tm.second), thread=True)
        sent = frames(300)
        for raw in sent[:50]:  # one loop turn
            rt.process(raw)
        await _until(lambda: len(seen) == 50)
        assert sub.batches == 1
        for raw in sent[50:55]:  # a trickle: a turn per frame
            rt.process(raw)
            n = len(seen)
            await _until(lambda: len(seen) == n + 1)  # noqa: B023
        assert sub.batches == 6
        for raw in sent[55:]:  # more than a batch takes
            rt.process(raw)
        await _until(lambda: len(seen) == 300)
        assert sub.batches == 6 + -(-245 // _defaults.CALLBACK_BATCH)
        assert seen == [i % 60 for i in range(300)]
        await rt.close()

    asyncio.run(main())


def test_a_raising_thread_callback_is_logged_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        rt = Realtime("token", url="ws://unused")
        seen: list[int] = []

        def flaky(tick: Tick[Any]) -> None:
            if tick.values.cntr_tm.second % 2:
                raise RuntimeError("odd second")
            seen.append(tick.values.cntr_tm.second)

        rt.on("0B", flaky, thread=True)
        stream = rt.stream("0B")
        for raw in frames(10):
            rt.process(raw)
            await asyncio.sleep(0)
        await _until(lambda: rt.stats().types["0B"].callback_errors == 5)
        assert seen == [0, 2, 4, 6, 8]
        assert len(stream.queue) == 10  # the loop lives, every consumer fed
        counters = rt.stats().types["0B"]
        assert counters.dispatched == 5 and counters.callback_errors == 5
        await rt.close()

    asyncio.run(main())
    assert "odd second" in caplog.text and "failed on a 0B tick" in caplog.text


def test_thread_false_keeps_a_slow_callback_on_the_loop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        rt = Realtime("token", url="ws://unused")
        seen: list[int] = []

        def slow(tick: Tick[Any]) -> None:
            time.sleep(_defaults.INLINE_CALLBACK_LIMIT * 3)
            seen.append(threading.get_ident())

        sub = rt.on("0B", slow, thread=False)
        for i, raw in enumerate(frames(6)):
            rt.process(raw)
            assert len(seen) == i + 1  # called with the frame, every time
            await asyncio.sleep(0)
        assert set(seen) == {threading.get_ident()} and sub.task is None
        await rt.close()

    asyncio.run(main())
    assert "now runs in a worker thread" not in caplog.text


def test_thread_is_for_plain_functions() -> None:
    async def main() -> None:
        rt = Realtime("token", url="ws://unused")

        async def handler(tick: Tick[Any]) -> None:
            pass

        for thread in (True, False):
            with pytest.raises(KiwoomError, match="thread"):
                rt.on("0B", handler, thread=thread)
        await rt.close()

    asyncio.run(main())


def test_thread_callbacks_that_block_hold_no_thread_another_needs() -> None:
    """Each ``thread=True`` callback has a thread of its own: more blocked callbacks than a
    thread pool's workers (8) leave the next one fed."""

    async def main() -> None:
        rt = Realtime("token", url="ws://unused")
        release = threading.Event()
        for _ in range(10):
            rt.on("0B", lambda tick: release.wait(10), thread=True)
        seen: list[int] = []
        rt.on("0B", lambda tick: seen.append(tick.values.cntr_tm.second), thread=True)
        for raw in frames(5):
            rt.process(raw)
            await asyncio.sleep(0)
        await _until(lambda: len(seen) == 5)
        release.set()
        await rt.close()
        assert rt.stats().types["0B"].dispatched == 55

    asyncio.run(main())


def test_closing_the_client_lets_a_thread_callback_finish_its_ticks() -> None:
    async def main() -> list[int]:
        rt = Realtime("token", url="ws://unused")
        seen: list[int] = []

        def slow(tick: Tick[Any]) -> None:
            time.sleep(0.01)
            seen.append(tick.values.cntr_tm.second)

        rt.on("0B", slow, thread=True)
        for raw in frames(5):
            rt.process(raw)
        await rt.close()
        return seen

    assert asyncio.run(main()) == list(range(5))
