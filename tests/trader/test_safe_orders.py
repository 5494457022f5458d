"""Safe orders: tick sizes, day limits, dry runs, the journal, and lost answers reconciled."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from _fake import APPKEY, SECRET, FakeKiwoom, ok

from kiwoom import AsyncKiwoom
from kiwoom.errors import InvalidRequestError, OrderOutcomeUnknownError
from kiwoom.orders import SafeOrders, round_to_tick, tick_size


@pytest.mark.parametrize(
    ("price", "tick"),
    [(1_999, 1), (2_000, 5), (4_995, 5), (5_000, 10), (19_990, 10), (20_000, 50),
     (49_950, 50), (50_000, 100), (199_900, 100), (200_000, 500), (499_500, 500),
     (500_000, 1_000), (1_500_000, 1_000)],
)  # fmt: skip
def test_krx_tick_sizes(price: int, tick: int) -> None:
    assert tick_size(price) == tick
    assert tick_size(price, etf=True) == 5


def test_rounding_never_gives_a_worse_price() -> None:
    assert round_to_tick(70_120, "down") == 70_100
    assert round_to_tick(70_120, "up") == 70_200
    assert round_to_tick(70_150, "nearest") == 70_200
    assert round_to_tick(4_998, "up") == 5_000
    assert round_to_tick(70_100, "up") == 70_100


LIMITS = {"stk_cd": "005930", "upl_pric": "+91000", "lst_pric": "-49000", "base_pric": "70000"}


LIMITS = {"stk_cd": "005930", "upl_pric": "+91000", "lst_pric": "-49000", "base_pric": "70000"}


class Account:
    """A fake account behind the REST routes: orders it received and executions."""

    def __init__(self, *, fill: bool = True, act_then_drop: bool = False, drop: bool = False):
        self.fill = fill
        self.act_then_drop = act_then_drop  # act on the order, then lose its answer
        self.drop = drop  # lose the order before acting on it
        self.next_no = 100
        self.open: list[dict[str, str]] = []
        self.filled: list[dict[str, str]] = []

    def order(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if self.drop:
            raise httpx.ReadTimeout("lost", request=request)
        self.next_no += 1
        no = f"{self.next_no:07d}"
        row = {
            "ord_no": no, "stk_cd": body["stk_cd"], "io_tp_nm": "+매수",
            "trde_tp": "보통", "ord_qty": body["ord_qty"], "ord_pric": body.get("ord_uv", "0"),
            "oso_qty": "0" if self.fill else body["ord_qty"],
            "cntr_qty": body["ord_qty"] if self.fill else "0",
        }  # fmt: skip
        (self.filled if self.fill else self.open).append(row)
        if self.act_then_drop:
            raise httpx.ReadTimeout("answer lost", request=request)
        return ok({"ord_no": no, "dmst_stex_tp": "KRX"})

    def cancel(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if self.drop:
            raise httpx.ReadTimeout("lost", request=request)
        self.next_no += 1
        no = f"{self.next_no:07d}"
        self.open = [r for r in self.open if r["ord_no"] != body["orig_ord_no"]]
        self.filled.append({"ord_no": no, "orig_ord_no": body["orig_ord_no"],
                            "stk_cd": body["stk_cd"], "io_tp_nm": "매수취소", "ord_qty": "5",
                            "cntr_qty": "0", "oso_qty": "0"})  # fmt: skip
        if self.act_then_drop:
            raise httpx.ReadTimeout("answer lost", request=request)
        return ok({"ord_no": no, "base_orig_ord_no": body["orig_ord_no"], "cncl_qty": "5"})

    def routes(self) -> dict[str, object]:
        return {
            "kt10000": self.order,
            "kt10003": self.cancel,
            "ka10001": ok(LIMITS),
            "ka10075": lambda r: ok({"oso": self.open}),
            "ka10076": lambda r: ok({"cntr": self.filled}),
        }


def orders_for(fake: FakeKiwoom, tmp_path: Path, **kw: object) -> tuple[AsyncKiwoom, SafeOrders]:
    client = AsyncKiwoom(APPKEY, SECRET, transport=fake.async_transport(), limiter=False)
    return client, SafeOrders(client, journal=tmp_path / "orders.jsonl", **kw)  # type: ignore[arg-type]


def events(tmp_path: Path) -> list[str]:
    lines = (tmp_path / "orders.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["event"] for line in lines]


def test_a_buy_is_rounded_down_checked_and_journalled(tmp_path: Path) -> None:
    account = Account()
    fake = FakeKiwoom(routes=account.routes())  # type: ignore[arg-type]
    client, orders = orders_for(fake, tmp_path)

    async def main():  # type: ignore[no-untyped-def]
        async with client:
            return await orders.buy("005930", 10, 70_120)

    result = asyncio.run(main())
    assert result.status == "accepted" and result.ord_no == "0000101" and result.price == 70_100
    (sent,) = fake.calls("kt10000")
    assert sent.body == {"dmst_stex_tp": "KRX", "stk_cd": "005930", "ord_qty": "10",
                         "trde_tp": "0", "ord_uv": "70100"}  # fmt: skip
    assert events(tmp_path) == ["intent", "request", "outcome"]
    assert (
        "SECRET" not in (tmp_path / "orders.jsonl").read_text()
        and "tok-" not in (tmp_path / "orders.jsonl").read_text()
    )


@pytest.mark.parametrize(("price", "side"), [(91_100, "buy"), (48_950, "sell"), (0, "buy")])
def test_prices_outside_the_days_limits_are_refused_before_sending(
    tmp_path: Path, price: int, side: str
) -> None:
    account = Account()
    fake = FakeKiwoom(routes=account.routes())  # type: ignore[arg-type]
    client, orders = orders_for(fake, tmp_path)

    async def main() -> None:
        async with client:
            await getattr(orders, side)("005930", 1, price)

    with pytest.raises(InvalidRequestError) as info:
        asyncio.run(main())
    assert info.value.field == "ord_uv"
    assert fake.calls("kt10000") == [] and fake.calls("kt10001") == []


def test_etf_prices_round_to_five_won(tmp_path: Path) -> None:
    fake = FakeKiwoom(routes=Account().routes())  # type: ignore[arg-type]
    client, orders = orders_for(fake, tmp_path, dry_run=True)

    async def main():  # type: ignore[no-untyped-def]
        async with client:
            return await orders.buy("069500", 1, 70_123, etf=True), await orders.buy(
                "005930", 1, 70_123
            )

    etf, stock = asyncio.run(main())
    assert etf.request["ord_uv"] == "70120" and stock.request["ord_uv"] == "70100"


def test_a_dry_run_sends_nothing(tmp_path: Path) -> None:
    account = Account()
    fake = FakeKiwoom(routes=account.routes())  # type: ignore[arg-type]
    client, orders = orders_for(fake, tmp_path, dry_run=True)

    async def main():  # type: ignore[no-untyped-def]
        async with client:
            return await orders.sell("005930", 3, 70_120)

    result = asyncio.run(main())
    assert result.status == "dry_run" and result.request["ord_uv"] == "70200"
    assert fake.calls("kt10001") == []
    assert events(tmp_path) == ["intent", "request", "outcome"]


@pytest.mark.parametrize(
    ("account", "status"),
    [
        (Account(fill=True, act_then_drop=True), "filled"),
        (Account(fill=False, act_then_drop=True), "open"),
        (Account(drop=True), "not_received"),
    ],
)
def test_a_lost_answer_is_reconciled_never_resent(
    tmp_path: Path, account: Account, status: str
) -> None:
    # An identical order from before is already on the account: it must not be mistaken
    # for the lost one.
    account.filled.append({"ord_no": "0000007", "stk_cd": "005930", "io_tp_nm": "+매수",
                           "ord_qty": "10", "ord_pric": "70100", "cntr_qty": "10",
                           "oso_qty": "0"})  # fmt: skip
    fake = FakeKiwoom(routes=account.routes())  # type: ignore[arg-type]
    client, orders = orders_for(fake, tmp_path)

    async def main():  # type: ignore[no-untyped-def]
        async with client:
            return await orders.buy("005930", 10, 70_100)

    result = asyncio.run(main())
    assert len(fake.calls("kt10000")) == 1
    assert result.status == "unknown" and result.reconciled is not None
    assert result.reconciled.status == status
    if status == "not_received":
        assert result.ord_no is None
    else:
        assert result.ord_no == "0000101"
    assert events(tmp_path) == ["intent", "request", "outcome", "reconciled"]


def test_without_reconciliation_the_unknown_outcome_is_raised(tmp_path: Path) -> None:
    account = Account(act_then_drop=True)
    fake = FakeKiwoom(routes=account.routes())  # type: ignore[arg-type]
    client, orders = orders_for(fake, tmp_path, reconcile=False)

    async def main() -> None:
        async with client:
            await orders.buy("005930", 10, 70_100)

    with pytest.raises(OrderOutcomeUnknownError):
        asyncio.run(main())
    assert len(fake.calls("kt10000")) == 1
    assert events(tmp_path) == ["intent", "request", "outcome"]


@pytest.mark.parametrize(("act", "status"), [(True, "applied"), (False, "not_received")])
def test_a_lost_cancel_is_reconciled_by_its_original_order(
    tmp_path: Path, act: bool, status: str
) -> None:
    account = Account(act_then_drop=act, drop=not act)
    account.open.append({"ord_no": "0000050", "stk_cd": "005930", "io_tp_nm": "+매수",
                         "ord_qty": "5", "ord_pric": "70000", "oso_qty": "5",
                         "cntr_qty": "0"})  # fmt: skip
    fake = FakeKiwoom(routes=account.routes())  # type: ignore[arg-type]
    client, orders = orders_for(fake, tmp_path)

    async def main():  # type: ignore[no-untyped-def]
        async with client:
            return await orders.cancel("005930", "0000050")

    result = asyncio.run(main())
    assert len(fake.calls("kt10003")) == 1
    assert fake.calls("kt10003")[0].body == {
        "dmst_stex_tp": "KRX", "orig_ord_no": "0000050", "stk_cd": "005930", "cncl_qty": "0"
    }  # fmt: skip
    assert result.reconciled is not None and result.reconciled.status == status
    assert result.ord_no == ("0000101" if act else None)
