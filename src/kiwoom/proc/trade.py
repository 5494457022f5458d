"""``kiwoom.proc.trade``: write a 0343 trade DataFrame as the screen's CSV (the wrapper's call)."""

from __future__ import annotations

from typing import Any

from ..frames import CSV_ENCODING, trades_to_csv

__all__ = ["to_csv"]


async def to_csv(file: str, path: str, df: Any, encoding: str = CSV_ENCODING) -> None:
    """Write ``df`` (from ``bot.trade``) to ``path/file`` as Kiwoom's 0343 screen exports it:
    two header lines, two lines per execution. An empty frame writes nothing."""
    trades_to_csv(df, file, path, encoding=encoding)
