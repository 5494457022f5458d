"""The kiwoom-restful wrapper's ``kiwoom.proc`` writers, for scripts moving over from it.

``from kiwoom.proc import candle, trade``; ``await candle.to_csv(file, path, df)`` and
``await trade.to_csv(file, path, df)`` write as :func:`kiwoom.frames.to_csv` and
:func:`kiwoom.frames.trades_to_csv` do (cp949 by default; the wrapper wrote euc-kr, of which
cp949 is the superset).
"""

from . import candle, trade

__all__ = ["candle", "trade"]
