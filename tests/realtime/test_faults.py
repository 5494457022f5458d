"""Faults: dropped connections, silence, malformed frames, slow consumers, failing callbacks."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from rt_samples import wire_values
from rt_server import KiwoomServer
from test_socket import TRADE, client, until

from kiwoom import ReconnectInfo, Tick

QUOTE = wire_values("0D")


def test_three_groups_survive_five_drops_with_backoff(run: Any) -> None:
    async def main() -> None:
        async with KiwoomServer() as server:
            infos: list[ReconnectInfo] = []
            rt = client(
                server, backoff_initial=0.02, backoff_max=0.3, backoff_jitter=0.5,
                on_reconnect=infos.append,
            )  # fmt: skip
            async with rt:
                stream = rt.stream(["0B", "0D"])
                await rt.register(["005930", "000660"], "0B", group="1")
                await rt.register(["005930"], "0D", group="2")
                await rt.register(["035420"], ["0B", "0D"], group="3")
                wanted = {
                    "1": {("0B", "005930"), ("0B", "000660")},
                    "2": {("0D", "005930")},
                    "3": {("0B", "035420"), ("0D", "035420")},
                }
                for drop in range(5):
                    assert server.registered == wanted
                    await server.real([("0B", "005930", TRADE), ("0D", "005930", QUOTE)])
                    got = [await anext(stream), await anext(stream)]
                    assert [t.type for t in got] == ["0B", "0D"]
                    server.drop()
                    await until(lambda d=drop: len(infos) == d + 1)
                    await server.wait_registered("3", 2)
                assert server.registered == wanted
                await server.real([("0B", "035420", TRADE)])
                assert (await anext(stream)).item == "035420"
                stats = rt.stats()
                assert stats.reconnects == 5 and stats.connects == 6
                assert all(all(r.acknowledged == r.items for r in i.registrations) for i in infos)
            # No storm: one connection per drop, and the gaps grow with the backoff.
            times = server.connect_times
            assert len(times) == 6
            gaps = [b - a for a, b in itertools.pairwise(times)]
            for n, gap in enumerate(gaps):
                assert gap >= min(0.3, 0.02 * 2**n) * 0.5
            assert sum(gaps[3:]) > sum(gaps[:2])

    run(main())


def test_server_close_1000_reconnects(run: Any) -> None:
    async def main() -> None:
        async with KiwoomServer() as server, client(server) as rt:
            await rt.register(["005930"], "0B")
            await server.close(1000)
            await until(lambda: rt.stats().reconnects == 1 and rt.connected)
            await server.wait_registered("1", 1)

    run(main())


def test_silent_socket_is_replaced_by_the_watchdog(run: Any) -> None:
    async def main() -> None:
        async with KiwoomServer() as server, client(server, watchdog=0.2) as rt:
            await asyncio.sleep(0.4)  # silent but nothing subscribed: left alone
            assert rt.stats().watchdog_trips == 0
            await rt.register(["005930"], "0B")
            await until(lambda: rt.stats().watchdog_trips == 1)
            await until(lambda: rt.stats().reconnects == 1)
            await server.wait_registered("1", 1)
            await rt.remove("1")

    run(main())


def test_a_slow_but_live_feed_never_trips_the_watchdog(run: Any) -> None:
    async def main() -> None:
        async with KiwoomServer() as server, client(server, watchdog=0.4) as rt:
            await rt.register(["005930"], "0B")
            for _ in range(12):  # a frame every 0.1 s for 1.2 s: never 0.4 s of silence
                await server.real([("0B", "005930", TRADE)])
                await asyncio.sleep(0.1)
            assert rt.stats().watchdog_trips == 0
            await until(lambda: rt.stats().watchdog_trips == 1)  # then silence: tripped

    run(main())


def test_malformed_frames_are_counted_and_skipped(run: Any) -> None:
    async def main() -> None:
        async with KiwoomServer() as server, client(server) as rt:
            stream = rt.stream("0B")
            await rt.register(["005930"], "0B")
            await server.send("not json")
            await server.send('{"no_trnm": 1}')
            await server.send('{"trnm": "REAL", "data": "oops"}')
            await server.real([("0B", "005930", {**TRADE, "10": "abc"}), ("0B", "000660", TRADE)])
            tick = await anext(stream)
            assert tick.item == "000660"
            stats = rt.stats()
            assert stats.malformed_frames == 2
            assert stats.types["0B"].decode_errors == 1
            assert stats.types["0B"].received == 2
            assert rt.connected

    run(main())


def test_slow_consumer_drops_oldest_and_loop_stays_alive(run: Any) -> None:
    async def main() -> None:
        async with KiwoomServer() as server, client(server) as rt:
            stream = rt.stream("0B", maxsize=10)
            fast: list[Tick] = []

            async def keep(tick: Tick) -> None:
                fast.append(tick)

            rt.on("0B", keep)
            await rt.register(["005930"], "0B")
            for i in range(100):
                await server.real(
                    [("0B", "005930", {**TRADE, "20": f"09{i // 60:02d}{i % 60:02d}"})]
                )
            await until(lambda: len(fast) == 100)  # the other consumer lost nothing
            await server.ping()
            await until(lambda: len(server.pongs) == 1)  # the loop is alive
            ticks = [await anext(stream) for _ in range(10)]
            assert ticks[0].values.cntr_tm.second == 30  # 090130: the 90 oldest were dropped
            c = rt.stats().types["0B"]
            assert (c.received, c.dropped, c.dispatched) == (100, 90, 110)

    run(main())


def test_failing_callback_is_logged_counted_and_kept(run: Any, caplog: Any) -> None:
    async def main() -> None:
        async with KiwoomServer() as server, client(server) as rt:
            calls = 0

            def bad(tick: Tick) -> None:
                nonlocal calls
                calls += 1
                raise RuntimeError("boom")

            async def bad_async(tick: Tick) -> None:
                raise ValueError("async boom")

            stream = rt.stream("0B")
            rt.on("0B", bad)
            rt.on("0B", bad_async)
            await rt.register(["005930"], "0B")
            for _ in range(3):
                await server.real([("0B", "005930", TRADE)])
            await until(lambda: rt.stats().types["0B"].callback_errors == 6)
            assert calls == 3
            assert [(await anext(stream)).item for _ in range(3)] == ["005930"] * 3
            assert rt.connected

    run(main())
    assert "boom" in caplog.text and "callback" in caplog.text


def test_condition_search_end_to_end_and_after_reconnect(run: Any) -> None:
    async def main() -> None:
        async with KiwoomServer() as server:
            infos: list[ReconnectInfo] = []
            async with client(server, on_reconnect=infos.append) as rt:
                listing = await rt.conditions()
                assert [(r.seq, r.name) for r in listing.data] == [
                    ("0", "거래량급증"),
                    ("1", "신고가"),
                ]
                once = await rt.condition_search("0")
                assert [r.stk_cd for r in once.data] == ["A005930", "A000660"]
                assert once.data[0].cur_prc == 72500 and once.data[0].flu_rt == -0.138
                assert once.return_code == 0

                events = rt.condition_events("1")
                live = await rt.watch_condition("1")
                assert [r.jmcode for r in live.data] == ["A035420"]
                await server.condition_event("0", "005930", "I")  # another seq: filtered
                await server.condition_event("1", "035420", "D")
                ev = await anext(events)
                assert (ev.type, ev.item, ev.values.seq, ev.values.fid_843) == (
                    "02", "035420", "1", "D"
                )  # fmt: skip
                assert ev.values.cntr_tm.hour == 15

                server.drop()
                await until(lambda: len(infos) == 1)
                assert [r.jmcode for r in infos[0].conditions["1"].data] == ["A035420"]
                assert server.received[-1]["trnm"] == "CNSRREQ"
                assert server.received[-1]["search_type"] == "1"
                await server.condition_event("1", "005930", "I")
                assert (await anext(events)).values.fid_843 == "I"

                stopped = await rt.stop_condition("1")
                assert stopped.seq == "1"
                assert server.received[-1] == {"trnm": "CNSRCLR", "seq": "1"}

    run(main())


def test_us_condition_search(run: Any) -> None:
    async def main() -> None:
        async with KiwoomServer(path="/api/us/websocket") as server, client(server) as rt:
            assert rt.region == "us"
            listing = await rt.conditions()
            assert type(listing).__name__ == "Usa20280Response"
            live = await rt.watch_condition("1")
            assert type(live).__name__ == "Usa20290Response"
            assert "stex_tp" not in server.received[-1]
            await server.real([("FE", "AAPL", wire_values("FE"))])

    run(main())


def test_first_connect_failures_are_kiwoom_errors(run: Any) -> None:
    """A server closing with 1000 at once, or nothing listening: a RealtimeError, never a bare
    websockets or OS exception."""
    from websockets.asyncio.server import ServerConnection, serve

    from kiwoom import KiwoomError, Realtime, RealtimeError

    async def close_at_once(ws: ServerConnection) -> None:
        await ws.close(1000, "too many connections")

    async def main() -> None:
        async with serve(close_at_once, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            rt = Realtime("tok", url=f"ws://127.0.0.1:{port}/api/dostk/websocket")
            try:
                await rt.connect()
            except RealtimeError as exc:
                assert isinstance(exc, KiwoomError)
                assert "ConnectionClosed" in str(exc) and "tok" not in str(exc)
            else:
                raise AssertionError("connect() succeeded against a closing server")
            finally:
                await rt.close()
        rt = Realtime("tok", url=f"ws://127.0.0.1:{port}/api/dostk/websocket")
        try:
            await rt.connect()
        except RealtimeError as exc:
            assert isinstance(exc.__cause__, OSError)
        else:
            raise AssertionError("connect() succeeded with nothing listening")
        finally:
            await rt.close()

    run(main())
