"""``AsyncKiwoom.realtime()``: the socket of the client's host, logged in with its token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from _fake import FakeKiwoom
from rt_server import KiwoomServer

from kiwoom import AsyncKiwoom
from kiwoom._constants import websocket_url


def test_the_socket_url_follows_the_rest_host() -> None:
    assert websocket_url("https://api.kiwoom.com") == (
        "wss://api.kiwoom.com:10000/api/dostk/websocket"
    )
    assert websocket_url("https://mockapi.kiwoom.com/", "domestic") == (
        "wss://mockapi.kiwoom.com:10000/api/dostk/websocket"
    )
    assert websocket_url("https://api.kiwoom.com", "us") == (
        "wss://api.kiwoom.com:10000/api/us/websocket"
    )
    assert websocket_url("http://127.0.0.1:8080") == "ws://127.0.0.1:8080/api/dostk/websocket"
    with pytest.raises(ValueError, match="region"):
        websocket_url("https://api.kiwoom.com", "jp")


def test_the_client_logs_the_socket_in_and_refreshes_a_rejected_token(
    run: Callable[[Any], Any],
) -> None:
    async def main() -> None:
        async with KiwoomServer() as server:
            server.accepted_tokens = {"tok-2"}  # the first token is turned down: one refresh
            fake = FakeKiwoom()
            host = server.url.removesuffix(server.path).replace("ws://", "http://")
            async with AsyncKiwoom(
                "app", "secret", host=host, transport=fake.async_transport(), limiter=False
            ) as client:
                async with client.realtime(backoff_initial=0.01) as rt:
                    assert rt.connected
                    assert rt.url == server.url
                    await rt.register(["005930"], ["0B"], group="1")
                assert server.logins == ["tok-1", "tok-2"]
            assert fake.issued == 2
            assert fake.revoked == ["tok-2"]

    run(main())
