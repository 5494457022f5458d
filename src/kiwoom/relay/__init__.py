"""One Kiwoom socket shared by many processes through Redis (optional extra ``kiwoom[redis]``).

One process runs the relay (``python -m kiwoom.relay``, or :class:`Relay` around a
:class:`kiwoom.Realtime`): it holds the socket and publishes every ``REAL`` frame to a Redis
stream per real-time type. Any other process uses :class:`RelayClient`, with the socket
runtime's interface (``register``, ``remove``, ``stream``, ``on``, ``on_raw``, ``stats``,
condition search) and its typed
ticks; registrations are reference-counted per (type, item), so the socket sees one REG per
pair and a REMOVE when its last holder lets go::

    async with RelayClient("redis://localhost:6379/0") as rt:
        await rt.register(["005930"], ["0B"])
        async for tick in rt.stream("0B"):
            print(tick.item, tick.values.cur_prc)
"""

from ._client import RelayClient, RelayClientStats
from ._main import main
from ._relay import Relay, RelayError, RelayStats

__all__ = ["Relay", "RelayClient", "RelayClientStats", "RelayError", "RelayStats", "main"]
