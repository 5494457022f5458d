"""Safe order helpers: KRX tick sizes, the day's price limits, dry runs, a journal, and
reconciliation of orders whose answer was lost.

>>> orders = SafeOrders(client, journal="orders.jsonl")
>>> result = await orders.buy("005930", 10, 70_120)      # sent at 70,100 (rounded down)
>>> result.status, result.ord_no                           # ('accepted', '0000123')

Before anything is sent a limit price is rounded to the KRX tick size (buys down, sells up:
never a worse price than asked) and refused with :class:`InvalidRequestError` when outside
the day's limits (상한가/하한가, from ka10001). ``dry_run=True`` checks and journals without
sending. Orders are never resent: when the answer to an order is lost
(:class:`~kiwoom.errors.OrderOutcomeUnknownError`) the helper asks the account's unfilled
orders (ka10075) and executions (ka10076) whether an order matching it appeared that was not
there before it was sent, and reports ``filled``, ``partially_filled``, ``open`` or
``not_received`` (:class:`Reconciliation`); deciding to send again is left to the caller.

The journal is a JSON-lines file, appended and flushed (fsync) at each step: ``intent``
(what was asked), ``request`` (the body sent), ``outcome`` (accepted, rejected, dry run or
unknown) and ``reconciled``; every line carries the order's ``id``. It never holds keys or
tokens.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from .errors import APIError, InvalidRequestError, OrderOutcomeUnknownError

if TYPE_CHECKING:
    from ._async import AsyncKiwoom

__all__ = [
    "Journal",
    "Limits",
    "OrderResult",
    "Reconciliation",
    "SafeOrders",
    "round_to_tick",
    "tick_size",
]

# KRX tick sizes of stocks since 2023-01-25 (KOSPI and KOSDAQ alike): (price below, tick).
_TICKS = ((2_000, 1), (5_000, 5), (20_000, 10), (50_000, 50), (200_000, 100), (500_000, 500))
_TOP_TICK = 1_000
ETF_TICK = 5
"""ETF, ETN and ELW trade in 5 won steps at every price."""

LIMIT = "0"  # 보통 (limit order)
MARKET = "3"  # 시장가
_PRICED = frozenset({"0", "5", "10", "20", "28", "62", "81"})  # 매매구분 that carry a price


def tick_size(price: int, *, etf: bool = False) -> int:
    """The KRX tick size (호가단위) at ``price`` won."""
    if etf:
        return ETF_TICK
    for below, tick in _TICKS:
        if price < below:
            return tick
    return _TOP_TICK


def round_to_tick(
    price: int, mode: Literal["down", "up", "nearest"] = "nearest", *, etf: bool = False
) -> int:
    """``price`` on the KRX tick grid: ``down`` (for buys), ``up`` (sells) or ``nearest``."""
    tick = tick_size(price, etf=etf)
    low = price // tick * tick
    if low == price:
        return price
    high = low + tick
    if mode == "down":
        return low
    if mode == "up":
        return high
    return high if price - low >= high - price else low


class Limits(msgspec.Struct, frozen=True):
    """The day's price limits of one code (ka10001): 상한가, 하한가, 기준가."""

    upper: int
    lower: int
    base: int | None = None


Status = Literal["filled", "partially_filled", "open", "applied", "not_received"]


class Reconciliation(msgspec.Struct, frozen=True, kw_only=True):
    """What the account says about an order whose answer was lost."""

    status: Status
    """``filled``, ``partially_filled`` or ``open`` (a new order or a change: the order it
    made), ``applied`` (a cancel that took effect) or ``not_received``."""
    ord_no: str | None = None
    filled_qty: int = 0
    open_qty: int = 0


class OrderResult(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of one helper call.

    ``status``: ``accepted`` (``ord_no`` given), ``dry_run`` (checked, not sent) or
    ``unknown`` (the answer was lost; ``reconciled`` says what the account shows).
    """

    id: str
    """The order's id in the journal."""
    status: Literal["accepted", "dry_run", "unknown"]
    api_id: str
    request: dict[str, str]
    ord_no: str | None = None
    price: int | None = None
    """The price sent, after rounding (``None`` for market orders and cancels)."""
    reconciled: Reconciliation | None = None


class Journal:
    """An append-only JSON-lines file of every order step; one line per event."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def write(self, event: str, order_id: str, **fields: Any) -> None:
        record = {
            "ts": _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds"),
            "id": order_id,
            "event": event,
            **fields,
        }
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())

    def read(self) -> list[dict[str, Any]]:
        """Every event written so far, oldest first."""
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]


class _NoJournal(Journal):
    def __init__(self) -> None:
        self.path = Path(os.devnull)

    def write(self, event: str, order_id: str, **fields: Any) -> None:
        pass


_SIDE_NAME = {"buy": "매수", "sell": "매도"}


class SafeOrders:
    """Checked, journalled stock orders (kt10000-kt10003) through an :class:`AsyncKiwoom`.

    ``journal`` is the journal file's path (``None``: no journal); ``dry_run`` checks and
    journals without sending; ``exchange`` is ``dmst_stex_tp`` (``KRX``, ``NXT``, ``SOR``);
    ``check_limits`` asks ka10001 for the day's limits (once per code and day);
    ``reconcile`` takes a snapshot of the code's orders before each order (ka10075 and
    ka10076: two queries) so that a lost answer can be told apart from older orders.
    """

    def __init__(
        self,
        client: AsyncKiwoom,
        *,
        journal: str | os.PathLike[str] | None = None,
        dry_run: bool = False,
        exchange: str = "KRX",
        check_limits: bool = True,
        reconcile: bool = True,
    ) -> None:
        self.client = client
        self.journal: Journal = Journal(journal) if journal is not None else _NoJournal()
        self.dry_run = dry_run
        self.exchange = exchange
        self.check_limits = check_limits
        self.reconcile_lost = reconcile
        self._limits: dict[tuple[str, _dt.date], Limits] = {}

    # --- checks -----------------------------------------------------------------------------

    async def limits(self, code: str) -> Limits:
        """The day's 상한가/하한가 of ``code`` (ka10001), cached for the day."""
        key = (code, _dt.date.today())
        cached = self._limits.get(key)
        if cached is not None:
            return cached
        info = await self.client.call("ka10001", {"stk_cd": code})
        if not info.upl_pric or not info.lst_pric:
            raise InvalidRequestError("ka10001", "stk_cd", f"no price limits known for {code!r}")
        limits = Limits(int(info.upl_pric), int(info.lst_pric), info.base_pric)
        self._limits[key] = limits
        return limits

    async def _price(
        self,
        api_id: str,
        field: str,
        code: str,
        price: int,
        mode: Literal["down", "up", "nearest"],
        etf: bool = False,
    ) -> int:
        if isinstance(price, bool) or not isinstance(price, int) or price <= 0:
            raise InvalidRequestError(api_id, field, f"a price is a positive int, got {price!r}")
        rounded = round_to_tick(price, mode, etf=etf)
        if self.check_limits:
            lim = await self.limits(code)
            if not lim.lower <= rounded <= lim.upper:
                raise InvalidRequestError(
                    api_id, field,
                    f"{rounded} is outside today's limits of {code} ({lim.lower}..{lim.upper})",
                )  # fmt: skip
        return rounded

    @staticmethod
    def _check(api_id: str, code: str, qty: int, field: str = "ord_qty") -> None:
        if not isinstance(code, str) or not code:
            raise InvalidRequestError(api_id, "stk_cd", f"a code is a non-empty str, got {code!r}")
        if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
            raise InvalidRequestError(api_id, field, f"a quantity is a positive int, got {qty!r}")

    # --- the four orders --------------------------------------------------------------------

    async def buy(
        self,
        code: str,
        qty: int,
        price: int | None = None,
        *,
        trade_type: str | None = None,
        etf: bool = False,
    ) -> OrderResult:
        """Buy ``qty`` of ``code`` at ``price`` (rounded down to the tick), or at market
        when ``price`` is ``None`` (``trade_type`` is kt10000's 매매구분, ``"0"``/``"3"``).
        ``etf=True`` rounds to the 5 won steps of ETFs, ETNs and ELWs."""
        return await self._new("buy", "kt10000", code, qty, price, trade_type, etf)

    async def sell(
        self,
        code: str,
        qty: int,
        price: int | None = None,
        *,
        trade_type: str | None = None,
        etf: bool = False,
    ) -> OrderResult:
        """Sell ``qty`` of ``code`` at ``price`` (rounded up to the tick), or at market."""
        return await self._new("sell", "kt10001", code, qty, price, trade_type, etf)

    async def modify(
        self, code: str, orig_ord_no: str, qty: int, price: int, *, etf: bool = False
    ) -> OrderResult:
        """Change order ``orig_ord_no``'s remaining ``qty`` to ``price`` (nearest tick)."""
        api_id = "kt10002"
        self._check(api_id, code, qty, "mdfy_qty")
        self._check_ord_no(api_id, orig_ord_no)
        sent = await self._price(api_id, "mdfy_uv", code, price, "nearest", etf)
        body = {
            "dmst_stex_tp": self.exchange, "orig_ord_no": orig_ord_no, "stk_cd": code,
            "mdfy_qty": str(qty), "mdfy_uv": str(sent),
        }  # fmt: skip
        intent = {"action": "modify", "code": code, "orig_ord_no": orig_ord_no, "qty": qty,
                  "price": price}  # fmt: skip
        return await self._send(api_id, body, intent, sent, orig_ord_no=orig_ord_no)

    async def cancel(self, code: str, orig_ord_no: str, qty: int = 0) -> OrderResult:
        """Cancel ``qty`` of order ``orig_ord_no`` (``0``: all that is left)."""
        api_id = "kt10003"
        if isinstance(qty, bool) or not isinstance(qty, int) or qty < 0:
            raise InvalidRequestError(api_id, "cncl_qty", f"a quantity is an int >= 0, got {qty!r}")
        self._check(api_id, code, 1)
        self._check_ord_no(api_id, orig_ord_no)
        body = {
            "dmst_stex_tp": self.exchange, "orig_ord_no": orig_ord_no, "stk_cd": code,
            "cncl_qty": str(qty),
        }  # fmt: skip
        intent = {"action": "cancel", "code": code, "orig_ord_no": orig_ord_no, "qty": qty}
        return await self._send(api_id, body, intent, None, orig_ord_no=orig_ord_no)

    @staticmethod
    def _check_ord_no(api_id: str, ord_no: str) -> None:
        if not isinstance(ord_no, str) or not ord_no.strip():
            raise InvalidRequestError(
                api_id, "orig_ord_no", f"an order number is a str, got {ord_no!r}"
            )

    async def _new(
        self,
        side: str,
        api_id: str,
        code: str,
        qty: int,
        price: int | None,
        trade_type: str | None,
        etf: bool,
    ) -> OrderResult:
        self._check(api_id, code, qty)
        trde_tp = trade_type or (MARKET if price is None else LIMIT)
        sent: int | None = None
        if trde_tp in _PRICED:
            if price is None:
                raise InvalidRequestError(api_id, "ord_uv", f"매매구분 {trde_tp} needs a price")
            mode: Literal["down", "up"] = "down" if side == "buy" else "up"
            sent = await self._price(api_id, "ord_uv", code, price, mode, etf)
        elif price is not None:
            raise InvalidRequestError(api_id, "ord_uv", f"매매구분 {trde_tp} takes no price")
        body = {"dmst_stex_tp": self.exchange, "stk_cd": code, "ord_qty": str(qty),
                "trde_tp": trde_tp}  # fmt: skip
        if sent is not None:
            body["ord_uv"] = str(sent)
        intent = {"action": side, "code": code, "qty": qty, "price": price, "trde_tp": trde_tp}
        return await self._send(api_id, body, intent, sent, side=side)

    async def _send(
        self,
        api_id: str,
        body: dict[str, str],
        intent: dict[str, Any],
        price: int | None,
        *,
        side: str | None = None,
        orig_ord_no: str | None = None,
    ) -> OrderResult:
        order_id = uuid.uuid4().hex
        self.journal.write("intent", order_id, **intent)
        code = body["stk_cd"]
        before: set[str] | None = None
        if self.reconcile_lost and not self.dry_run:
            before = await self._known_orders(code)
        self.journal.write("request", order_id, api_id=api_id, body=body)
        if self.dry_run:
            self.journal.write("outcome", order_id, status="dry_run")
            return OrderResult(
                id=order_id, status="dry_run", api_id=api_id, request=body, price=price
            )
        try:
            answer = await self.client.call(api_id, body)
        except OrderOutcomeUnknownError as exc:
            self.journal.write("outcome", order_id, status="unknown", reason=str(exc))
            if before is None:
                raise
            found = await self.reconcile(
                code, before, side=side, qty=int(body.get("ord_qty", 0)) or None, price=price,
                orig_ord_no=orig_ord_no, cancel=api_id == "kt10003",
            )  # fmt: skip
            self.journal.write("reconciled", order_id, **msgspec.structs.asdict(found))
            return OrderResult(
                id=order_id, status="unknown", api_id=api_id, request=body, price=price,
                ord_no=found.ord_no, reconciled=found,
            )  # fmt: skip
        except APIError as exc:
            self.journal.write(
                "outcome", order_id, status="rejected", return_code=exc.return_code,
                return_msg=exc.return_msg,
            )  # fmt: skip
            raise
        self.journal.write("outcome", order_id, status="accepted", ord_no=answer.ord_no)
        return OrderResult(
            id=order_id, status="accepted", api_id=api_id, request=body, price=price,
            ord_no=answer.ord_no,
        )  # fmt: skip

    # --- reconciliation ---------------------------------------------------------------------

    async def _open_and_filled(self, code: str) -> tuple[list[Any], list[Any]]:
        opened = await self.client.pages(
            "ka10075", {"all_stk_tp": "1", "trde_tp": "0", "stk_cd": code, "stex_tp": "0"}
        ).collect()
        filled = await self.client.pages(
            "ka10076", {"stk_cd": code, "qry_tp": "1", "sell_tp": "0", "stex_tp": "0"}
        ).collect()
        return list(opened.oso), list(filled.cntr)

    async def _known_orders(self, code: str) -> set[str]:
        opened, filled = await self._open_and_filled(code)
        return {_ord_no(r.ord_no) for r in [*opened, *filled] if r.ord_no}

    async def reconcile(
        self,
        code: str,
        before: Iterable[str],
        *,
        side: str | None = None,
        qty: int | None = None,
        price: int | None = None,
        orig_ord_no: str | None = None,
        cancel: bool = False,
    ) -> Reconciliation:
        """Find the order sent for ``code`` among the orders not in ``before`` (order numbers
        known before it was sent) that match it: side, quantity and price for a new order,
        the original order number for a change or cancel (``cancel=True``: found means
        ``applied``). Sends nothing."""
        known = {_ord_no(n) for n in before}
        opened, filled = await self._open_and_filled(code)

        def matches(row: Any) -> bool:
            if not row.ord_no or _ord_no(row.ord_no) in known:
                return False
            if orig_ord_no is not None:
                return _ord_no(row.orig_ord_no or "") == _ord_no(orig_ord_no)
            name = _SIDE_NAME.get(side or "", "")
            if name and name not in (row.io_tp_nm or "") + (row.trde_tp or ""):
                return False
            if qty is not None and row.ord_qty is not None and row.ord_qty != qty:
                return False
            return price is None or row.ord_pric in (None, 0, price)

        open_rows = [r for r in opened if matches(r)]
        filled_rows = [r for r in filled if matches(r)]
        numbers = {_ord_no(r.ord_no) for r in [*open_rows, *filled_rows]}
        if not numbers:
            return Reconciliation(status="not_received")
        ord_no = max(numbers, key=lambda n: (len(n), n))  # the newest: the highest number
        # Each row holds an order's cumulative figures: the largest is the latest.
        filled_qty = max(
            (r.cntr_qty or 0 for r in filled_rows if _ord_no(r.ord_no) == ord_no), default=0
        )
        open_qty = max(
            (r.oso_qty or 0 for r in open_rows if _ord_no(r.ord_no) == ord_no), default=0
        )
        raw_no = next(r.ord_no for r in [*open_rows, *filled_rows] if _ord_no(r.ord_no) == ord_no)
        status: Status
        if cancel:
            status = "applied"
        elif open_qty and filled_qty:
            status = "partially_filled"
        elif open_qty or not filled_qty:
            status = "open"
        else:
            status = "filled"
        return Reconciliation(
            status=status, ord_no=raw_no, filled_qty=filled_qty, open_qty=open_qty
        )


def _ord_no(text: str) -> str:
    """Order numbers compare without their leading zeros (``0000123`` is ``123``)."""
    return text.strip().lstrip("0") or "0"
