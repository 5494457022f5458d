"""Typed SDK for the Kiwoom Securities (키움증권) REST and WebSocket API.

Every request, response and real-time type of Kiwoom's catalogue is importable from here
(``from kiwoom import Ka10081Request, Ka10081Response, Real0B``). They load on first use:
``import kiwoom`` stays fast, while type checkers and IDEs see every name.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._errors import DecodeError, InvalidRequestError, KiwoomError
from ._values import Direction, direction

if TYPE_CHECKING:
    from . import catalog as catalog
    from ._generated._exports import *  # noqa: F403
    from ._realtime import *  # noqa: F403

__version__ = "0.1.0"

__all__ = [
    "DecodeError",
    "Direction",
    "InvalidRequestError",
    "KiwoomError",
    "__version__",
    "catalog",
    "direction",
]

_SUBMODULES = frozenset({"catalog"})

# Hand-written runtime names, loaded on first use like the generated ones.
_RUNTIME = {
    name: "kiwoom._realtime"
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
}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    from ._generated._registry import NAMES

    module = _RUNTIME.get(name) or NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    from ._generated._registry import NAMES

    return sorted({*globals(), *_SUBMODULES, *_RUNTIME, *NAMES})
