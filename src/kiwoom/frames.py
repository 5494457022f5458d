"""Typed rows as DataFrames (pandas, or polars) and as files (CSV for Excel, Parquet).

The optional extras: ``pip install kiwoom[pandas]`` (``kiwoom[polars]``, ``kiwoom[parquet]``).
Nothing here imports pandas, polars or pyarrow until a function that needs it is called;
the typed rows (:class:`kiwoom.candles.Candle`, :class:`kiwoom.trades.Trade`) never need them.

Candle columns, as the kiwoom-restful wrapper had them (``columns="korean"``)::

    tick:                  index 체결시간; 체결가, 거래량
    min:                   index 체결시간; 시가, 고가, 저가, 종가, 거래량
    day/week/month/year:   index 일자;     시가, 고가, 저가, 종가, 거래량, 거래대금

or the charting libraries' (``columns="english"``: index ``Date``/``Datetime``; ``Open``,
``High``, ``Low``, ``Close``, ``Volume`` and for day and longer ``Amount``), as backtesting.py
and mplfinance expect. Prices are int64 (KRX) or float64 (USD), volumes int64, the index a
DatetimeIndex ascending, naive Korea time.

CSV is written for Excel: ``cp949`` by default (Microsoft's superset of ``euc-kr``, the
reference wrapper's choice: every ``euc-kr`` text is written byte for byte the same, and
cp949 also has the Hangul syllables euc-kr lacks); ``"utf-8-sig"`` is the other choice Excel
reads. Files are written to a temporary name and renamed into place, so an interrupted write
never leaves half a file.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .candles import Candle
    from .trades import Trade

__all__ = [
    "CSV_ENCODING",
    "ENGLISH",
    "KOREAN",
    "atomic_write",
    "candles_frame",
    "to_csv",
    "to_parquet",
    "trades_frame",
    "trades_to_csv",
]

CSV_ENCODING = "cp949"
"""The default CSV encoding: Excel on Korean Windows opens it as is."""

_DAY_COLUMNS = ("일자", ("시가", "고가", "저가", "종가", "거래량", "거래대금"))
KOREAN: dict[str, tuple[str, tuple[str, ...]]] = {
    "tick": ("체결시간", ("체결가", "거래량")),
    "min": ("체결시간", ("시가", "고가", "저가", "종가", "거래량")),
    "day": _DAY_COLUMNS,
    "week": _DAY_COLUMNS,
    "month": _DAY_COLUMNS,
    "year": _DAY_COLUMNS,
}
"""period -> (index name, columns) of the reference wrapper's candle frames."""

_EN_DAY = ("Date", ("Open", "High", "Low", "Close", "Volume", "Amount"))
_EN_INTRADAY = ("Datetime", ("Open", "High", "Low", "Close", "Volume"))
ENGLISH: dict[str, tuple[str, tuple[str, ...]]] = {
    "tick": _EN_INTRADAY,
    "min": _EN_INTRADAY,
    "day": _EN_DAY,
    "week": _EN_DAY,
    "month": _EN_DAY,
    "year": _EN_DAY,
}

# Candle attribute behind each column name.
_FIELD = {
    "체결가": "close", "시가": "open", "고가": "high", "저가": "low", "종가": "close",
    "거래량": "volume", "거래대금": "amount", "Open": "open", "High": "high", "Low": "low",
    "Close": "close", "Volume": "volume", "Amount": "amount",
}  # fmt: skip


def _pandas() -> Any:
    import pandas  # type: ignore[import-untyped]

    return pandas


def _layout(period: str, columns: str) -> tuple[str, tuple[str, ...]]:
    table = {"korean": KOREAN, "english": ENGLISH}.get(columns)
    if table is None:
        raise ValueError(f"columns must be 'korean' or 'english', got {columns!r}")
    try:
        return table[period]
    except KeyError:
        raise ValueError(f"unknown period {period!r}") from None


def _column_values(rows: Sequence[Candle], name: str) -> list[Any]:
    field = _FIELD[name]
    values = [getattr(c, field) for c in rows]
    if field == "amount":
        return [0 if v is None else v for v in values]
    return values


def candles_frame(
    rows: Sequence[Candle], period: str, *, columns: str = "korean", backend: str = "pandas"
) -> Any:
    """Candles as a DataFrame: ``pandas`` (time as the index) or ``polars`` (a time column)."""
    index, names = _layout(period, columns)
    times = [c.time for c in rows]
    data = {name: _column_values(rows, name) for name in names}
    if backend == "polars":
        import polars as pl

        return pl.DataFrame({index: times, **data})
    if backend != "pandas":
        raise ValueError(f"backend must be 'pandas' or 'polars', got {backend!r}")
    pd = _pandas()
    frame = pd.DataFrame(data, index=pd.DatetimeIndex(times, name=index), columns=list(names))
    for name in names:
        ints = all(isinstance(v, int) for v in data[name])
        frame[name] = frame[name].astype("int64" if ints else "float64")
    return frame


def trades_frame(rows: Sequence[Trade], *, backend: str = "pandas") -> Any:
    """Executions in the layout of Kiwoom's 0343 screen (its 'Excel 내보내기' columns)."""
    from .trades import SCREEN_0343

    records = [row.screen_0343() for row in rows]
    data = {name: [r[name] for r in records] for name in SCREEN_0343}
    if backend == "polars":
        import polars as pl

        return pl.DataFrame(data, schema=list(SCREEN_0343))
    pd = _pandas()
    return pd.DataFrame(data, columns=list(SCREEN_0343))


# --- files -------------------------------------------------------------------------------


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w", **open_args: Any) -> Any:
    """Open a temporary file next to ``path``; on success rename it over ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, mode, **open_args) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _csv_path(file: str | os.PathLike[str], path: str | os.PathLike[str] | None) -> Path:
    target = Path(file)
    if target.suffix.lower() != ".csv":
        target = target.with_name(target.name + ".csv")
    return Path(path) / target if path else target


def to_csv(
    frame: Any,
    file: str | os.PathLike[str],
    path: str | os.PathLike[str] | None = None,
    *,
    encoding: str = CSV_ENCODING,
) -> Path | None:
    """Write a pandas or polars DataFrame as CSV for Excel (``file`` under ``path``).

    ``.csv`` is appended when missing. An empty frame writes nothing (returns ``None``), as the
    reference wrapper did. Returns the file written.
    """
    if len(frame) == 0:
        return None
    target = _csv_path(file, path)
    text = frame.write_csv() if hasattr(frame, "write_csv") else frame.to_csv()  # polars, pandas
    with atomic_write(target, "w", encoding=encoding, newline="") as f:
        f.write(text)
    return target


def trades_to_csv(
    frame: Any,
    file: str | os.PathLike[str],
    path: str | os.PathLike[str] | None = None,
    *,
    encoding: str = CSV_ENCODING,
) -> Path | None:
    """Write a 0343 frame as the screen's Excel export: two header lines, two lines a row."""
    from .trades import SCREEN_0343_LINES

    if len(frame) == 0:
        return None
    first, second = SCREEN_0343_LINES
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(first)
    out.writerow(second)
    records = frame.to_dicts() if hasattr(frame, "to_dicts") else frame.to_dict("records")
    for record in records:
        out.writerow([_text(record[name]) for name in first])
        out.writerow([_text(record[name]) for name in second])
    target = _csv_path(file, path)
    with atomic_write(target, "w", encoding=encoding, newline="") as f:
        f.write(buf.getvalue())
    return target


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def to_parquet(frame: Any, file: str | os.PathLike[str]) -> Path:
    """Write a pandas or polars DataFrame as Parquet (needs ``pyarrow``), atomically."""
    target = Path(file)
    writer: Callable[[Any], Any] = getattr(frame, "write_parquet", None) or frame.to_parquet
    with atomic_write(target, "wb") as f:
        writer(f)
    return target
