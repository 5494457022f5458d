"""Download long candle histories of many codes into files, resumably.

>>> async with kiwoom.AsyncKiwoom(host=kiwoom.MOCK) as client:
...     report = await kiwoom.history.download(client, codes, "data/", start="20200101")
>>> report.requests, report.rows_added, report.rate     # (60, 24_800, 4.97)

One file per code (``005930_day.csv``, ``005930_min5.parquet``: columns ``time``, ``open``,
``high``, ``low``, ``close``, ``volume``, ``amount``; time ISO, naive KST). A manifest
(``.kiwoom-history.json`` in the directory) records the date range each file covers, so a
second run asks only for what is missing: nothing when the range is covered, the days after
the covered end (the last covered day again, for a bar that was still forming) and the days
before its start otherwise. Codes are fetched concurrently (``concurrency``) through the
client, whose rate limiter paces the requests at the full allowed rate. Every file and the
manifest are written to a temporary name and renamed into place: an interrupted run leaves
each file as it was or complete, and the next run resumes. A progress bar shows when
``rich`` is installed (``kiwoom[cli]``).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as _dt
import json
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from .candles import Candle, CandleQuery, DateLike, query, to_date
from .errors import KiwoomError
from .frames import atomic_write

if TYPE_CHECKING:
    from ._async import AsyncKiwoom

__all__ = ["COLUMNS", "MANIFEST", "DownloadReport", "download", "file_name", "read_file"]

MANIFEST = ".kiwoom-history.json"
COLUMNS = ("time", "open", "high", "low", "close", "volume", "amount")
FORMATS = ("csv", "parquet")


class DownloadReport(msgspec.Struct, kw_only=True):
    """What one :func:`download` run did."""

    codes: int
    requests: int = 0
    """Chart requests sent (every page counts)."""
    rows_added: int = 0
    up_to_date: int = 0
    """Codes whose file already covered the range: no request sent."""
    elapsed: float = 0.0
    """Seconds from the first request to the last answer."""
    files: list[str] = msgspec.field(default_factory=list)
    errors: dict[str, str] = msgspec.field(default_factory=dict)
    """code -> the error that stopped it (the other codes go on)."""

    @property
    def rate(self) -> float:
        """Requests per second over the run."""
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0


def file_name(code: str, period: str, interval: int = 1, fmt: str = "csv") -> str:
    """``005930_day.csv``; intraday periods carry their interval: ``005930_min5.csv``."""
    suffix = f"{period}{interval}" if period in ("tick", "min") else period
    return f"{code}_{suffix}.{fmt}"


def read_file(path: str | os.PathLike[str]) -> list[Candle]:
    """The candles of a file written by :func:`download` (CSV or Parquet)."""
    p = Path(path)
    if p.suffix == ".parquet":
        table = _pyarrow()[1].read_table(p).to_pylist()
        return [_from_record(r) for r in table]
    with p.open(encoding="utf-8", newline="") as f:
        return [_from_record(r) for r in csv.DictReader(f)]


def _pyarrow() -> tuple[Any, Any]:
    import pyarrow  # type: ignore[import-untyped]
    import pyarrow.parquet  # type: ignore[import-untyped]

    return pyarrow, pyarrow.parquet


def _num(text: Any) -> int | float:
    if isinstance(text, int | float):
        return text
    return float(text) if "." in text else int(text)


def _from_record(r: dict[str, Any]) -> Candle:
    t = r["time"]
    when = t if isinstance(t, _dt.datetime) else _dt.datetime.fromisoformat(t)
    amount = r.get("amount")
    return Candle(
        when, _num(r["open"]), _num(r["high"]), _num(r["low"]), _num(r["close"]),
        int(r["volume"]), None if amount in (None, "") else _num(amount),
    )  # fmt: skip


def _write(path: Path, rows: Sequence[Candle]) -> None:
    if path.suffix == ".parquet":
        pa, pq = _pyarrow()
        columns = {name: [getattr(c, name) for c in rows] for name in COLUMNS}
        with atomic_write(path, "wb") as f:
            pq.write_table(pa.table(columns), f)
        return
    with atomic_write(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(COLUMNS)
        for c in rows:
            amount = "" if c.amount is None else c.amount
            out.writerow((c.time.isoformat(), c.open, c.high, c.low, c.close, c.volume, amount))


class _Manifest:
    def __init__(self, directory: Path) -> None:
        self.path = directory / MANIFEST
        self.data: dict[str, dict[str, str]] = {}
        if self.path.exists():
            self.data = json.loads(self.path.read_text(encoding="utf-8"))

    def covered(self, name: str) -> tuple[_dt.date, _dt.date] | None:
        entry = self.data.get(name)
        if entry is None:
            return None
        return _dt.date.fromisoformat(entry["start"]), _dt.date.fromisoformat(entry["end"])

    def set(self, name: str, start: _dt.date, end: _dt.date) -> None:
        self.data[name] = {"start": start.isoformat(), "end": end.isoformat()}
        with atomic_write(self.path, "w", encoding="utf-8") as f:
            json.dump(self.data, f, indent=1, sort_keys=True)


def _today_kst() -> _dt.date:
    return _dt.datetime.now(_dt.timezone(_dt.timedelta(hours=9))).date()


class _Run:
    def __init__(self, client: AsyncKiwoom, report: DownloadReport) -> None:
        self.client = client
        self.report = report
        self.first: float | None = None
        self.last = 0.0

    async def fetch(self, q: CandleQuery) -> list[Candle]:
        rows: list[Candle] = []
        key: str | None = None
        while True:
            if self.first is None:
                self.first = time.perf_counter()
            raw = await self.client.call_raw(q.api_id, q.request, next_key=key)
            self.report.requests += 1
            self.last = time.perf_counter()
            rows.extend(q.read(raw.content))
            key = raw.next_key if raw.cont_yn else None
            if key is None or q.covered():
                return q.finish(rows)


async def download(
    client: AsyncKiwoom,
    codes: Iterable[str],
    directory: str | os.PathLike[str],
    *,
    start: DateLike,
    end: DateLike = None,
    period: str = "day",
    market: str = "stock",
    interval: int = 1,
    adjusted: bool = True,
    exchange: str | None = None,
    fmt: str = "csv",
    concurrency: int = 8,
    progress: bool | Any = True,
    today: _dt.date | None = None,
) -> DownloadReport:
    """Fetch ``[start, end]`` (``end``: today) of every code into ``directory``; see the module.

    ``fmt`` is ``"csv"`` or ``"parquet"`` (needs pyarrow). ``progress`` is ``True`` (a rich
    progress bar when rich is installed), ``False``, or a ``rich.console.Console`` to draw on.
    ``today`` (Korea time by default) decides which days may still change: a range ending
    today is recorded as covered up to yesterday.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    first = to_date(start, "start")
    if first is None:
        raise ValueError("start is required")
    today = today or _today_kst()
    last = to_date(end, "end") or today
    todo = list(dict.fromkeys(codes))
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = _Manifest(folder)
    report = DownloadReport(codes=len(todo))
    run = _Run(client, report)
    gate = asyncio.Semaphore(max(1, concurrency))

    def make(code: str, lo: _dt.date, hi: _dt.date) -> CandleQuery:
        return query(
            code, period, market=market, start=lo, end=hi, interval=interval,
            adjusted=adjusted, exchange=exchange,
        )  # fmt: skip

    async def one(code: str) -> None:
        name = file_name(code, period, interval, fmt)
        path = folder / name
        covered = manifest.covered(name) if path.exists() else None
        if covered is not None and covered[0] <= first and covered[1] >= last:
            report.up_to_date += 1
            return
        async with gate:
            if covered is None:
                old: list[Candle] = []
                merged = await run.fetch(make(code, first, last))
                lo, hi = first, last
            else:
                old = read_file(path)
                head: list[Candle] = []
                if first < covered[0]:
                    head = await run.fetch(make(code, first, covered[0] - _dt.timedelta(days=1)))
                kept, fresh = old, []
                if last > covered[1]:
                    # The covered end again: its bar may have been still forming.
                    fresh = await run.fetch(make(code, covered[1], last))
                    kept = [c for c in old if c.time.date() < covered[1]]
                merged = head + kept + fresh
                lo, hi = min(first, covered[0]), max(last, covered[1])
            _write(path, merged)
            settled = min(hi, today - _dt.timedelta(days=1))
            manifest.set(name, lo, max(settled, covered[1]) if covered else settled)
            report.rows_added += len(merged) - len(old)
            report.files.append(str(path))

    bar = _progress(progress, len(todo))
    try:
        if bar is not None:
            bar.start()
            task = bar.add_task("candles", total=len(todo))

        async def tracked(code: str) -> None:
            try:
                await one(code)
            except KiwoomError as exc:
                report.errors[code] = str(exc)
            if bar is not None:
                bar.update(task, advance=1, description=f"{code} ({report.requests} requests)")

        await asyncio.gather(*(tracked(code) for code in todo))
    finally:
        if bar is not None:
            bar.stop()
        if run.first is not None:
            report.elapsed = run.last - run.first
    return report


def _progress(progress: bool | Any, total: int) -> Any:
    if progress is False or total == 0:
        return None
    try:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )
    except ImportError:
        return None
    console = None if progress is True else progress
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console,
    )  # fmt: skip
