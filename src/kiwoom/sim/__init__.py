"""A Kiwoom-compatible simulator: REST, real-time socket, a seeded market and an account.

An optional extra (``pip install kiwoom[sim]``: Starlette on uvicorn)::

    from kiwoom.sim import Simulator

    with Simulator(seed=7, speed=60) as sim:
        client = kiwoom.Kiwoom(host=sim.url, appkey="any", secretkey="any")
        client.chart.daily(stk_cd="005930", base_dt=sim.clock.today(), upd_stkpc_tp="1")
"""

from ._account import Account, Execution, Order, Position
from ._clock import Clock
from ._faults import Faults, Stats
from ._market import Candle, Market, Quote, tick_size
from ._server import Simulator
from ._universe import Instrument

__all__ = [
    "Account",
    "Candle",
    "Clock",
    "Execution",
    "Faults",
    "Instrument",
    "Market",
    "Order",
    "Position",
    "Quote",
    "Simulator",
    "Stats",
    "tick_size",
]
