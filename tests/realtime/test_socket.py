"""The real-time client against the fixture server: lifecycle, registrations, dispatch."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from rt_samples import wire_values
from rt_server import GOOD_TOKEN, KiwoomServer
from websockets.exceptions import ConnectionClosed

import kiwoom
from kiwoom import InvalidRequestError, LoginError, Realtime, RealtimeError, Tick
from kiwoom._realtime import _defaults


def client(server: KiwoomServer, token: Any = GOOD_TOKEN, **options: Any) -> Realtime:
    """A client with short timings, so the tests stay fast."""
    settings: dict[str, Any] = {
        "url": server.url,
        "backoff_initial": 0.01,
        "backoff_max": 0.1,
        "stable_after": 60.0,
        "watchdog": None,
        "request_timeout": 2.0,
    }
    settings.update(options)
    return Realtime(token, **settings)


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


TRADE = wire_values("0B")


def test_login_register_stream_callbacks_ping_and_close(run: Any) -> None:
    async def main() -> None:
        async with KiwoomServer() as server:
            rt = client(server)
            async with rt:
                assert rt.connected
                stream = rt.stream("0B", ["005930"])
                seen_sync: list[Tick] = []
                seen_async: list[Tick] = []

                async def on_async(tick: Tick) -> None:
                    seen_async.append(tick)

                rt.on("0B", seen_sync.append)
                rt.on(["0B"], on_async)
                await rt.register(["005930", "000660"], ["0B"], group="1")
                assert server.registered == {"1": {("0B", "005930"), ("0B", "000660")}}
                ping = '{"trnm":"PING","ts":"x"}'
                await server.ping(ping)
                await server.real([("0B", "005930", TRADE), ("0B", "000660", TRADE)])
                tick = await anext(stream)
                assert tick.item == "005930" and tick.type == "0B"
                assert isinstance(tick.values, kiwoom.Real0B)
                assert tick.values.cur_prc == 60700
                await until(lambda: rt.stats().types["0B"].dispatched == 5)
                assert len(seen_sync) == 2 and len(seen_async) == 2
                await until(lambda: server.pongs == [ping])  # echoed unchanged
                counters = rt.stats().types["0B"]
                assert (counters.received, counters.dispatched, counters.dropped) == (2, 5, 0)
                assert rt.stats().pings == 1
            assert not rt.connected
            # the stream ends with the client
            with pytest.raises(StopAsyncIteration):
                await anext(stream)
            assert [m["trnm"] for m in server.received] == ["LOGIN", "REG", "PING"], server.received

    run(main())


def test_login_rejected_and_refreshed(run: Any) -> None:
    async def main() -> None:
        async with KiwoomServer() as server:
            with pytest.raises(LoginError) as err:
                await client(server, token="stale").connect()
            assert err.value.code == 8005
            assert "stale" not in str(err.value)

            async def refresh() -> str:
                return GOOD_TOKEN

            calls = 0

            def provider() -> str:
                nonlocal calls
                calls += 1
                return "stale"

            async with client(server, token=provider, refresh_token=refresh) as rt:
                assert rt.connected
            assert calls == 1
            assert server.logins[-2:] == ["stale", GOOD_TOKEN]

    run(main())


def test_registration_limit_and_registry(run: Any) -> None:
    async def main() -> None:
        async with KiwoomServer() as server, client(server) as rt:
            codes = [f"{i:06d}" for i in range(101)]
            with pytest.raises(InvalidRequestError, match="at most 100 per registration"):
                await rt.register(codes, "0B")
            with pytest.raises(InvalidRequestError, match="not a real-time type"):
                await rt.register(["005930"], "ka10081")
            assert [m["trnm"] for m in server.received] == ["LOGIN"]

            await rt.register(codes[:100], "0B", group="1")
            await rt.register(codes[100:], "0B", group="1")  # a group may grow past 100
            await rt.register(["005930"], ["0D", "0B"], group="2")
            await rt.register([], "00", group="3")  # orders need no item
            regs = {(r.group, r.type): r for r in rt.registrations()}
            assert len(regs[("1", "0B")].items) == 101
            assert regs[("1", "0B")].acknowledged == regs[("1", "0B")].items
            assert regs[("3", "00")].items == ("",)

            await rt.register(["000660"], "0B", group="2", replace=True)
            assert server.received[-1]["refresh"] == "0"
            assert [(r.type, r.items) for r in rt.registrations() if r.group == "2"] == [
                ("0B", ("000660",))
            ]
            await rt.remove("1", ["000000"])
            assert server.received[-1] == {
                "trnm": "REMOVE",
                "grp_no": "1",
                "refresh": "1",
                "data": [{"item": ["000000"], "type": ["0B"]}],
            }
            await rt.remove("2")
            assert {r.group for r in rt.registrations()} == {"1", "3"}
            assert len(server.registered["1"]) == 100 and not server.registered["2"]

            server.reg_code = 1999
            with pytest.raises(RealtimeError) as err:
                await rt.register(["035420"], "0B", group="4")
            assert err.value.code == 1999
            assert "4" not in {r.group for r in rt.registrations()}

    run(main())


def test_order_and_balance_events_are_typed(run: Any) -> None:
    async def main() -> None:
        async with KiwoomServer() as server, client(server) as rt:
            stream = rt.stream(["00", "04"])
            await rt.register([], ["00", "04"], group="9")
            await server.real([("00", "", wire_values("00")), ("04", "", wire_values("04"))])
            order, balance = await anext(stream), await anext(stream)
            assert isinstance(order.values, kiwoom.Real00)
            assert isinstance(balance.values, kiwoom.Real04)

    run(main())


def test_raw_frames(run: Any) -> None:
    async def main() -> None:
        async with KiwoomServer() as server, client(server) as rt:
            frames: list[str | bytes] = []
            stop = rt.on_raw(frames.append)
            await rt.register(["005930"], "0B")
            await server.real([("0B", "005930", TRADE)])
            await until(lambda: len(frames) == 2)  # the REG answer, the REAL frame
            assert b'"REAL"' in (frames[1] if isinstance(frames[1], bytes) else frames[1].encode())
            await stop()

    run(main())


def test_import_kiwoom_stays_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, kiwoom; assert 'websockets' not in sys.modules;"
        " assert 'kiwoom._realtime' not in sys.modules; kiwoom.Realtime;"
        " import kiwoom._realtime as r;"
        " mine = [n for n, m in kiwoom._RUNTIME.items() if m == '._realtime'];"
        " assert sorted(mine) == sorted(r.__all__)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_frames_mixing_types_and_odd_values_take_the_tolerant_road(run: Any) -> None:
    async def main() -> None:
        async with KiwoomServer() as server, client(server) as rt:
            stream = rt.stream("0B")
            await rt.register(["005930"], ["0B", "0A"])
            # 0A has no consumer: its values are skipped undecoded.
            await server.real([("0A", "005930", wire_values("0A")), ("0B", "005930", TRADE)])
            # A number where Kiwoom documents a string.
            await server.send(
                '{"trnm":"REAL","data":[{"type":"0B","item":"000660","values":{"10":-60700}}]}'
            )
            first, second = await anext(stream), await anext(stream)
            assert first.item == "005930" and first.values.cur_prc == 60700
            assert second.item == "000660" and second.values.cur_prc == 60700
            stats = rt.stats()
            assert stats.types["0A"].received == 1 and stats.types["0A"].dispatched == 0
            assert stats.types["0B"].received == 2 and stats.types["0B"].decode_errors == 0

    run(main())


def test_system_frames_are_logged_and_answer_nothing(
    run: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """SYSTEM frames (the real server's notices) are logged at INFO with their code and
    message; they are never taken as the answer to a pending LOGIN or REG, never a tick, never
    malformed, and they leave the connection up."""

    async def main() -> None:
        async with KiwoomServer() as server:
            server.system_before = {"LOGIN", "REG"}
            with pytest.raises(LoginError) as err:  # SYSTEM first, then the rejection
                await client(server, token="stale").connect()
            assert err.value.code == 8005

            async def token() -> str:
                return GOOD_TOKEN

            async with client(server, token=token) as rt:
                stream = rt.stream("0B")
                await rt.register(["005930"], "0B")
                assert rt.registrations()[0].acknowledged == ("005930",)
                server.reg_code = 1999  # SYSTEM first, then the REG rejection
                with pytest.raises(RealtimeError) as rejected:
                    await rt.register(["000660"], "0B", group="2")
                assert rejected.value.code == 1999
                assert server.ws is not None
                await server.system(server.ws, "R10003", "점검 예정")  # mid-session
                await server.real([("0B", "005930", TRADE)])
                tick = await anext(stream)
                assert (tick.type, tick.item) == ("0B", "005930")
                stats = rt.stats()
                assert (stats.connects, stats.reconnects, stats.malformed_frames) == (1, 0, 0)
                assert set(stats.types) == {"0B"} and stats.types["0B"].received == 1
                assert rt.connected
            assert server.logins == ["stale", GOOD_TOKEN]

    run(main())
    notices = [
        r.getMessage()
        for r in caplog.records
        if r.name == "kiwoom.realtime" and r.levelno == logging.INFO and "SYSTEM" in r.getMessage()
    ]
    assert notices == [
        "SYSTEM R10001 연결되었습니다",  # before the rejected LOGIN
        "SYSTEM R10001 연결되었습니다",  # before the accepted LOGIN
        "SYSTEM R10001 연결되었습니다",  # before the REG answer
        "SYSTEM R10001 연결되었습니다",  # before the REG rejection
        "SYSTEM R10003 점검 예정",
    ]


def test_registered_before_connect_or_while_down_is_sent(run: Any) -> None:
    async def main() -> None:
        async with KiwoomServer() as server:
            rt = client(server, backoff_initial=0.2)
            await rt.register(["005930"], "0B", group="1")
            assert rt.registrations()[0].acknowledged == ()
            async with rt:
                assert server.registered == {"1": {("0B", "005930")}}
                assert rt.registrations()[0].acknowledged == ("005930",)
                server.drop()
                await until(lambda: not rt.connected)
                await rt.register(["000660"], "0B", group="2")  # while down: recorded
                assert [r.acknowledged for r in rt.registrations()] == [(), ()]
                await server.wait_registered("2", 1)
                await until(lambda: all(r.acknowledged for r in rt.registrations()))

    run(main())


def test_rejected_relogin_closes_with_the_error(run: Any) -> None:
    async def main() -> None:
        async with KiwoomServer() as server:

            async def refresh() -> str:
                return "still-bad"

            rt = client(server, refresh_token=refresh)
            async with rt:
                stream = rt.stream("0B")
                await rt.register(["005930"], "0B")
                server.accepted_tokens.clear()  # the token expired meanwhile
                server.drop()
                with pytest.raises(LoginError):
                    await anext(stream)
                with pytest.raises(LoginError):
                    await rt.wait_closed()
            assert server.logins[-2:] == [GOOD_TOKEN, "still-bad"]

    run(main())


def test_wire_form_consumers(run: Any) -> None:
    async def main() -> None:
        async with KiwoomServer() as server, client(server) as rt:
            typed = rt.stream("0B")
            wire = rt.stream("0B", wire=True)
            texts: list[str] = []
            rt.on("0B", lambda tick: texts.append(tick.values.cur_prc), wire=True)
            await rt.register(["005930"], "0B")
            await server.real([("0B", "005930", TRADE)])
            await server.send(  # a number on the wire: the tolerant road, still text for wire
                '{"trnm":"REAL","data":[{"type":"0B","item":"000660","values":{"10":-60700}}]}'
            )
            w1, w2 = await anext(wire), await anext(wire)
            assert isinstance(w1.values, kiwoom.Real0BWire) and w1.values.cur_prc == "-60700"
            assert w2.values.cur_prc == "-60700" and w2.item == "000660"
            t1 = await anext(typed)
            assert t1.values.cur_prc == 60700
            await until(lambda: texts == ["-60700", "-60700"])
            with pytest.raises(InvalidRequestError):
                rt.stream("02", wire=True)  # condition events are typed only

    run(main())


def test_token_never_logged(run: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="kiwoom.realtime")

    async def main() -> None:
        async with KiwoomServer() as server:
            async with client(server) as rt:
                await rt.register(["005930"], "0B")
            assert "connected" not in repr(rt) and GOOD_TOKEN not in repr(rt)
            with pytest.raises(RealtimeError, match="closed"):
                await rt.connect()

    run(main())
    client_records = [r for r in caplog.records if not r.name.startswith("websockets.server")]
    assert any("REG" in r.getMessage() for r in client_records)  # frames were logged
    assert not any(GOOD_TOKEN in r.getMessage() for r in client_records)


def test_a_burst_gives_the_consumers_a_turn_every_few_frames(run: Any) -> None:
    # recv() does not wait while frames are buffered: the receive loop yields every READ_TURN
    # frames, so a stream gets its ticks while a burst is still being read, not after it.
    frame = json.dumps(
        {"trnm": "REAL", "data": [{"type": "0B", "name": "", "item": "005930", "values": TRADE}]}
    ).encode()

    class Buffered:
        """A socket with every frame of the burst already buffered."""

        def __init__(self, frames: int) -> None:
            self.left = frames

        async def recv(self, decode: bool | None = None) -> bytes:
            if not self.left:
                raise ConnectionClosed(None, None)
            self.left -= 1
            return frame

    async def main() -> None:
        rt = Realtime(GOOD_TOKEN, watchdog=None, reconnect=False)
        stream = rt.stream("0B")
        frames_read: list[int] = []  # frames the loop had read when each tick was consumed

        async def consume() -> None:
            async for _tick in stream:
                frames_read.append(rt.stats().frames)
                if len(frames_read) == 200:
                    return

        consumer = asyncio.get_running_loop().create_task(consume())
        await rt._read(Buffered(200))
        await consumer
        assert frames_read[0] == _defaults.READ_TURN
        assert frames_read[-1] == 200
        await rt.close()

    run(main())


@pytest.mark.parametrize("kind", ["plain", "async"])
def test_a_draining_stop_gives_a_raw_callback_every_frame_received(run: Any, kind: str) -> None:
    async def main() -> None:
        async with KiwoomServer() as server:
            rt = client(server)
            await rt.connect()
            got: list[str | bytes] = []

            def slow(frame: str | bytes) -> None:
                time.sleep(0.002)
                got.append(frame)

            async def slow_async(frame: str | bytes) -> None:
                await asyncio.sleep(0.002)
                got.append(frame)

            stop = rt.on_raw(slow if kind == "plain" else slow_async)
            await rt.register(["005930"], "0B")
            for _ in range(50):
                await server.real([("0B", "005930", TRADE)])
            await until(lambda: rt.stats().frames >= 51)  # the REG answer and 50 REAL frames
            assert len(got) < 51  # the callback is behind...
            await rt.close()
            await stop(drain=True)
            assert len(got) == 51  # ...and it got the rest, nothing dropped

    run(main())


def test_a_raw_callback_may_close_the_client(run: Any) -> None:
    async def main() -> None:
        async with KiwoomServer() as server:
            rt = client(server)
            await rt.connect()
            closed = asyncio.Event()

            async def close_on_real(frame: str | bytes) -> None:
                if b'"REAL"' in (frame if isinstance(frame, bytes) else frame.encode()):
                    await rt.close()
                    closed.set()

            rt.on_raw(close_on_real)
            await rt.register(["005930"], "0B")
            await server.real([("0B", "005930", TRADE)])
            await asyncio.wait_for(closed.wait(), 5)

    run(main())


def test_an_async_callback_may_close_the_client_and_the_others_finish_their_queue(
    run: Any,
) -> None:
    async def main() -> None:
        async with KiwoomServer() as server:
            rt = client(server)
            await rt.connect()
            closed = asyncio.Event()
            others: list[str] = []

            async def close_on_first(tick: Tick) -> None:
                await rt.close()  # a strategy ending: it waited for itself before
                closed.set()

            async def slow(tick: Tick) -> None:
                await asyncio.sleep(0.01)
                others.append(tick.item)

            rt.on("0B", close_on_first)
            rt.on("0B", slow)
            await rt.register(["005930"], "0B")
            await server.real([("0B", "005930", TRADE)] * 3)
            await asyncio.wait_for(closed.wait(), 5)
            assert others == ["005930"] * 3  # close() waited for the other callback's queue
            await asyncio.wait_for(rt.wait_closed(), 5)

    run(main())
