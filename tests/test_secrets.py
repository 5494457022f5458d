"""Keys and tokens never appear in an error, a repr or the debug log, on either client.

Every case makes the server (or the network) quote the app key, the secret key and the token
back, the worst a gateway or a proxy might do, and looks for them in everything the caller
can see.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from _fake import APPKEY, SECRET, FakeKiwoom, chart_page, rejected

from kiwoom import AsyncKiwoom, Kiwoom
from kiwoom.errors import (
    AuthError,
    DecodeError,
    HTTPStatusError,
    KiwoomError,
    OrderOutcomeUnknownError,
    RequestTimeoutError,
    TransportError,
)

DAILY = {"stk_cd": "005930", "base_dt": "20250908", "upd_stkpc_tp": "1"}
ORDER = {"dmst_stex_tp": "KRX", "stk_cd": "005930", "ord_qty": "1", "trde_tp": "3"}
TOKEN = "tok-1"
QUOTED = f"{APPKEY} {SECRET} Bearer {TOKEN} {TOKEN}"
QUOTED_JSON = f'{{"appkey":"{APPKEY}","secretkey":"{SECRET}","token":"{TOKEN}"}}'


def raising(exc: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def route(request: httpx.Request) -> httpx.Response:
        raise exc

    return route


# case -> (api id, its answer, the error the caller gets)
CASES: dict[str, tuple[str, Any, type[KiwoomError]]] = {
    "rejection quoting them": ("ka10081", rejected(1, f"[8002:{QUOTED}]"), AuthError),
    "token issue rejected quoting the keys": (
        "au10001",
        rejected(1, f"[8001:{APPKEY} {SECRET}]"),  # no token yet
        AuthError,
    ),
    "error page quoting them": (
        "ka10081",
        httpx.Response(502, text=f"<html>{QUOTED} {QUOTED_JSON}</html>"),
        HTTPStatusError,
    ),
    "undecodable answer quoting them": (
        "ka10081",
        httpx.Response(200, text=QUOTED_JSON[:-1] + ',"stk_dt_pole_chart_qry":7}'),
        DecodeError,
    ),
    "timeout quoting them": ("ka10081", raising(httpx.ReadTimeout(QUOTED)), RequestTimeoutError),
    "network error quoting them": ("ka10081", raising(httpx.ConnectError(QUOTED)), TransportError),
    "order lost quoting them": (
        "kt10000",
        raising(httpx.ReadError(QUOTED)),
        OrderOutcomeUnknownError,
    ),
}


def fail(kind: str, fake: FakeKiwoom, api_id: str, **options: Any) -> tuple[Any, Any]:
    """Call (an order for kt10000, else a daily chart) on a new client: (client, error)."""
    options = {"limiter": False, "retries": 0, **options}
    if kind == "sync":
        client = Kiwoom(APPKEY, SECRET, transport=fake.transport(), **options)
        try:
            client.order.buy(**ORDER) if api_id == "kt10000" else client.chart.daily(**DAILY)
        except Exception as exc:
            return client, exc
        return client, None

    async def main() -> Any:
        client = AsyncKiwoom(APPKEY, SECRET, transport=fake.async_transport(), **options)
        try:
            if api_id == "kt10000":
                await client.order.buy(**ORDER)
            else:
                await client.chart.daily(**DAILY)
        except Exception as exc:
            return client, exc
        return client, None

    return asyncio.run(main())


def assert_hidden(*texts: str) -> None:
    for text in texts:
        assert APPKEY not in text and SECRET not in text and TOKEN not in text, text


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_errors_and_reprs_never_show_a_secret(kind, case):
    api_id, answer, expected = CASES[case]
    fake = FakeKiwoom(routes={api_id: answer})
    client, err = fail(kind, fake, api_id)
    assert type(err) is expected, repr(err)
    if api_id != "au10001":  # the call carried the token the answer quotes
        assert fake.calls(api_id)[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert_hidden(str(err), repr(err), *map(str, err.args), repr(client), str(client))
    assert_hidden(repr(client._creds), str(client._creds), repr(client._token))


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_debug_log_masks_every_secret(kind, caplog):
    fake = FakeKiwoom(routes={"ka10081": chart_page([("20250908", "70100")], next_key="NK")})
    with caplog.at_level(logging.DEBUG, logger="kiwoom"):
        if kind == "sync":
            with Kiwoom(APPKEY, SECRET, transport=fake.transport(), limiter=False, debug=True) as c:
                c.chart.daily(**DAILY)
        else:

            async def main() -> None:
                transport = fake.async_transport()
                async with AsyncKiwoom(
                    APPKEY, SECRET, transport=transport, limiter=False, debug=True
                ) as client:
                    await client.chart.daily(**DAILY)

            asyncio.run(main())
    text = caplog.text
    # the exchange was logged (issue, call, revoke), with every secret masked
    assert "au10001" in text and "ka10081" in text and "au10002" in text
    assert "NK" in text and "stk_dt_pole_chart_qry" in text and "***" in text
    assert_hidden(text)
    assert fake.revoked == [TOKEN]  # the revoke carried the token: the log did not
