"""Every REST API id of the catalogue answers from the simulator and decodes through its
typed method, on both clients."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest
from samples import sample_request

import kiwoom
from kiwoom import catalog

_REST = [e for e in catalog.entries("rest") if e.group != "oauth"]


def _arguments(entry: catalog.Entry) -> dict[str, Any]:
    assert entry.request_type is not None
    values = sample_request(entry.api_id)
    return {rule.attr: values[rule.wire] for rule in entry.request_type.__rules__}


def _method(client: Any, entry: catalog.Entry) -> Any:
    region, short = entry.group.split(".")
    groups = client.us if region == "us" else client
    return getattr(getattr(groups, short), entry.method)


@pytest.fixture(scope="module")
def client(fast_sim):
    with kiwoom.Kiwoom(host=fast_sim.url, appkey="any", secretkey="any", limiter=False) as c:
        yield c


def _order_arguments(sim: Any, entry: catalog.Entry) -> dict[str, Any]:
    """Arguments that make sense for the simulated account: buys at the best bid (they rest),
    sells of a held share, modifies and cancels of an open order."""
    args = _arguments(entry)
    us = entry.region == "us"
    code = "AAPL" if us else "005930"
    asks, bids = sim.market.order_book(code)
    price = (lambda p: f"{p / 100:.2f}") if us else str
    limit = "00" if us else "0"  # 지정가: the US order ids code it "00"
    name = entry.method
    if "sell" in name:
        sim.account.place("buy", code, 1, 0, "3", region="us" if us else "domestic")
        args.update(ord_qty="1", ord_uv=price(asks[0][0]), trde_tp=limit)
    elif "buy" in name:
        args.update(ord_qty="1", ord_uv=price(bids[0][0]), trde_tp=limit)
    else:
        order = sim.account.place("buy", code, 2, bids[1][0], region="us" if us else "domestic")
        args["orig_ord_no"] = order.ord_no
        for key in ("mdfy_qty", "cncl_qty"):
            if key in args:
                args[key] = "1"
        if "mdfy_uv" in args:
            args["mdfy_uv"] = price(bids[2][0])
    return args


@pytest.mark.parametrize("entry", _REST, ids=lambda e: e.api_id)
def test_answers_and_decodes(client, fast_sim, entry):
    modelled = entry.api_id in _MODELLED_ORDERS
    args = _order_arguments(fast_sim, entry) if modelled else _arguments(entry)
    result = _method(client, entry)(**args)
    assert type(result) is entry.response_type
    assert result.return_code in (0, 20)
    raw = client.last_response
    assert raw.headers["api-id"] == entry.api_id
    if result.return_code == 0:
        # The body holds only the catalogue's fields, every value a string (or a list).
        wire = entry.decode_wire(raw.content)
        assert type(wire) is entry.wire_type
        body = msgspec.json.decode(raw.content)
        fields = {f.encode_name for f in msgspec.structs.fields(entry.wire_type)}
        assert set(body) <= fields
        assert all(isinstance(v, str | list | dict) for k, v in body.items() if k != "return_code")
    if entry.pages:
        assert raw.headers["cont-yn"] in ("Y", "N")
    if modelled:
        assert result.ord_no in fast_sim.account.orders


_MODELLED_ORDERS = {
    "kt10000",
    "kt10001",
    "kt10002",
    "kt10003",
    "kt10006",
    "kt10007",
    "kt10008",
    "kt10009",
    "ust20000",
    "ust20001",
    "ust20002",
    "ust20003",
}


def test_async_client_decodes_queries(fast_sim):
    """The async client over the same server (one query of each group: the sync test above
    covers every id)."""
    entries = list({e.group: e for e in _REST if not e.is_order}.values())

    async def main() -> int:
        async with kiwoom.AsyncKiwoom(
            host=fast_sim.url, appkey="sim-appkey", secretkey="sim-secretkey", limiter=False
        ) as c:
            results = await asyncio.gather(
                *(_method(c, entry)(**_arguments(entry)) for entry in entries)
            )
        for entry, result in zip(entries, results, strict=True):
            assert type(result) is entry.response_type
        return len(results)

    assert asyncio.run(main()) == len(entries) > 20
