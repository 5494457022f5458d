"""``kiwoom.proc.candle``: write a candle DataFrame as CSV (the wrapper's call)."""

from __future__ import annotations

from typing import Any

from ..frames import CSV_ENCODING
from ..frames import to_csv as _to_csv

__all__ = ["to_csv"]


async def to_csv(file: str, path: str, df: Any, encoding: str = CSV_ENCODING) -> None:
    """Write ``df`` to ``path/file`` (``.csv`` added when missing); an empty frame writes
    nothing. The write is atomic."""
    _to_csv(df, file, path, encoding=encoding)
