"""``kiwoom call`` and ``kiwoom order``: one REST call, typed output; orders dry-run first."""

from __future__ import annotations

import sys
from typing import Any

import msgspec

from .. import catalog
from .._constants import CONTENT_TYPE
from .._sync import Kiwoom
from . import _render
from ._catalog import lookup
from ._settings import SIM, CommandError, Settings, connect, host_of

_ENCODE = msgspec.json.Encoder().encode


def parse_pairs(pairs: list[str]) -> dict[str, str]:
    """``key=value`` arguments as a request dict of wire names (values stay text)."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CommandError(f"expected key=value (a wire name of the request), got {pair!r}")
        out[key.strip()] = value
    return out


def show_request(entry: catalog.Entry, body: bytes, host: str, *, to_stderr: bool = False) -> None:
    """The exact HTTP request: method, URL, headers (token hidden), JSON body."""
    base = "http://127.0.0.1:<simulator port>" if host == SIM else host
    lines = [
        f"POST {base}{entry.path}",
        f"api-id: {entry.api_id}",
        "authorization: Bearer <token>",
        f"content-type: {CONTENT_TYPE}",
        "",
        body.decode(),
    ]
    out = sys.stderr if to_stderr else sys.stdout
    out.write("\n".join(lines) + "\n")
    out.flush()


def send(
    settings: Settings,
    entry: catalog.Entry,
    request: dict[str, Any],
    *,
    as_json: bool = False,
    all_pages: bool = False,
    confirm: bool = False,
) -> None:
    """Validate, then call (or, for an order without ``confirm``, show what would be sent)."""
    typed = entry.build_request(request)  # a bad field fails here, before anything is sent
    body = _ENCODE(typed)
    if entry.is_order and not confirm:
        show_request(entry, body, host_of(settings))
        _render.err_console().print(
            f"dry run: {entry.api_id} {entry.name} not sent; add --confirm to send it"
        )
        return
    with (
        connect(settings) as target,
        Kiwoom(target.appkey, target.secretkey, host=target.host) as client,
    ):
        if entry.is_order:
            show_request(entry, body, target.host, to_stderr=as_json)
        if all_pages:
            resp = client.pages(entry.api_id, typed).collect()
        else:
            resp = client.call(entry.api_id, typed)
    if as_json:
        _render.json_line(resp)
    else:
        _render.response(resp, f"{entry.api_id} {entry.name}")


def call(
    settings: Settings,
    name: str,
    pairs: list[str],
    *,
    as_json: bool,
    all_pages: bool,
    confirm: bool,
) -> None:
    entry = lookup(name, "rest")
    send(settings, entry, parse_pairs(pairs), as_json=as_json, all_pages=all_pages, confirm=confirm)


TRADE_TYPES = {"limit": "0", "market": "3", "best": "6", "first": "7"}
"""Names for the common 매매구분 (trde_tp) codes; any other code passes as given."""


def trade_type(name: str | None, price: int | None) -> str:
    if name is None:
        return "0" if price is not None else "3"
    return TRADE_TYPES.get(name.lower(), name)


def order_request(
    action: str,
    *,
    code: str,
    exchange: str,
    qty: int,
    price: int | None = None,
    kind: str | None = None,
    order_no: str | None = None,
) -> tuple[catalog.Entry, dict[str, Any]]:
    """The entry and wire request of ``kiwoom order buy|sell|modify|cancel``."""
    body: dict[str, Any] = {"dmst_stex_tp": exchange.upper(), "stk_cd": code}
    if action in ("buy", "sell"):
        entry = catalog.get("kt10000" if action == "buy" else "kt10001")
        body["ord_qty"] = str(qty)
        body["trde_tp"] = trade_type(kind, price)
        if price is not None:
            body["ord_uv"] = str(price)
    elif action == "modify":
        entry = catalog.get("kt10002")
        if price is None:
            raise CommandError("modify needs the new price (--price)")
        body |= {"orig_ord_no": order_no, "mdfy_qty": str(qty), "mdfy_uv": str(price)}
    else:
        entry = catalog.get("kt10003")
        body |= {"orig_ord_no": order_no, "cncl_qty": str(qty)}
    return entry, body
