"""The simulated clock: always in a trading session, at any wall-clock time, at any speed.

Simulated time runs ``speed`` times as fast as the wall clock and only through sessions
(09:00-15:30 KST, weekdays): at 15:30 it jumps to 09:00 of the next weekday. KRX holidays
are not modelled (every weekday trades).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from zoneinfo import ZoneInfo

KST = ZoneInfo("Asia/Seoul")
OPEN = dt.time(9, 0)
SESSION_SECONDS = 6 * 3600 + 30 * 60
"""09:00 to 15:30."""
SESSION_MINUTES = SESSION_SECONDS // 60


def is_trading_day(day: dt.date) -> bool:
    return day.weekday() < 5


def add_trading_days(day: dt.date, n: int) -> dt.date:
    """The trading day ``n`` trading days after ``day`` (before, for negative ``n``)."""
    step = 1 if n >= 0 else -1
    while not is_trading_day(day):
        day += dt.timedelta(days=step)
    for _ in range(abs(n)):
        day += dt.timedelta(days=step)
        while not is_trading_day(day):
            day += dt.timedelta(days=step)
    return day


def trading_days_between(start: dt.date, end: dt.date) -> int:
    """Trading days from ``start`` (a trading day) up to ``end``, not counting ``start``."""
    days = (end - start).days
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    wd = start.weekday()
    for i in range(1, rest + 1):
        if (wd + i) % 7 < 5:
            count += 1
    return count


class Clock:
    """Simulated time (``Asia/Seoul``). ``speed`` 0 stops it; :meth:`advance` steps it."""

    def __init__(self, start: dt.datetime | None = None, speed: float = 1.0) -> None:
        if speed < 0:
            raise ValueError(f"speed must not be negative, got {speed}")
        if start is None:
            start = dt.datetime.now(KST)
            if not is_trading_day(start.date()) or not (OPEN <= start.time() < dt.time(15, 30)):
                start = dt.datetime.combine(start.date(), dt.time(10, 0), KST)
        elif start.tzinfo is None:
            start = start.replace(tzinfo=KST)
        start = start.astimezone(KST)
        day = start.date()
        if not is_trading_day(day):
            day = add_trading_days(day, -1)
        offset = (start.hour * 3600 + start.minute * 60 + start.second) - 9 * 3600
        self._day0 = day
        self._lock = threading.Lock()
        self._base = float(min(max(offset, 0), SESSION_SECONDS - 1))
        self._wall = time.monotonic()
        self._speed = float(speed)

    @property
    def speed(self) -> float:
        """Simulated seconds per wall-clock second."""
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        if value < 0:
            raise ValueError(f"speed must not be negative, got {value}")
        with self._lock:
            self._base = self._position()
            self._wall = time.monotonic()
            self._speed = float(value)

    def advance(self, seconds: float) -> None:
        """Move simulated trading time forward (sessions only, nights skipped)."""
        with self._lock:
            self._base += seconds

    def _position(self) -> float:
        return self._base + (time.monotonic() - self._wall) * self._speed

    def position(self) -> float:
        """Trading seconds since 09:00 of the first simulated day."""
        with self._lock:
            return self._position()

    def split(self, position: float | None = None) -> tuple[dt.date, float]:
        """(trading day, seconds since its 09:00) of a position (default: now)."""
        pos = self.position() if position is None else position
        days, secs = divmod(pos, SESSION_SECONDS)
        return add_trading_days(self._day0, int(days)), secs

    def now(self) -> dt.datetime:
        """The simulated time, tz-aware (``Asia/Seoul``)."""
        day, secs = self.split()
        return dt.datetime.combine(day, OPEN, KST) + dt.timedelta(seconds=int(secs))

    def today(self) -> dt.date:
        """The simulated trading day."""
        return self.split()[0]
