"""Frames and writers: the wrapper's Korean columns, English OHLCV, CSV for Excel, Parquet."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from kiwoom import frames
from kiwoom.candles import Candle

pd = pytest.importorskip("pandas")

BARS = [
    Candle(dt.datetime(2025, 9, 8, 9, 0), 100, 120, 90, 110, 1000, 11),
    Candle(dt.datetime(2025, 9, 8, 16, 0), 110, 115, 105, 112, 3000, 33),
]


@pytest.mark.parametrize(
    ("period", "index", "columns"),
    [
        ("tick", "체결시간", ["체결가", "거래량"]),
        ("min", "체결시간", ["시가", "고가", "저가", "종가", "거래량"]),
        ("day", "일자", ["시가", "고가", "저가", "종가", "거래량", "거래대금"]),
        ("week", "일자", ["시가", "고가", "저가", "종가", "거래량", "거래대금"]),
        ("month", "일자", ["시가", "고가", "저가", "종가", "거래량", "거래대금"]),
        ("year", "일자", ["시가", "고가", "저가", "종가", "거래량", "거래대금"]),
    ],
)
def test_korean_columns_are_the_wrappers(period: str, index: str, columns: list[str]) -> None:
    df = frames.candles_frame(BARS, period)
    assert df.index.name == index and list(df.columns) == columns
    assert isinstance(df.index, pd.DatetimeIndex) and df.index.is_monotonic_increasing
    assert all(str(t) == "int64" for t in df.dtypes)
    if period == "tick":
        assert df["체결가"].tolist() == [110, 112]
    else:
        assert df["시가"].tolist() == [100, 110] and df["종가"].tolist() == [110, 112]


def test_english_columns_for_charting_libraries() -> None:
    df = frames.candles_frame(BARS, "day", columns="english")
    assert df.index.name == "Date"
    assert list(df.columns) == ["Open", "High", "Low", "Close", "Volume", "Amount"]
    intraday = frames.candles_frame(BARS, "min", columns="english")
    assert intraday.index.name == "Datetime" and intraday["Volume"].tolist() == [1000, 3000]


def test_float_prices_stay_floats() -> None:
    us = [Candle(dt.datetime(2025, 9, 5), 180.1, 183.0, 179.99, 182.53, 5000, 9.5)]
    df = frames.candles_frame(us, "day", columns="english")
    assert str(df["Close"].dtype) == "float64" and str(df["Volume"].dtype) == "int64"


def test_polars_frames() -> None:
    pl = pytest.importorskip("polars")
    df = frames.candles_frame(BARS, "min", backend="polars")
    assert isinstance(df, pl.DataFrame)
    assert df.columns == ["체결시간", "시가", "고가", "저가", "종가", "거래량"]
    assert df["종가"].to_list() == [110, 112]


def test_csv_is_cp949_for_excel_and_atomic(tmp_path: Path) -> None:
    df = frames.candles_frame(BARS, "day")
    path = frames.to_csv(df, "005930", tmp_path / "out")
    assert path == tmp_path / "out" / "005930.csv"
    raw = path.read_bytes()
    assert raw.startswith("일자,시가,고가,저가,종가,거래량,거래대금".encode("cp949"))
    # Text euc-kr can write is written byte for byte as euc-kr would.
    assert raw.decode("cp949").encode("euc-kr") == raw
    back = pd.read_csv(path, encoding="cp949", index_col=0, parse_dates=True)
    assert back["종가"].tolist() == [110, 112]
    assert [p.name for p in path.parent.iterdir()] == ["005930.csv"]  # no temporary left
    frames.to_csv(df, "utf8.csv", tmp_path, encoding="utf-8-sig")
    assert (tmp_path / "utf8.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert frames.to_csv(df.iloc[:0], "empty", tmp_path) is None
    assert not (tmp_path / "empty.csv").exists()


def test_an_interrupted_write_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "a.csv"
    target.write_text("old\n")
    with pytest.raises(KeyboardInterrupt), frames.atomic_write(target) as f:
        f.write("half")
        raise KeyboardInterrupt
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]


def test_parquet(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    df = frames.candles_frame(BARS, "day", columns="english")
    path = frames.to_parquet(df, tmp_path / "x.parquet")
    back = pd.read_parquet(path)
    assert back["Close"].tolist() == [110, 112] and back.index.name == "Date"


def test_the_helpers_never_import_pandas_on_their_own() -> None:
    code = (
        "import sys, kiwoom; from kiwoom import Bot, Candle, SafeOrders;"
        " import kiwoom.frames, kiwoom.history, kiwoom.proc, kiwoom.trades, kiwoom.listings;"
        " print(sorted(m for m in ('pandas', 'polars', 'pyarrow', 'rich') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"
