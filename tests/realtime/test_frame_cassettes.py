"""Replay the recorded frame cassettes: login, ping, register and real data of all 23 types."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from rt_cassette import CASSETTES, TOKEN, Replay, load
from rt_samples import REALTIME_TYPES

from kiwoom import Realtime, catalog

PATHS = sorted(CASSETTES.glob("*.yaml"))


def test_every_realtime_type_has_a_cassette() -> None:
    recorded = {load(p)["type"] for p in PATHS}
    assert recorded >= set(REALTIME_TYPES)
    assert len(REALTIME_TYPES) == 23


def test_no_secret_in_cassettes() -> None:
    for path in PATHS:
        for frame in load(path)["frames"]:
            msg = json.loads(frame.get("send") or frame["recv"])
            if msg.get("trnm") == "LOGIN" and "token" in msg:
                assert msg["token"] == TOKEN, path.name


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_replay(path: Path, run: Any) -> None:
    cassette = load(path)
    type_id = cassette["type"]
    entry = catalog.get(type_id)
    replays: list[Replay] = []

    async def fake_connect(url: str, **options: Any) -> Replay:
        replays.append(Replay(cassette["frames"]))
        return replays[-1]

    expected = [
        (item["item"], entry.decode(json.dumps(item["values"])))
        for frame in cassette["frames"]
        if "recv" in frame and (msg := json.loads(frame["recv"]))["trnm"] == "REAL"
        for item in msg["data"]
    ]
    assert expected

    async def main() -> None:
        with mock.patch("kiwoom._realtime._client.connect", fake_connect):
            async with Realtime(TOKEN, url="ws://cassette", watchdog=None) as rt:
                stream = rt.stream(type_id)
                await rt.register(cassette["items"], [type_id], group=cassette["group"])
                for item, values in expected:
                    tick = await anext(stream)
                    # A frame naming no item (orders, balance): the values' stock code stands in.
                    assert tick.type == type_id
                    assert tick.item == (item or getattr(values, "stk_cd", None) or "")
                    assert isinstance(tick.values, entry.response_type)
                    assert tick.values == values
                    assert tick.name == entry.name
                assert replays[0].finished
                stats = rt.stats()
                assert stats.pings == sum(
                    1 for f in cassette["frames"] if "recv" in f and '"PING"' in f["recv"]
                )
                assert stats.types[type_id].decode_errors == 0

    run(main())


REG = {"trnm": "REG", "grp_no": "1", "refresh": "1", "data": [{"item": ["005930"], "type": ["0B"]}]}


def test_replay_follows_the_recording_not_the_clients_timing(run: Any) -> None:
    # As Kiwoom's server does: SYSTEM frames around login, a PING before the REG is answered.
    frames = [
        {"send": '{"trnm":"LOGIN","token":"<token>"}'},
        {"recv": '{"trnm":"SYSTEM","code":"R10001","message":"connected"}'},
        {"recv": '{"trnm":"LOGIN","return_code":0,"return_msg":""}'},
        {"recv": '{"trnm":"PING","ts":"1"}'},
        {"send": '{"trnm":"PING","ts":"1"}'},
        {"send": json.dumps(REG, separators=(",", ":"))},
        {"recv": '{"trnm":"REG","return_code":0,"return_msg":""}'},
    ]
    replay = Replay(frames)

    async def fake_connect(url: str, **options: Any) -> Replay:
        return replay

    async def main() -> None:
        with mock.patch("kiwoom._realtime._client.connect", fake_connect):
            async with Realtime(TOKEN, url="ws://cassette", watchdog=None) as rt:
                await rt.register(["005930"], "0B")  # sent before the PING is read
                assert replay.finished
                assert rt.registrations()[0].acknowledged == ("005930",)

    run(main())
