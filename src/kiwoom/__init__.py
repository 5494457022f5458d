"""Typed SDK for the Kiwoom Securities (키움증권) REST and WebSocket API.

Every request, response and real-time type of Kiwoom's catalogue is importable from here
(``from kiwoom import Ka10081Request, Ka10081Response, Real0B``). They load on first use:
``import kiwoom`` stays fast, while type checkers and IDEs see every name.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._constants import MOCK, REAL
from ._errors import DecodeError, InvalidRequestError, KiwoomError
from ._values import Direction, PriceSign, direction

if TYPE_CHECKING:
    from . import candles as candles
    from . import catalog as catalog
    from . import errors as errors
    from . import frames as frames
    from . import history as history
    from . import listings as listings
    from . import orders as orders
    from . import ratelimit as ratelimit
    from . import trades as trades
    from ._async import AsyncKiwoom as AsyncKiwoom
    from ._auth import FileTokenStore as FileTokenStore
    from ._client import RawResponse as RawResponse
    from ._generated._exports import *  # noqa: F403
    from ._paging import AsyncPages as AsyncPages
    from ._paging import Pages as Pages
    from ._realtime import CONDITION_EVENT as CONDITION_EVENT
    from ._realtime import DOMESTIC_MOCK_URL as DOMESTIC_MOCK_URL
    from ._realtime import DOMESTIC_URL as DOMESTIC_URL
    from ._realtime import US_URL as US_URL
    from ._realtime import LoginError as LoginError
    from ._realtime import Realtime as Realtime
    from ._realtime import RealtimeError as RealtimeError
    from ._realtime import ReconnectInfo as ReconnectInfo
    from ._realtime import Registration as Registration
    from ._realtime import Stats as Stats
    from ._realtime import Stream as Stream
    from ._realtime import Subscription as Subscription
    from ._realtime import Tick as Tick
    from ._realtime import TypeCounters as TypeCounters
    from ._sync import Kiwoom as Kiwoom
    from .bot import Bot as Bot
    from .candles import Candle as Candle
    from .orders import SafeOrders as SafeOrders

__version__ = "0.1.0"

__all__ = [
    "CONDITION_EVENT",
    "DOMESTIC_MOCK_URL",
    "DOMESTIC_URL",
    "MOCK",
    "REAL",
    "US_URL",
    "AsyncKiwoom",
    "AsyncPages",
    "Bot",
    "Candle",
    "DecodeError",
    "Direction",
    "FileTokenStore",
    "InvalidRequestError",
    "Kiwoom",
    "KiwoomError",
    "LoginError",
    "Pages",
    "PriceSign",
    "RawResponse",
    "Realtime",
    "RealtimeError",
    "ReconnectInfo",
    "Registration",
    "SafeOrders",
    "Stats",
    "Stream",
    "Subscription",
    "Tick",
    "TypeCounters",
    "__version__",
    "candles",
    "catalog",
    "direction",
    "errors",
    "frames",
    "history",
    "listings",
    "orders",
    "ratelimit",
    "trades",
]

_SUBMODULES = frozenset(
    {
        "candles",
        "catalog",
        "errors",
        "frames",
        "history",
        "listings",
        "orders",
        "ratelimit",
        "trades",
    }
)

# Hand-written names that load on first use: the clients import httpx, the real-time
# runtime websockets.
_RUNTIME = {
    "Kiwoom": "._sync",
    "AsyncKiwoom": "._async",
    "RawResponse": "._client",
    "Pages": "._paging",
    "AsyncPages": "._paging",
    "FileTokenStore": "._auth",
    # The trader's helpers (kiwoom-restful's names); frames load pandas only when called.
    "Bot": ".bot",
    "Candle": ".candles",
    "SafeOrders": ".orders",
}
_RUNTIME.update(
    (name, "._realtime")
    for name in (
        "CONDITION_EVENT",
        "DOMESTIC_MOCK_URL",
        "DOMESTIC_URL",
        "US_URL",
        "LoginError",
        "Realtime",
        "RealtimeError",
        "ReconnectInfo",
        "Registration",
        "Stats",
        "Stream",
        "Subscription",
        "Tick",
        "TypeCounters",
    )
)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    runtime = _RUNTIME.get(name)
    if runtime is not None:
        value = getattr(importlib.import_module(runtime, __name__), name)
        globals()[name] = value
        return value
    # A private name is a submodule asked for by ``from . import _x`` (no generated name
    # starts with "_"): answered without loading the table of every generated name.
    module = None if name.startswith("_") else _generated_module(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def _generated_module(name: str) -> str | None:
    from ._generated._names import NAMES

    return NAMES.get(name)


def __dir__() -> list[str]:
    from ._generated._names import NAMES

    return sorted({*globals(), *_SUBMODULES, *_RUNTIME, *NAMES})
