"""Chart pages for the fake REST server: rows served newest first, paged by next-key."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
from _fake import ok


def paged(
    list_field: str, rows: list[dict[str, str]], page_size: int, *, code_field: str = "stk_cd"
) -> Callable[[httpx.Request], httpx.Response]:
    """A route answering ``rows`` (newest first) ``page_size`` at a time.

    The request's ``base_dt`` (when sent) drops the rows after that date, as Kiwoom does.
    """

    def route(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        served = rows
        base = body.get("base_dt") or body.get("strt_dt")
        if base:
            served = [r for r in rows if (r.get("dt") or r.get("cntr_tm", ""))[:8] <= base]
        offset = int(request.headers.get("next-key") or 0)
        page = served[offset : offset + page_size]
        more = offset + page_size < len(served)
        headers = {"cont-yn": "Y", "next-key": str(offset + page_size)} if more else {}
        return ok({code_field: body.get(code_field, ""), list_field: page}, headers)

    return route
