"""Conversions from Kiwoom's string-encoded wire values to Python values.

Every value arrives as a string: ``"-20800"``, ``"+82"``, ``"000000012300"``, ``""``,
``"+0.16"``, ``"20250908"``, ``"165208"``. The generated converters inline the hot cases
(``int(s) if s else None``); the helpers here cover dates, times and the rarer shapes.
"""

from __future__ import annotations

import datetime as _dt
import enum

__all__ = [
    "SENTINEL_TIMES",
    "Direction",
    "PriceSign",
    "direction",
    "fast_date",
    "fast_time",
    "to_code",
    "to_date",
    "to_datetime",
    "to_number",
    "to_time",
]


class Direction(enum.IntEnum):
    """The direction a signed price carried on the wire, against the previous close."""

    DOWN = -1
    FLAT = 0
    UP = 1


class PriceSign(enum.StrEnum):
    """The sign code of a price against the previous close (``pred_pre_sig``, ``pre_sig``
    and their kin hold ``"1"``..``"5"``): ``PriceSign(row.pred_pre_sig).label`` -> ``"상승"``.

    Members compare equal to the wire code (``PriceSign.UP == "2"``).
    """

    LIMIT_UP = "1"
    UP = "2"
    FLAT = "3"
    LIMIT_DOWN = "4"
    DOWN = "5"

    @property
    def label(self) -> str:
        """The Korean label of the code."""
        return _SIGN_LABELS[self]

    @property
    def direction(self) -> Direction:
        """Up, flat or down, the limits included."""
        if self in (PriceSign.LIMIT_UP, PriceSign.UP):
            return Direction.UP
        if self is PriceSign.FLAT:
            return Direction.FLAT
        return Direction.DOWN


_SIGN_LABELS = {"1": "상한가", "2": "상승", "3": "보합", "4": "하한가", "5": "하락"}


def direction(wire: str | None) -> Direction:
    """Direction carried by the sign of a wire value: ``"-20800"`` -> ``Direction.DOWN``.

    Typed prices are magnitudes (``20800``); the sign of the wire string says whether the
    price stands above (+) or below (-) the previous close. Read the wire string from the
    ``...Wire`` model of the same response (``kiwoom.catalog.get(id).decode_wire(raw)``).
    """
    if not wire:
        return Direction.FLAT
    head = wire.lstrip()[:1]
    if head == "-":
        return Direction.DOWN
    if head == "+":
        return Direction.UP
    return Direction.FLAT


# The generated converters' fast path: C parsers for the canonical shapes ("20250908",
# "165208", "16:52:08"). Anything else ("00000000", " 165208", "240000") raises, and the
# response is converted again by the tolerant path (kiwoom._convert) with the helpers below.
fast_date = _dt.date.fromisoformat
fast_time = _dt.time.fromisoformat


def to_number(s: str) -> str:
    """Wire number text in a form ``int``/``float`` accept: blanks stripped, a doubled sign
    (``"--1100"``, ``"++0.34"``, ``"+-5"``) reduced to one, thousands separators dropped."""
    s = s.strip().replace(",", "")
    negative = False
    i = 0
    while i < len(s) and s[i] in "+-":
        negative = negative or s[i] == "-"
        i += 1
    if i > 1 or (i == 1 and not negative):
        s = ("-" if negative else "") + s[i:]
    return s


def to_date(s: str) -> _dt.date | None:
    """``"20250908"`` -> ``date(2025, 9, 8)``; ``""`` and ``"00000000"`` -> ``None``."""
    s = s.strip()
    if not s or not s.strip("0"):
        return None
    if len(s) == 8:
        return _dt.date(int(s[:4]), int(s[4:6]), int(s[6:]))
    return _dt.date.fromisoformat(s)


# Kiwoom's special clock marks, as the typed value: a chart bar or trade of the closing
# auction is stamped "888888", one of the after-hours close "999999" (the wire text stays in
# the wire model). For sector codes 253 and 254 the closing auction is 17:00: a time alone
# cannot tell, so catalog.Entry.decode sets it from the response's inds_cd (_convert.late_close).
SENTINEL_TIMES = {"888888": _dt.time(16, 0), "999999": _dt.time(18, 0)}


def to_time(s: str) -> _dt.time | None:
    """``"165208"``, ``"16:52:08"``, ``"1652"``, ``"16:52"`` -> a ``time``; ``""`` -> ``None``.

    The sentinels of :data:`SENTINEL_TIMES` read as their time (``"888888"``: 16:00, the
    closing auction; ``"999999"``: 18:00, the after-hours close). Kiwoom also sends
    ``"240000"``-style end-of-day marks: any other hour past 23 maps to ``None`` rather than
    failing the whole response.
    """
    s = s.strip().replace(":", "")
    if not s:
        return None
    if s in SENTINEL_TIMES:
        return SENTINEL_TIMES[s]
    if len(s) == 4:
        s += "00"
    hour, minute, second = int(s[:2]), int(s[2:4]), int(s[4:6])
    if hour > 23 or minute > 59 or second > 59:
        return None
    micro = int(s[6:].ljust(6, "0")[:6]) if len(s) > 6 else 0
    return _dt.time(hour, minute, second, micro)


def to_datetime(s: str) -> _dt.datetime | None:
    """``"20241107083713"`` -> ``datetime(2024, 11, 7, 8, 37, 13)``; ``""`` -> ``None``."""
    s = s.strip()
    if not s or not s.strip("0"):
        return None
    day = to_date(s[:8])
    clock = to_time(s[8:]) if len(s) > 8 else _dt.time()
    if day is None or clock is None:
        return None
    return _dt.datetime.combine(day, clock)


def to_code(v: int | str | None) -> int | None:
    """A ``return_code`` as sent (a JSON number, or now and then a string) -> ``int``."""
    if v is None or v == "":
        return None
    return int(v)
