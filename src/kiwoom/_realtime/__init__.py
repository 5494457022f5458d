"""Kiwoom's real-time WebSocket: typed ticks, registrations, condition search, reconnects."""

from ._client import CONDITION_EVENT, LoginError, Realtime, RealtimeError, ReconnectInfo
from ._defaults import DOMESTIC_MOCK_URL, DOMESTIC_URL, US_URL
from ._dispatch import Stats, Stream, Subscription, Tick, TypeCounters
from ._registry import Registration

__all__ = [
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
]
