"""``kiwoom.Bot``: the wrapper's real-time names on our socket, debugging, connect and close."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Any

import pytest
from _fake import APPKEY, SECRET, FakeKiwoom
from rt_server import GOOD_TOKEN, KiwoomServer

from kiwoom import MOCK, REAL, Bot
from kiwoom.bot import RealData


def test_the_wrappers_names_are_importable() -> None:
    assert REAL == "https://api.kiwoom.com" and MOCK == "https://mockapi.kiwoom.com"
    bot = Bot(MOCK, APPKEY, SECRET)
    for name in ("connect", "close", "run", "candle", "trade", "stock_list", "sector_list"):
        assert callable(getattr(bot, name))
    for name in ("register_tick", "register_hoga", "remove_register", "add_callback_on_real_data"):
        assert callable(getattr(bot.api, name))
    assert APPKEY not in repr(bot) and SECRET not in repr(bot)


def test_keys_may_be_file_paths(tmp_path: Any) -> None:
    (tmp_path / "appkey.txt").write_text(APPKEY + "\n")
    (tmp_path / "secretkey.txt").write_text(SECRET + "\n")
    bot = Bot(MOCK, str(tmp_path / "appkey.txt"), str(tmp_path / "secretkey.txt"))
    creds = bot.api.client._creds
    assert (creds.appkey, creds.secretkey) == (APPKEY, SECRET)


def test_callbacks_receive_each_item_in_order_and_registrations_reach_the_server() -> None:
    async def main() -> None:
        async with KiwoomServer() as server:
            server.accepted_tokens = {"tok-1"}
            fake = FakeKiwoom()
            host = server.url.removesuffix(server.path).replace("ws://", "http://")
            ticks: list[RealData] = []
            books: list[tuple[str, str]] = []
            threads: set[str] = set()
            got_all = asyncio.Event()

            async def on_tick(raw: RealData) -> None:
                ticks.append(raw)
                if len(ticks) == 3:
                    got_all.set()

            def on_book(raw: str) -> None:  # a plain function: runs in a worker thread
                msg = json.loads(raw)
                books.append((msg["item"], msg["values"]["41"]))
                threads.add(threading.current_thread().name)

            bot = Bot(host, APPKEY, SECRET, transport=fake.async_transport(), limiter=False)
            async with bot:
                bot.api.add_callback_on_real_data("0B", on_tick)
                bot.api.add_callback_on_real_data(real_type="0d", callback=on_book)
                await bot.api.register_tick("1", ["005930", "000660"])
                await bot.api.register_hoga(grp_no="1", codes=["005930"])
                assert server.registered["1"] == {
                    ("0B", "005930"), ("0B", "000660"), ("0D", "005930")
                }  # fmt: skip
                await server.real(
                    [("0B", "005930", {"10": "-60700", "20": "152413"}),
                     ("0D", "005930", {"41": "+60800"}),
                     ("0B", "000660", {"10": "+200000", "20": "152414"})]
                )  # fmt: skip
                await server.real([("0B", "005930", {"10": "-60600", "20": "152415"})])
                await server.real([("0A", "005930", {"10": "1"})])  # no callback: ignored
                await asyncio.wait_for(got_all.wait(), 5)
                await server.ping()
                await bot.api.remove_register(grp_no="1", type=["0B", "0D"])
                assert server.registered["1"] == set()
            assert [(t.type, t.item) for t in ticks] == [
                ("0B", "005930"), ("0B", "000660"), ("0B", "005930")
            ]  # fmt: skip
            assert json.loads(ticks[0])["values"]["10"] == "-60700"
            assert json.loads(ticks[0].values) == {"10": "-60700", "20": "152413"}
            assert ticks[0].name == "주식체결"
            assert books == [("005930", "+60800")]
            assert threads and threading.current_thread().name not in threads
            assert server.logins == ["tok-1"] and fake.revoked == ["tok-1"]
            assert bot.api.callback_errors == 0
            assert bot.api.realtime is None  # closed

    asyncio.run(main())


def test_a_slow_plain_callback_holds_neither_the_loop_nor_the_async_callbacks() -> None:
    async def main() -> None:
        async with KiwoomServer() as server:
            server.accepted_tokens = {"tok-1"}
            fake = FakeKiwoom()
            host = server.url.removesuffix(server.path).replace("ws://", "http://")
            release = threading.Event()
            books: list[str] = []
            ticks: list[str] = []
            three = asyncio.Event()

            def slow_book(raw: RealData) -> None:  # blocks until the test lets it go
                release.wait(10)
                books.append(json.loads(raw)["values"]["41"])

            async def on_tick(raw: RealData) -> None:
                ticks.append(raw.item)
                if len(ticks) == 3:
                    three.set()

            async with Bot(host, APPKEY, SECRET, transport=fake.async_transport()) as bot:
                bot.api.add_callback_on_real_data("0D", slow_book)
                bot.api.add_callback_on_real_data("0B", on_tick)
                await bot.api.register("1", ["005930"], ["0B", "0D"])
                await server.real([("0D", "005930", {"41": "+1"})])
                await server.real([("0D", "005930", {"41": "+2"})])
                for n in range(3):
                    await server.real([("0B", "005930", {"10": str(n)})])
                # The async callback got every tick while the plain one is still blocked.
                await asyncio.wait_for(three.wait(), 5)
                assert books == []
                release.set()
                for _ in range(100):
                    if len(books) == 2:
                        break
                    await asyncio.sleep(0.05)
                assert books == ["+1", "+2"]  # then in order, none lost
                assert bot.api.callback_errors == 0

    asyncio.run(main())


@pytest.mark.parametrize("kind", ["async", "plain"])
def test_a_failing_callback_is_counted_and_keeps_being_called(kind: str) -> None:
    async def main() -> int:
        async with KiwoomServer() as server:
            server.accepted_tokens = {"tok-1"}
            fake = FakeKiwoom()
            host = server.url.removesuffix(server.path).replace("ws://", "http://")
            calls = 0
            loop = asyncio.get_running_loop()
            done = asyncio.Event()

            def plain_boom(raw: RealData) -> None:
                nonlocal calls
                calls += 1
                if calls == 2:
                    loop.call_soon_threadsafe(done.set)
                raise ValueError("strategy bug")

            async def boom(raw: RealData) -> None:
                plain_boom(raw)

            async with Bot(host, APPKEY, SECRET, transport=fake.async_transport()) as bot:
                bot.api.add_callback_on_real_data("0B", boom if kind == "async" else plain_boom)
                await bot.api.register_tick("1", ["005930"])
                await server.real([("0B", "005930", {"10": "1"})])
                await server.real([("0B", "005930", {"10": "2"})])
                await asyncio.wait_for(done.wait(), 5)
                await asyncio.sleep(0.05)
                return bot.api.callback_errors

    logging.getLogger("kiwoom").setLevel(logging.CRITICAL)
    try:
        assert asyncio.run(main()) == 2
    finally:
        logging.getLogger("kiwoom").setLevel(logging.NOTSET)


def test_debugging_prints_exchanges_with_secrets_masked(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeKiwoom()

    async def main() -> None:
        bot = Bot(
            MOCK, APPKEY, SECRET, realtime=False, transport=fake.async_transport(), limiter=False
        )
        async with bot:
            bot.debugging = True
            await bot.api.client.call("ka10001", {"stk_cd": "005930"})
            bot.debug(False)
            await bot.api.client.call("ka10001", {"stk_cd": "000660"})

    asyncio.run(main())
    out = capsys.readouterr().out
    assert "ka10001" in out and "005930" in out and "000660" not in out
    assert SECRET not in out and "tok-1" not in out and GOOD_TOKEN not in out


def test_start_runs_the_strategy_synchronously() -> None:
    fake = FakeKiwoom()
    seen: list[str] = []

    class MyBot(Bot):
        async def run(self) -> None:
            seen.append(type(self).__name__)

    MyBot(MOCK, APPKEY, SECRET, realtime=False, transport=fake.async_transport()).start()
    assert seen == ["MyBot"] and fake.issued == 1 and fake.revoked == ["tok-1"]
