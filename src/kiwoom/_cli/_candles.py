"""``kiwoom candles``: a stock's candles over a date range, paged with a progress bar, to CSV,
Parquet or the screen. A thin layer over the chart APIs (ka10079-ka10083, ka10094)."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from .. import catalog
from .._constants import KST_OFFSET_HOURS
from .._sync import Kiwoom
from . import _render
from ._settings import CommandError, Settings, connect

COLUMNS = ("time", "open", "high", "low", "close", "volume", "amount")
"""``amount`` is 거래대금 as the daily-and-longer charts report it (백만원); none for tick/min."""


@dataclass(frozen=True)
class Period:
    api_id: str
    rows: str
    """The response's row-list field."""
    time: str
    """The row's time field: ``cntr_tm`` (datetime) or ``dt`` (date)."""
    intraday: bool


PERIODS = {
    "tick": Period("ka10079", "stk_tic_chart_qry", "cntr_tm", True),
    "min": Period("ka10080", "stk_min_pole_chart_qry", "cntr_tm", True),
    "day": Period("ka10081", "stk_dt_pole_chart_qry", "dt", False),
    "week": Period("ka10082", "stk_stk_pole_chart_qry", "dt", False),
    "month": Period("ka10083", "stk_mth_pole_chart_qry", "dt", False),
    "year": Period("ka10094", "stk_yr_pole_chart_qry", "dt", False),
}

_KST = dt.timezone(dt.timedelta(hours=KST_OFFSET_HOURS))


def today_kst() -> dt.date:
    return dt.datetime.now(_KST).date()


def _day(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def request_of(
    period: Period, code: str, end: dt.date | None, interval: int, adjusted: bool
) -> dict[str, str]:
    body = {"stk_cd": code, "upd_stkpc_tp": "1" if adjusted else "0"}
    if period.intraday:
        body["tic_scope"] = str(interval)
        if end is not None and period.api_id == "ka10080":
            body["base_dt"] = end.strftime("%Y%m%d")
    else:
        body["base_dt"] = (end or today_kst()).strftime("%Y%m%d")
    return body


def candle(period: Period, row: Any) -> tuple[Any, ...]:
    return (
        getattr(row, period.time),
        row.open_pric,
        row.high_pric,
        row.low_pric,
        row.cur_prc,
        row.trde_qty,
        getattr(row, "trde_prica", None),
    )


def fetch(
    client: Kiwoom,
    period: Period,
    request: dict[str, str],
    start: dt.date | None,
    end: dt.date | None,
) -> list[tuple[Any, ...]]:
    """Every candle from ``start`` to ``end`` (inclusive), oldest first, paging back in time
    with a progress bar on stderr (a bar by days covered when ``start`` is known).

    Without ``start``: every page for day and longer periods; for tick and minute candles,
    the latest day served (years of minutes would take thousands of calls)."""
    rows: list[tuple[Any, ...]] = []
    last = end or today_kst()
    total = (last - start).days + 1 if start is not None else None
    err = _render.err_console()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        task = progress.add_task(
            f"{request['stk_cd']} {period.api_id}", total=total, status="page 1"
        )

        def reached_start(page: Any) -> bool:
            nonlocal start
            times = [getattr(r, period.time) for r in getattr(page, period.rows)]
            if not times:
                return False
            if start is None and period.intraday:
                start = _day(max(times))
            return start is not None and _day(min(times)) < start

        pages = client.pages(period.api_id, request).until(reached_start)
        for n, page in enumerate(pages, 1):
            got = [candle(period, r) for r in getattr(page, period.rows)]
            rows.extend(got)
            times = [r[0] for r in got if r[0] is not None]
            oldest = _day(min(times)) if times else None
            progress.update(
                task,
                completed=(last - oldest).days + 1 if oldest and total else n,
                status=f"page {n}, {len(rows)} candles" + (f", back to {oldest}" if oldest else ""),
            )
    picked = [
        r
        for r in rows
        if r[0] is not None
        and (start is None or _day(r[0]) >= start)
        and (end is None or _day(r[0]) <= end)
    ]
    picked.sort(key=lambda r: r[0])
    return picked


def write(rows: list[tuple[Any, ...]], path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(COLUMNS)
            out.writerows(
                [r[0].isoformat(), *("" if v is None else v for v in r[1:])] for r in rows
            )
    elif suffix == ".parquet":
        try:
            import pyarrow as pa  # type: ignore[import-untyped]
            import pyarrow.parquet as pq  # type: ignore[import-untyped]
        except ImportError:
            raise CommandError(
                "writing Parquet needs pyarrow: pip install 'kiwoom[parquet]'"
            ) from None
        table = pa.Table.from_pylist([dict(zip(COLUMNS, r, strict=True)) for r in rows])
        pq.write_table(table, path)
    else:
        raise CommandError(f"-o must name a .csv or .parquet file, got {str(path)!r}")


def candles(
    settings: Settings,
    code: str,
    *,
    period: str,
    start: dt.date | None,
    end: dt.date | None,
    interval: int,
    adjusted: bool,
    output: Path | None,
) -> None:
    try:
        spec = PERIODS[period.lower()]
    except KeyError:
        raise CommandError(
            f"--period must be one of {', '.join(PERIODS)}, got {period!r}"
        ) from None
    if start is not None and end is not None and start > end:
        raise CommandError(f"--start {start} is after --end {end}")
    request = request_of(spec, code, end, interval, adjusted)
    catalog.get(spec.api_id).build_request(request)  # a bad code fails before connecting
    if output is not None and output.suffix.lower() not in (".csv", ".parquet"):
        raise CommandError(f"-o must name a .csv or .parquet file, got {str(output)!r}")
    with (
        connect(settings) as target,
        Kiwoom(target.appkey, target.secretkey, host=target.host) as client,
    ):
        rows = fetch(client, spec, request, start, end)
    if output is None:
        _render.table(f"{code} {period}: {len(rows)} candles", COLUMNS, rows)
        return
    write(rows, output)
    _render.err_console().print(f"{len(rows)} candles of {code} written to {output}")
