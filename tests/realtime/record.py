"""Record the real-time frame cassettes (cassettes/realtime/*.yaml).

Against the in-process fixture server (no network), every one of the 23 real-time types::

    .venv/bin/python tests/realtime/record.py

Against Kiwoom's mock-trading server (needs a token from au10001 with your own keys, and
market hours for real data; the token is never written)::

    KIWOOM_TOKEN=... .venv/bin/python tests/realtime/record.py \\
        --url wss://mockapi.kiwoom.com:10000/api/dostk/websocket --type 0B --items 005930 --count 3

The scenario is the same either way: LOGIN, a PING answered, REG of the items for the type,
then ``--count`` REAL items received and decoded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).parent))

from rt_cassette import CASSETTES, Recording, save
from rt_samples import REALTIME_TYPES, item_for, wire_values
from rt_server import GOOD_TOKEN, KiwoomServer
from websockets.asyncio.client import connect as real_connect

from kiwoom import Realtime, catalog


async def scenario(
    url: str, token: str, type_id: str, items: list[str], count: int, server: KiwoomServer | None
) -> list[dict[str, str]]:
    frames: list[dict[str, str]] = []

    async def recording_connect(u: str, **options: Any) -> Recording:
        return Recording(await real_connect(u, **options), frames)

    with mock.patch("kiwoom._realtime._client.connect", recording_connect):
        async with Realtime(token, url=url, watchdog=None) as rt:
            stream = rt.stream(type_id)
            if server is not None:
                await server.ping()
            await rt.register(items, [type_id], group="1")
            if server is not None:
                await server.real([(type_id, item, wire_values(type_id)) for item in items])
            async with asyncio.timeout(60):
                for _ in range(count):
                    await anext(stream)
    return frames


async def record_fixture() -> None:
    for type_id in REALTIME_TYPES:
        path = "/api/us/websocket" if catalog.get(type_id).region == "us" else None
        async with KiwoomServer(*([path] if path else [])) as server:
            items = item_for(type_id)
            frames = await scenario(server.url, GOOD_TOKEN, type_id, items, len(items), server)
        cassette = {
            "recorded_against": "fixture (tests/realtime/rt_server.py)",
            "type": type_id,
            "group": "1",
            "items": items,
            "frames": frames,
        }
        save(CASSETTES / f"{type_id}.yaml", cassette)
        print(f"recorded {type_id}: {len(frames)} frames")


async def record_live(url: str, type_id: str, items: list[str], count: int) -> None:
    token = os.environ["KIWOOM_TOKEN"]
    frames = await scenario(url, token, type_id, items, count, None)
    host = url.split("/")[2]
    cassette = {
        "recorded_against": host,
        "type": type_id,
        "group": "1",
        "items": items,
        "frames": frames,
    }
    save(CASSETTES / f"{type_id}-{host.split(':')[0]}.yaml", cassette)
    print(f"recorded {type_id} against {host}: {len(frames)} frames")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a Kiwoom socket URL (default: the fixture server)")
    parser.add_argument("--type", default="0B")
    parser.add_argument("--items", nargs="*", default=["005930"])
    parser.add_argument("--count", type=int, default=3)
    args = parser.parse_args()
    if args.url:
        asyncio.run(record_live(args.url, args.type, args.items, args.count))
    else:
        asyncio.run(record_fixture())


if __name__ == "__main__":
    main()
