"""The simulated account: cash, positions, orders matched against the simulated book,
executions and realised P&L, and the ``00``/``04`` events each change emits."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ._clock import SESSION_MINUTES, add_trading_days
from ._market import Market, tick_size

__all__ = ["Account", "Execution", "Order", "OrderRejected", "Position"]

Side = Literal["buy", "sell"]
Listener = Callable[[str, str, dict[str, Any]], None]

FEE_RATE = 0.00015
"""Brokerage fee on every KRX fill (0.015%), rounded down to 10 won."""
TAX_RATE = 0.0015
"""Securities transaction tax on KRX sells (0.15%), rounded down to 1 won."""
MARKET_TYPES = frozenset({"3", "13", "23", "03"})
"""trde_tp codes of market orders (시장가, IOC, FOK; US 03)."""
_TRADE_TYPE_NAMES = {"0": "보통", "3": "시장가", "5": "조건부지정가", "6": "최유리지정가"}


class OrderRejected(Exception):
    """An order the simulated exchange refuses; ``code`` is the ``[code:...]`` of the answer."""

    def __init__(self, code: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


@dataclass
class Order:
    ord_no: str
    code: str
    name: str
    side: Side
    qty: int
    price: int
    """Limit price (won; US cents); 0 for a market order."""
    trde_tp: str
    time: dt.datetime
    orig_ord_no: str = ""
    region: str = "domestic"
    credit: bool = False
    filled: int = 0
    filled_amount: int = 0
    cancelled: int = 0
    status: str = "접수"
    kind: str = "new"
    """new, modify (정정) or cancel (취소)."""
    checked: float = 0.0
    """Clock position up to which resting quantity was matched against trades."""

    @property
    def remaining(self) -> int:
        return 0 if self.kind == "cancel" else self.qty - self.filled - self.cancelled

    @property
    def open(self) -> bool:
        return self.kind != "cancel" and self.remaining > 0


@dataclass
class Execution:
    ord_no: str
    cntr_no: str
    code: str
    name: str
    side: Side
    price: int
    qty: int
    time: dt.datetime
    fee: int
    tax: int
    realised: int
    """P&L of a sell against the average price (fees and tax deducted); 0 for buys."""


@dataclass
class Position:
    code: str
    name: str
    qty: int = 0
    cost: int = 0
    """Purchase amount of the held quantity (average price x quantity)."""
    bought_today: int = 0
    sold_today: int = 0
    realised: int = 0
    buy_amount_today: int = 0
    sell_amount_today: int = 0

    @property
    def avg_price(self) -> int:
        return self.cost // self.qty if self.qty else 0


@dataclass
class Account:
    """One account per simulator. Every method is thread-safe."""

    market: Market
    number: str = "5012345610"
    cash: int = 1_000_000_000
    """Won."""
    usd_cash: int = 10_000_000
    """US dollar cash, in cents."""
    orders: dict[str, Order] = field(default_factory=dict)
    executions: list[Execution] = field(default_factory=list)
    positions: dict[str, Position] = field(default_factory=dict)
    listeners: list[Listener] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._next_order = 1
        self._next_fill = 1

    # -- queries ----------------------------------------------------------------------------

    @property
    def realised(self) -> int:
        """Realised P&L of today's sells, in won (US: cents), fees and tax deducted."""
        return sum(e.realised for e in self.executions)

    def filled_orders(self) -> list[Order]:
        """Orders with at least one execution, oldest first."""
        self.sweep()
        with self._lock:
            return [o for o in self.orders.values() if o.filled]

    def open_orders(self) -> list[Order]:
        self.sweep()
        with self._lock:
            return [o for o in self.orders.values() if o.open]

    def all_orders(self) -> list[Order]:
        """Every order (new, modify, cancel), oldest first."""
        self.sweep()
        with self._lock:
            return list(self.orders.values())

    # -- orders -----------------------------------------------------------------------------

    def place(
        self,
        side: Side,
        code: str,
        qty: int,
        price: int,
        trde_tp: str = "0",
        *,
        region: str = "domestic",
        credit: bool = False,
    ) -> Order:
        """A new order: fills at once against the book as far as its price allows, the rest
        rests and fills as the simulated trades reach its price."""
        self.sweep()
        with self._lock:
            inst = self._instrument(code)
            market = trde_tp in MARKET_TYPES or price == 0
            q = self.market.quote(inst.code)
            if qty <= 0:
                raise OrderRejected(1517, "주문수량을 확인하세요", "ord_qty")
            if not market:
                self._check_price(inst.market, price, q.upper, q.lower)
            pos = self.positions.get(inst.code)
            if side == "sell" and (pos is None or pos.qty - self._selling(inst.code) < qty):
                raise OrderRejected(2000, "매도가능수량이 부족합니다")
            cost = qty * (q.upper if market else price)
            if side == "buy" and cost > self._cash(region):
                raise OrderRejected(2000, "주문가능금액을 초과합니다")
            order = self._new_order(
                inst.code, inst.name, side, qty, 0 if market else price, trde_tp, region, credit
            )
            self._emit_order(order, "접수")
            self._match_book(order, market)
            return order

    def modify(self, orig_ord_no: str, qty: int, price: int) -> Order:
        """정정: ``qty`` of the open order at a new price (0: all of it); a new order number."""
        self.sweep()
        with self._lock:
            orig = self._open(orig_ord_no)
            qty = orig.remaining if qty <= 0 or qty > orig.remaining else qty
            q = self.market.quote(orig.code)
            self._check_price(self.market.instrument(orig.code).market, price, q.upper, q.lower)
            orig.cancelled += qty
            order = self._new_order(
                orig.code, orig.name, orig.side, qty, price, orig.trde_tp, orig.region, orig.credit
            )
            order.orig_ord_no = orig.ord_no
            order.kind = "modify"
            self._emit_order(order, "확인")
            self._match_book(order, False)
            return order

    def cancel(self, orig_ord_no: str, qty: int = 0) -> Order:
        """취소: ``qty`` of the open order (0: all that is left); a new order number."""
        self.sweep()
        with self._lock:
            orig = self._open(orig_ord_no)
            qty = orig.remaining if qty <= 0 or qty > orig.remaining else qty
            orig.cancelled += qty
            if not orig.remaining:
                orig.status = "취소"
            order = self._new_order(
                orig.code,
                orig.name,
                orig.side,
                qty,
                orig.price,
                orig.trde_tp,
                orig.region,
                orig.credit,
            )
            order.orig_ord_no = orig.ord_no
            order.kind = "cancel"
            order.status = "확인"
            self._emit_order(order, "확인")
            return order

    def sweep(self) -> None:
        """Fill resting orders against the simulated trades since they were last checked."""
        with self._lock:
            resting = [o for o in self.orders.values() if o.open]
            if not resting:
                return
            now = self.market.clock.position()
            for order in resting:
                self._sweep(order, now)

    # -- internals --------------------------------------------------------------------------

    def _instrument(self, code: str) -> Any:
        try:
            return self.market.instrument(code)
        except KeyError:
            raise OrderRejected(1902, f"종목정보가 없습니다 ({code})", "stk_cd") from None

    def _check_price(self, market: str, price: int, upper: int, lower: int) -> None:
        if price <= 0 or price % tick_size(price, market):
            raise OrderRejected(1517, f"주문가격이 호가단위에 맞지 않습니다 ({price})", "ord_uv")
        if not lower <= price <= upper:
            raise OrderRejected(
                2000, f"주문가격이 상하한가 범위를 벗어났습니다 ({price})", "ord_uv"
            )

    def _cash(self, region: str) -> int:
        return self.usd_cash if region == "us" else self.cash

    def _selling(self, code: str) -> int:
        return sum(
            o.remaining
            for o in self.orders.values()
            if o.open and o.code == code and o.side == "sell"
        )

    def _open(self, ord_no: str) -> Order:
        order = self.orders.get(ord_no) or self.orders.get(ord_no.lstrip("0").rjust(7, "0"))
        if order is None or not order.open:
            raise OrderRejected(2000, f"정정/취소할 주문이 없습니다 ({ord_no})", "orig_ord_no")
        return order

    def _new_order(
        self,
        code: str,
        name: str,
        side: Side,
        qty: int,
        price: int,
        trde_tp: str,
        region: str,
        credit: bool,
    ) -> Order:
        ord_no = f"{self._next_order:07d}"
        self._next_order += 1
        order = Order(
            ord_no,
            code,
            name,
            side,
            qty,
            price,
            trde_tp,
            self.market.clock.now(),
            region=region,
            credit=credit,
            checked=self.market.clock.position(),
        )
        self.orders[ord_no] = order
        return order

    def _match_book(self, order: Order, market: bool) -> None:
        asks, bids = self.market.order_book(order.code)
        levels = asks if order.side == "buy" else bids
        for i, (price, size) in enumerate(levels):
            if not order.remaining:
                break
            crosses = price <= order.price if order.side == "buy" else price >= order.price
            if not market and not crosses:
                break
            take = (
                order.remaining if market and i == len(levels) - 1 else min(order.remaining, size)
            )
            self._fill(order, price, take)
        if market and order.remaining:
            # An empty side of the book (a price limit reached): the rest is cancelled.
            order.cancelled += order.remaining

    def _sweep(self, order: Order, now: float) -> None:
        if now <= order.checked:
            return
        clock = self.market.clock
        start_day, start_secs = clock.split(order.checked)
        end_day, end_secs = clock.split(now)
        day, minute = start_day, int(start_secs // 60)
        # At most two sessions of trades per sweep (a clock run far ahead skips the rest).
        for _ in range(2 * SESSION_MINUTES):
            last = day >= end_day and minute >= int(end_secs // 60)
            for t in self.market.ticks(order.code, day, minute):
                at = minute * 60 + t.second
                if day == start_day and at <= start_secs:
                    continue
                if last and at > end_secs:
                    break
                crosses = t.price <= order.price if order.side == "buy" else t.price >= order.price
                if crosses:
                    self._fill(order, order.price, min(order.remaining, t.volume))
                    if not order.remaining:
                        break
            if last or not order.remaining:
                break
            minute += 1
            if minute >= SESSION_MINUTES:
                day, minute = add_trading_days(day, 1), 0
        order.checked = now

    def _fill(self, order: Order, price: int, qty: int) -> None:
        if qty <= 0:
            return
        amount = price * qty
        us = order.region == "us"
        fee = 0 if us else int(amount * FEE_RATE) // 10 * 10
        tax = 0 if us or order.side == "buy" else int(amount * TAX_RATE)
        pos = self.positions.setdefault(order.code, Position(order.code, order.name))
        realised = 0
        if order.side == "buy":
            pos.qty += qty
            pos.cost += amount
            pos.bought_today += qty
            pos.buy_amount_today += amount
            if us:
                self.usd_cash -= amount
            else:
                self.cash -= amount + fee
        else:
            avg_cost = pos.cost * qty // pos.qty if pos.qty else 0
            realised = amount - avg_cost - fee - tax
            pos.cost -= avg_cost
            pos.qty -= qty
            pos.sold_today += qty
            pos.sell_amount_today += amount
            pos.realised += realised
            if us:
                self.usd_cash += amount
            else:
                self.cash += amount - fee - tax
        order.filled += qty
        order.filled_amount += amount
        order.status = "체결"
        cntr_no = f"{self._next_fill:07d}"
        self._next_fill += 1
        now = self.market.clock.now()
        self.executions.append(
            Execution(
                order.ord_no,
                cntr_no,
                order.code,
                order.name,
                order.side,
                price,
                qty,
                now,
                fee,
                tax,
                realised,
            )
        )
        self._emit_order(order, "체결", cntr_no=cntr_no, price=price, qty=qty, fee=fee, tax=tax)
        self._emit_balance(pos, order.side)

    # -- events -----------------------------------------------------------------------------

    def _emit(self, rt_type: str, ctx: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            listener(rt_type, "", ctx)

    def order_context(self, order: Order) -> dict[str, Any]:
        """The fields an order shows in 00 events and the order queries (by Python name)."""
        q = self.market.quote(order.code)
        asks, bids = self.market.order_book(order.code)
        side_name = "매수" if order.side == "buy" else "매도"
        sign = "+" if order.side == "buy" else "-"
        io = {
            "new": sign + side_name,
            "modify": f"{sign}{side_name}정정",
            "cancel": f"{side_name}취소",
        }[order.kind]
        avg = order.filled_amount // order.filled if order.filled else 0
        return {
            "_sign": "+" if q.price > q.prev_close else "-" if q.price < q.prev_close else "",
            "acnt_print": self.number,
            "acnt_no": self.number,
            "ord_no": order.ord_no,
            "stk_cd": order.code,
            "stk_nm": order.name,
            "ord_stt": order.status,
            "ord_qty": order.qty,
            "ord_pric": order.price,
            "ord_remnq": order.remaining,
            "oso_qty": order.remaining,
            "cntr_tot_amt": order.filled_amount,
            "orig_ord_no": order.orig_ord_no or "0000000",
            "io_tp_nm": io,
            "trde_tp": _TRADE_TYPE_NAMES.get(order.trde_tp, "보통"),
            "sell_tp": "2" if order.side == "buy" else "1",
            "ord_cntr_tm": order.time.time(),
            "tm": order.time.time(),
            "ord_tm": order.time.time(),
            "cntr_no": "",
            "cntr_pric": avg,
            "cntr_qty": order.filled,
            "cur_prc": q.price,
            "sel_bid": asks[0][0] if asks else 0,
            "buy_bid": bids[0][0] if bids else 0,
            "fpr_sel_bid": asks[0][0] if asks else 0,
            "fpr_buy_bid": bids[0][0] if bids else 0,
            "unit_cntr_pric": "",
            "unit_cntr_qty": "",
            "tdy_trde_cmsn": sum(e.fee for e in self.executions if e.ord_no == order.ord_no),
            "tdy_trde_tax": sum(e.tax for e in self.executions if e.ord_no == order.ord_no),
            "text1": "",
            "crd_tp": "03" if order.credit else "00",
            "loan_dt": "",
            "stex_tp": "1",
            "stex_nm": "KRX",
            "stex_tp_txt": "KRX",
            "sor_yn": "N",
            "stop_pric": "",
        }

    def _emit_order(self, order: Order, status: str, **fill: Any) -> None:
        ctx = self.order_context(order)
        ctx["ord_stt"] = status
        if fill:
            ctx.update(
                cntr_no=fill["cntr_no"],
                cntr_pric=fill["price"],
                cntr_qty=fill["qty"],
                unit_cntr_pric=fill["price"],
                unit_cntr_qty=fill["qty"],
                tdy_trde_cmsn=fill["fee"],
                tdy_trde_tax=fill["tax"],
                ord_cntr_tm=self.market.clock.now().time(),
            )
        else:
            ctx.update(cntr_pric="", cntr_qty="", unit_cntr_pric="", unit_cntr_qty="")
        self._emit("F5" if order.region == "us" else "00", ctx)

    def position_context(self, pos: Position) -> dict[str, Any]:
        """The fields a position shows in 04 events and the balance queries."""
        q = self.market.quote(pos.code)
        evlt = q.price * pos.qty
        pl = evlt - pos.cost
        return {
            "_sign": "+" if q.price > q.prev_close else "-" if q.price < q.prev_close else "",
            "acnt_print": self.number,
            "stk_cd": pos.code,
            "stk_nm": pos.name,
            "cur_prc": q.price,
            "rmnd_qty": pos.qty,
            "trde_able_qty": pos.qty - self._selling(pos.code),
            "ord_alowq": pos.qty - self._selling(pos.code),
            "buy_uv": pos.avg_price,
            "pur_pric": pos.avg_price,
            "avg_prc": pos.avg_price,
            "tot_buy_amt": pos.buy_amount_today,
            "pur_amt": pos.cost,
            "evlt_amt": evlt,
            "evltv_prft": pl,
            "pl_amt": pl,
            "prft_rt": round(pl * 100 / pos.cost, 2) if pos.cost else 0.0,
            "pl_rt": round(pl * 100 / pos.cost, 2) if pos.cost else 0.0,
            "tdy_netprps_qty": pos.bought_today - pos.sold_today,
            "tdy_buyq": pos.bought_today,
            "tdy_sellq": pos.sold_today,
            "pred_buyq": 0,
            "pred_sellq": 0,
            "tdy_tot_sel_pl": pos.realised,
            "tdy_rlzt_pl_stk": pos.realised,
            "tdy_rlzt_pl_crd": 0,
            "base_pric": q.prev_close,
            "pred_close_pric": q.prev_close,
            "fpr_sel_bid": q.price,
            "fpr_buy_bid": q.price,
            "crd_tp": "00",
            "crd_tp_nm": "",
            "crd_loan_dt": "",
            "loan_dt": "",
            "expr_dt": "",
            "crd_amt": 0,
            "crd_int": 0,
            "grnt_loan_qty": 0,
        }

    def _emit_balance(self, pos: Position, side: Side) -> None:
        if self.market.instrument(pos.code).market == "US":
            return
        ctx = self.position_context(pos)
        ctx["slby_tp"] = "2" if side == "buy" else "1"
        self._emit("04", ctx)
