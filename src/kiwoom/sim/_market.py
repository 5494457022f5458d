"""The simulated market: one seeded price path per instrument, every view derived from it.

Three levels, each generated deterministically from ``(seed, code, ...)`` and consistent with
the level above: daily bars (closes follow smooth noise of several periods around a reference
price, from 2014, on tick sizes, within the daily +-30% limits); 390 minute bars per day that
hit the day's open, high, low, close and sum to its volume; ticks per minute that hit the
minute's open, high, low, close and sum to its volume. Today's candle, quotes, order books and
the real-time stream read the same ticks up to the simulated clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import math
import random
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Literal, NamedTuple

from ._clock import (
    KST,
    OPEN,
    SESSION_MINUTES,
    Clock,
    add_trading_days,
    is_trading_day,
    trading_days_between,
)
from ._universe import Instrument, universe

__all__ = ["Candle", "DayBar", "Market", "MinuteBar", "Period", "Quote", "Tick", "tick_size"]

EPOCH = dt.date(2014, 1, 6)
"""The first simulated trading day (a Monday): daily history starts here."""

Period = Literal["tick", "min", "day", "week", "month", "year"]

# Daily volatility by market; leveraged and inverse ETFs move more.
_SIGMA = {"KOSPI": 0.019, "KOSDAQ": 0.027, "ETF": 0.011, "ETN": 0.015, "SECTOR": 0.01, "US": 0.018}
# (period in trading days, amplitude of log price) of the noise the daily closes follow.
_OCTAVES = ((1, 0.014), (3, 0.014), (10, 0.03), (40, 0.06), (160, 0.12), (640, 0.2), (2000, 0.25))
_CACHE_DAYS = 256


def tick_size(price: int, market: str = "KOSPI") -> int:
    """KRX tick size (호가단위) of a price, per the 2023 table (KOSPI and KOSDAQ alike); ETFs
    and ETNs trade in 5 won steps; index points and US cents in steps of 1 (hundredths)."""
    if market in ("SECTOR", "US"):
        return 1
    if market in ("ETF", "ETN"):
        return 5
    if price < 2000:
        return 1
    if price < 5000:
        return 5
    if price < 20000:
        return 10
    if price < 50000:
        return 50
    if price < 200000:
        return 100
    if price < 500000:
        return 500
    return 1000


def _rng(seed: int, *parts: object) -> random.Random:
    key = "/".join(str(p) for p in (seed, *parts)).encode()
    return random.Random(int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big"))


class DayBar(NamedTuple):
    day: dt.date
    open: int
    high: int
    low: int
    close: int
    volume: int
    prev_close: int


class MinuteBar(NamedTuple):
    open: int
    high: int
    low: int
    close: int
    volume: int


class Tick(NamedTuple):
    second: int
    """Seconds into the minute."""
    price: int
    volume: int


class Candle(NamedTuple):
    """One candle of the simulator's own series: the numbers its chart APIs serve.

    ``time`` is naive Korea time (KST): the day at 00:00 for day/week/month/year candles (the
    period's first trading day), the bar's first minute for minute candles, the last trade's
    second for tick candles. Prices are positive ints on tick sizes; for ``SECTOR`` and ``US``
    instruments they are hundredths (index points x 100, cents). ``amount`` is in won (US:
    cents), estimated from the bar's prices.
    """

    time: dt.datetime
    open: int
    high: int
    low: int
    close: int
    volume: int
    amount: int


class Quote(NamedTuple):
    """The state of one instrument at the simulated time: today's candle so far."""

    code: str
    time: dt.datetime
    price: int
    open: int
    high: int
    low: int
    volume: int
    amount: int
    prev_close: int
    upper: int
    """Upper price limit (상한가)."""
    lower: int
    """Lower price limit (하한가)."""
    last_volume: int
    """Volume of the last trade."""
    tick_no: int
    """Trades so far today: changes whenever a trade happens."""

    @property
    def change(self) -> int:
        return self.price - self.prev_close

    @property
    def rate(self) -> float:
        """Change against the previous close, in %."""
        return round(self.change * 100 / self.prev_close, 2) if self.prev_close else 0.0


class _Intraday:
    """One instrument-day's minute bars, their running totals, and tick lists on demand."""

    __slots__ = ("bar", "cum", "minutes", "ticks")

    def __init__(self, bar: DayBar, minutes: list[MinuteBar]) -> None:
        self.bar = bar
        self.minutes = minutes
        self.ticks: dict[int, list[Tick]] = {}
        # cum[i]: (high, low, volume, amount, trades) over minutes[:i]
        cum = [(0, 1 << 62, 0, 0, 0)]
        for m in minutes:
            h, lo, v, a, n = cum[-1]
            cum.append((max(h, m.high), min(lo, m.low), v + m.volume, a + _amount(m), n))
        self.cum = cum


def _amount(m: MinuteBar | DayBar) -> int:
    return m.volume * (m.open + m.high + m.low + m.close) // 4


class Market:
    """Instruments and their price paths. Thread-safe; every method reads the clock."""

    def __init__(self, seed: int, clock: Clock) -> None:
        self.seed = seed
        self.clock = clock
        self.instruments: dict[str, Instrument] = universe()
        self._lock = threading.RLock()
        self._days: dict[str, dict[int, DayBar]] = {}
        self._closes: dict[str, dict[int, int]] = {}
        self._intraday: OrderedDict[tuple[str, dt.date], _Intraday] = OrderedDict()

    # -- levels -------------------------------------------------------------------------

    def instrument(self, code: str) -> Instrument:
        """The instrument of a code (``A005930`` and ``005930_AL`` are read as ``005930``)."""
        code = code.strip()
        if code not in self.instruments:
            if code[:1] == "A" and code[1:7].isdigit():
                code = code[1:]
            code = code.split("_")[0]
        return self.instruments[code]

    def _tick(self, inst: Instrument, price: float) -> int:
        p = max(1, round(price))
        t = tick_size(p, inst.market)
        return max(t, round(p / t) * t)

    def limits(self, inst: Instrument, prev_close: int) -> tuple[int, int]:
        """(upper, lower) price limits of a day after ``prev_close``."""
        up = prev_close * 13 // 10
        up -= up % tick_size(up, inst.market)
        lo = -(-prev_close * 7 // 10)
        t = tick_size(lo, inst.market)
        lo += (-lo) % t
        return up, lo

    def days(self, code: str, first: dt.date, last: dt.date) -> list[DayBar]:
        """Daily bars (full days) of the trading days from ``first`` through ``last``."""
        inst = self.instrument(code)
        lo = max(_day_index(max(first, EPOCH)), 0)
        hi = _day_index(last)
        if last < EPOCH:
            return []
        start = _day_from_index(lo)
        out = []
        day = start
        for index in range(lo, hi + 1):
            out.append(self._bar(inst, index, day))
            day = add_trading_days(day, 1)
        return out

    def _close(self, inst: Instrument, index: int) -> int:
        """The close of trading day ``index``: the base price moved by smooth noise of several
        periods (a day to a few years), so any day is found without walking from the epoch,
        and a day's move stays far inside the +-30% limits."""
        if index < 0:
            return inst.base
        cache = self._closes.setdefault(inst.code, {})
        found = cache.get(index)
        if found is None:
            scale = _SIGMA[inst.market] / 0.019
            if "레버리지" in inst.name or "2X" in inst.name:
                scale *= 2
            level = 0.0
            for period, amplitude in _OCTAVES:
                x = index / period
                k = math.floor(x)
                t = x - k
                t = t * t * (3 - 2 * t)
                a = self._knot(inst.code, period, k)
                b = self._knot(inst.code, period, k + 1)
                level += amplitude * (a + (b - a) * t)
            found = cache[index] = self._tick(inst, inst.base * math.exp(level * scale))
        return found

    def _knot(self, code: str, period: int, k: int) -> float:
        key = f"{self.seed}/{code}/{period}/{k}".encode()
        return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / 2**63 - 1

    def _bar(self, inst: Instrument, index: int, day: dt.date) -> DayBar:
        bars = self._days.setdefault(inst.code, {})
        bar = bars.get(index)
        if bar is not None:
            return bar
        prev = self._close(inst, index - 1)
        close = self._close(inst, index)
        rng = _rng(self.seed, inst.code, "day", index)
        sigma = _SIGMA[inst.market]
        up, dn = self.limits(inst, prev)
        close = min(max(close, dn), up)
        open_ = min(max(self._tick(inst, prev * math.exp(rng.gauss(0, sigma * 0.4))), dn), up)
        top, bottom = max(open_, close), min(open_, close)
        high = self._tick(inst, top * math.exp(abs(rng.gauss(0, sigma * 0.5))))
        low = self._tick(inst, bottom * math.exp(-abs(rng.gauss(0, sigma * 0.5))))
        high, low = min(max(high, top), up), max(min(low, bottom), dn)
        volume = max(SESSION_MINUTES * 8, int(inst.volume * math.exp(rng.gauss(0, 0.35))))
        bar = bars[index] = DayBar(day, open_, high, low, close, volume, prev)
        return bar

    def day_bar(self, code: str, day: dt.date) -> DayBar:
        """The full bar of one trading day (also of days the clock has not reached)."""
        if day < EPOCH or not is_trading_day(day):
            raise KeyError(f"{day} is not a simulated trading day")
        return self._bar(self.instrument(code), _day_index(day), day)

    def _intra(self, code: str, day: dt.date) -> _Intraday:
        inst = self.instrument(code)
        key = (inst.code, day)
        with self._lock:
            found = self._intraday.get(key)
            if found is not None:
                self._intraday.move_to_end(key)
                return found
            bar = self.day_bar(inst.code, day)
            found = _Intraday(bar, self._minutes(inst, bar))
            self._intraday[key] = found
            if len(self._intraday) > _CACHE_DAYS:
                self._intraday.popitem(last=False)
            return found

    def _minutes(self, inst: Instrument, bar: DayBar) -> list[MinuteBar]:
        rng = _rng(self.seed, inst.code, bar.day, "min")
        n = SESSION_MINUTES
        closes = _path(rng, bar.open, bar.close, bar.high, bar.low, n, inst, self._tick)
        weights = [
            (1.0 + 2.0 * ((i - n / 2) / (n / 2)) ** 2) * math.exp(rng.gauss(0, 0.5))
            for i in range(n)
        ]
        volumes = _split(bar.volume, weights, 8)
        out = []
        prev = bar.open
        for i in range(n):
            o, c = prev, closes[i]
            hi = min(bar.high, self._tick(inst, max(o, c) * (1 + abs(rng.gauss(0, 0.0008)))))
            lo = max(bar.low, self._tick(inst, min(o, c) * (1 - abs(rng.gauss(0, 0.0008)))))
            out.append(MinuteBar(o, max(hi, o, c), min(lo, o, c), c, volumes[i]))
            prev = c
        return out

    def minutes(self, code: str, day: dt.date) -> list[MinuteBar]:
        """The 390 full minute bars of a day, 09:00 to 15:29."""
        return self._intra(code, day).minutes

    def ticks(self, code: str, day: dt.date, minute: int) -> list[Tick]:
        """The trades of one minute (0 = 09:00) of a day, in time order."""
        intra = self._intra(code, day)
        with self._lock:
            found = intra.ticks.get(minute)
            if found is None:
                inst = self.instrument(code)
                found = intra.ticks[minute] = self._ticks(inst, day, minute, intra.minutes[minute])
            return found

    def _ticks(self, inst: Instrument, day: dt.date, minute: int, m: MinuteBar) -> list[Tick]:
        rng = _rng(self.seed, inst.code, day, minute)
        k = min(m.volume, rng.randint(4, 24))
        seconds = [0, *sorted(rng.sample(range(1, 60), k - 1))]
        prices = [m.open, *_path(rng, m.open, m.close, m.high, m.low, k - 1, inst, self._tick)]
        volumes = _split(m.volume, [rng.random() + 0.2 for _ in range(k)], 1)
        return [Tick(s, p, v) for s, p, v in zip(seconds, prices, volumes, strict=True)]

    # -- views --------------------------------------------------------------------------

    def quote(self, code: str, at: dt.datetime | None = None) -> Quote:
        """The instrument's state at the simulated time (or at ``at``, a past moment)."""
        inst = self.instrument(code)
        if at is None:
            day, secs = self.clock.split()
        else:
            at = at.astimezone(KST) if at.tzinfo else at.replace(tzinfo=KST)
            day = at.date()
            secs = (at - dt.datetime.combine(day, OPEN, KST)).total_seconds()
        intra = self._intra(inst.code, day)
        minute = min(max(int(secs // 60), 0), SESSION_MINUTES - 1)
        second = secs - minute * 60
        ticks = [t for t in self.ticks(inst.code, day, minute) if t.second <= second]
        h, lo, v, a, _n = intra.cum[minute]
        last = ticks[-1]
        for t in ticks:
            h, lo, v, a = max(h, t.price), min(lo, t.price), v + t.volume, a + t.price * t.volume
        bar = intra.bar
        up, down = self.limits(inst, bar.prev_close)
        clock = dt.datetime.combine(day, OPEN) + dt.timedelta(minutes=minute, seconds=last.second)
        if inst.scale:
            a //= 100
        return Quote(
            inst.code,
            clock,
            last.price,
            bar.open,
            h,
            lo,
            v,
            a,
            bar.prev_close,
            up,
            down,
            last.volume,
            minute * 64 + len(ticks),
        )

    def order_book(self, code: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """(asks, bids): ten (price, quantity) levels each, best first, around the last price.

        The best bid is the last price and the best ask one tick above; levels past the day's
        price limits are left out. Quantities change every simulated second.
        """
        inst = self.instrument(code)
        q = self.quote(inst.code)
        day, secs = self.clock.split()
        rng = _rng(self.seed, inst.code, day, int(secs), "book")
        size = max(1, inst.volume // SESSION_MINUTES // 20)
        asks: list[tuple[int, int]] = []
        bids: list[tuple[int, int]] = []
        p = q.price
        for _ in range(10):
            p += tick_size(p, inst.market)
            if p > q.upper:
                break
            asks.append((p, max(1, int(size * rng.uniform(0.2, 1.0)))))
        p = q.price
        for i in range(10):
            if i:
                p -= tick_size(p - 1, inst.market)
            if p < q.lower:
                break
            bids.append((p, max(1, int(size * rng.uniform(0.2, 1.0)))))
        return asks, bids

    def candles(
        self,
        code: str,
        period: Period,
        *,
        start: dt.datetime | dt.date | None = None,
        end: dt.datetime | dt.date | None = None,
        interval: int = 1,
    ) -> list[Candle]:
        """Candles ascending by time, up to the simulated clock.

        ``period`` ``tick`` (``interval`` trades per candle) or ``min`` (``interval`` minutes
        per candle) default to today; ``day``/``week``/``month``/``year`` to all history.
        ``start``/``end`` bound the candle times (naive KST; dates include the whole day).
        """
        if interval < 1:
            raise ValueError(f"interval must be at least 1, got {interval}")
        now = self.clock.now().replace(tzinfo=None)
        lo = _as_start(start)
        hi = min(_as_end(end), now) if end is not None else now
        if period in ("tick", "min"):
            if start is None:
                lo = dt.datetime.combine(hi.date(), dt.time())
            candles = self._intraday_candles(code, period, lo, hi, interval)
        elif period in ("day", "week", "month", "year"):
            candles = self._day_candles(code, period, lo, hi)
        else:
            raise ValueError(f"unknown period {period!r}")
        return [c for c in candles if lo <= c.time <= hi]

    def _day_candles(
        self, code: str, period: Period, lo: dt.datetime, hi: dt.datetime
    ) -> list[Candle]:
        today = self.clock.today()
        last = min(hi.date(), today)
        inst = self.instrument(code)
        # From the start of lo's year: a week, month or year candle starting before lo stays whole.
        first = dt.date(lo.year, 1, 1) if lo.year > 1 else EPOCH
        bars = self.days(code, first, last)
        out: list[Candle] = []
        for bar in bars:
            if bar.day == today:
                q = self.quote(code)
                c = Candle(_midnight(bar.day), q.open, q.high, q.low, q.price, q.volume, q.amount)
            else:
                amt = _amount(bar) // (100 if inst.scale else 1)
                c = Candle(
                    _midnight(bar.day), bar.open, bar.high, bar.low, bar.close, bar.volume, amt
                )
            out.append(c)
        if period == "day":
            return out
        return _merge_groups(out, lambda c: _period_key(period, c.time.date()))

    def _intraday_candles(
        self, code: str, period: Period, lo: dt.datetime, hi: dt.datetime, interval: int
    ) -> list[Candle]:
        inst = self.instrument(code)
        out: list[Candle] = []
        day = max(lo.date(), EPOCH)
        if not is_trading_day(day):
            day = add_trading_days(day, 1)
        today = self.clock.today()
        while day <= hi.date() and day <= today:
            rows = list(self._day_rows(inst, day, period, day == today))
            if period == "min":
                out += _merge_groups(
                    rows, lambda c: (c.time - _open_of(c.time)) // dt.timedelta(minutes=interval)
                )
            else:
                out += [_merge(rows[i : i + interval]) for i in range(0, len(rows), interval)]
            day = add_trading_days(day, 1)
        return out

    def _day_rows(
        self, inst: Instrument, day: dt.date, period: Period, today: bool
    ) -> Iterable[Candle]:
        """One-minute or one-trade candles of a day (up to now, for today)."""
        d100 = 100 if inst.scale else 1
        start = dt.datetime.combine(day, OPEN)
        now = self.clock.now().replace(tzinfo=None)
        for i, m in enumerate(self.minutes(inst.code, day)):
            t0 = start + dt.timedelta(minutes=i)
            if today and t0 > now:
                return
            if period == "min" and not (today and t0 + dt.timedelta(minutes=1) > now):
                yield Candle(t0, m.open, m.high, m.low, m.close, m.volume, _amount(m) // d100)
                continue
            for t in self.ticks(inst.code, day, i):
                at = t0 + dt.timedelta(seconds=t.second)
                if today and at > now:
                    break
                amt = t.price * t.volume // d100
                yield Candle(
                    at if period == "tick" else t0,
                    t.price,
                    t.price,
                    t.price,
                    t.price,
                    t.volume,
                    amt,
                )


def _day_index(day: dt.date) -> int:
    """Trading days from :data:`EPOCH` (0) to ``day`` (a weekend counts as the Friday)."""
    if day < EPOCH:
        return -1
    return trading_days_between(EPOCH, day)


def _day_from_index(index: int) -> dt.date:
    weeks, rest = divmod(index, 5)
    return EPOCH + dt.timedelta(weeks=weeks, days=rest)


def _period_key(period: str, day: dt.date) -> object:
    if period == "week":
        return day.isocalendar()[:2]
    if period == "month":
        return (day.year, day.month)
    return day.year


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _open_of(t: dt.datetime) -> dt.datetime:
    return dt.datetime.combine(t.date(), OPEN)


def _as_start(v: dt.datetime | dt.date | None) -> dt.datetime:
    if v is None:
        return dt.datetime.min
    if isinstance(v, dt.datetime):
        return v.astimezone(KST).replace(tzinfo=None) if v.tzinfo else v
    return dt.datetime.combine(v, dt.time())


def _as_end(v: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(v, dt.datetime):
        return v.astimezone(KST).replace(tzinfo=None) if v.tzinfo else v
    return dt.datetime.combine(v, dt.time(23, 59, 59))


def _merge(rows: list[Candle]) -> Candle:
    return Candle(
        rows[-1].time if len(rows) > 1 else rows[0].time,
        rows[0].open,
        max(r.high for r in rows),
        min(r.low for r in rows),
        rows[-1].close,
        sum(r.volume for r in rows),
        sum(r.amount for r in rows),
    )


def _merge_groups(rows: list[Candle], key: Callable[[Candle], object]) -> list[Candle]:
    out: list[Candle] = []
    group: list[Candle] = []
    current: object = object()
    for r in rows:
        k = key(r)
        if group and k != current:
            out.append(_merge(group)._replace(time=group[0].time))
            group = []
        current = k
        group.append(r)
    if group:
        out.append(_merge(group)._replace(time=group[0].time))
    return out


def _split(total: int, weights: list[float], minimum: int) -> list[int]:
    """``total`` split in proportion to ``weights``, each part at least ``minimum`` when the
    total allows, summing exactly to ``total``."""
    n = len(weights)
    floor = minimum if total >= minimum * n else 0
    rest = total - floor * n
    w = sum(weights)
    parts = [floor + int(rest * x / w) for x in weights]
    parts[max(range(n), key=weights.__getitem__)] += total - sum(parts)
    return parts


def _path(
    rng: random.Random,
    start: int,
    end: int,
    high: int,
    low: int,
    n: int,
    inst: Instrument,
    tick: object,
) -> list[int]:
    """``n`` prices after ``start``, the last one ``end``, within [low, high], touching
    ``high`` and ``low`` (when they lie beyond start and end and ``n`` leaves room)."""
    values: list[int | None] = [None] * n
    values[-1] = end
    free = list(range(n - 1))
    if high > max(start, end) and free:
        i = rng.choice(free)
        values[i] = high
        free.remove(i)
    if low < min(start, end) and free:
        i = rng.choice(free)
        values[i] = low
        free.remove(i)
    known = [(-1, start)] + [(i, v) for i, v in enumerate(values) if v is not None]
    amp = max(high - low, 1) * 0.12
    for (a, va), (b, vb) in itertools.pairwise(known):
        span = b - a
        if span < 2:
            continue
        walk = [0.0]
        for _ in range(span):
            walk.append(walk[-1] + rng.gauss(0, amp / math.sqrt(span)))
        for j in range(1, span):
            t = j / span
            x = va + (vb - va) * t + walk[j] - t * walk[span]
            p = tick(inst, x)  # type: ignore[operator]
            values[a + j] = min(max(p, low), high)
    return [v for v in values if v is not None]
