"""Client-side rate limiting (stand-in: the real multi-bucket limiter replaces this module).

Interface the clients rely on: :class:`Limits`, :data:`REAL_LIMITS`, :data:`MOCK_LIMITS`,
:func:`limits_for`, and :class:`RateLimiter` with ``shared``, ``acquire``, ``acquire_async``
and ``on_rejected``.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ._constants import MOCK

__all__ = ["MOCK_LIMITS", "REAL_LIMITS", "Limits", "RateLimiter", "limits_for"]


@dataclass(frozen=True)
class Limits:
    """Calls allowed per ``window`` seconds: total queries, total orders, per API id, per group."""

    query_per_second: float
    order_per_second: float
    per_api: Mapping[str, float] = field(default_factory=dict)
    per_group: Mapping[str, float] = field(default_factory=dict)
    window: float = 1.0


REAL_LIMITS = Limits(query_per_second=5.0, order_per_second=5.0)
MOCK_LIMITS = Limits(query_per_second=2.0, order_per_second=2.0)


def limits_for(base_url: str) -> Limits:
    """The mock server's limits for its host; the real server's for any other URL."""
    return MOCK_LIMITS if base_url.rstrip("/") == MOCK else REAL_LIMITS


_ALLOWANCE = re.compile(r"유량\s*=\s*(\d+(?:\.\d+)?)")


class RateLimiter:
    """Sliding windows over the total (query or order), the API id and the group."""

    _shared: ClassVar[dict[str, RateLimiter]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, limits: Limits | None = None, *, backend: Any = None) -> None:
        self.limits = limits or REAL_LIMITS
        self._lock = threading.Lock()
        self._sent: dict[tuple[str, str], deque[float]] = {}
        self._learned: dict[str, float] = {}
        self.rejections = 0

    @classmethod
    def shared(cls, key: str, limits: Limits) -> RateLimiter:
        """One limiter per key (app key hash + host) in this process."""
        with cls._shared_lock:
            limiter = cls._shared.get(key)
            if limiter is None:
                limiter = cls._shared[key] = cls(limits)
            return limiter

    def _buckets(
        self, api_id: str, group: str, is_order: bool
    ) -> list[tuple[tuple[str, str], int]]:
        lim = self.limits
        total = lim.order_per_second if is_order else lim.query_per_second
        out = [(("total", "order" if is_order else "query"), total)]
        api_rate = self._learned.get(api_id, lim.per_api.get(api_id))
        if api_rate is not None:
            out.append((("api", api_id), api_rate))
        group_rate = lim.per_group.get(group)
        if group_rate is not None:
            out.append((("group", group), group_rate))
        return [(key, max(1, int(rate * lim.window))) for key, rate in out]

    def _try(self, api_id: str, group: str, is_order: bool) -> float:
        """Record a call and return 0, or return how long to wait first."""
        now = time.monotonic()
        window = self.limits.window
        with self._lock:
            wait = 0.0
            buckets = self._buckets(api_id, group, is_order)
            for key, cap in buckets:
                sent = self._sent.setdefault(key, deque())
                while sent and sent[0] <= now - window:
                    sent.popleft()
                if len(sent) >= cap:
                    wait = max(wait, sent[len(sent) - cap] + window - now)
            if wait > 0:
                return wait
            for key, _cap in buckets:
                self._sent[key].append(now)
            return 0.0

    def acquire(self, api_id: str, *, group: str, is_order: bool) -> float:
        """Block until the call fits every window; return the seconds waited."""
        waited = 0.0
        while (wait := self._try(api_id, group, is_order)) > 0:
            time.sleep(wait)
            waited += wait
        return waited

    async def acquire_async(self, api_id: str, *, group: str, is_order: bool) -> float:
        """Like :meth:`acquire`, sleeping with asyncio."""
        waited = 0.0
        while (wait := self._try(api_id, group, is_order)) > 0:
            await asyncio.sleep(wait)
            waited += wait
        return waited

    def on_rejected(self, api_id: str, message: str, *, group: str, is_order: bool) -> float:
        """Learn the allowance a rejection states (``유량=N``); return the back-off seconds."""
        with self._lock:
            self.rejections += 1
            match = _ALLOWANCE.search(message)
            if match:
                self._learned[api_id] = float(match.group(1))
        return self.limits.window
