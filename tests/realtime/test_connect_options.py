"""The socket's connect options: per-message deflate is off unless asked for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rt_server import GOOD_TOKEN, KiwoomServer

from kiwoom import Realtime


def _negotiated(server: KiwoomServer) -> tuple[str | None, list[str]]:
    assert server.ws is not None
    offered = server.ws.request.headers.get("Sec-WebSocket-Extensions")
    return offered, [e.name for e in server.ws.protocol.extensions]


def test_per_message_deflate_is_not_offered_by_default(run: Callable[[Any], Any]) -> None:
    # The server accepts deflate when offered (websockets' default): nothing may be negotiated.
    async def main() -> None:
        async with KiwoomServer() as server, Realtime(GOOD_TOKEN, url=server.url) as rt:
            assert rt.connected
            assert _negotiated(server) == (None, [])

    run(main())


def test_connect_options_can_ask_for_deflate(run: Callable[[Any], Any]) -> None:
    async def main() -> None:
        async with (
            KiwoomServer() as server,
            Realtime(GOOD_TOKEN, url=server.url, connect_options={"compression": "deflate"}),
        ):
            offered, negotiated = _negotiated(server)
            assert offered is not None and "permessage-deflate" in offered
            assert negotiated == ["permessage-deflate"]

    run(main())
