"""Synthetic Kiwoom response bodies shared by the benchmarks and bench/server.py.

Values are made up but shaped like Kiwoom's: every value a string, prices with direction
signs where Kiwoom puts them, dates as YYYYMMDD.
"""

from __future__ import annotations

import random

import msgspec

OK = "정상적으로 처리되었습니다"


def chart_body(rows: int = 600, seed: int = 7, *, signed_prices: bool = False) -> bytes:
    """A ka10081 body shaped like Kiwoom's published example: prices unsigned, the change
    (``pred_pre``) and turnover (``trde_tern_rt``) signed. ``signed_prices`` also puts a
    direction sign on every price, the shape other APIs (ka10001, real-time) use."""
    rnd = random.Random(seed)
    price = 70000
    out = []
    for i in range(rows):
        change = rnd.randint(-1500, 1500)
        prev, price = price, max(1000, price + change)
        sign = ("+" if price > prev else "-" if price < prev else "") if signed_prices else ""
        up, down = ("+", "-") if signed_prices else ("", "")
        year, day = 2025 - i // 250, i % 250
        out.append(
            {
                "cur_prc": f"{sign}{price}",
                "trde_qty": str(rnd.randint(10**5, 3 * 10**7)),
                "trde_prica": str(rnd.randint(10**4, 2 * 10**6)),
                "dt": f"{year}{day // 21 % 12 + 1:02d}{day % 28 + 1:02d}",
                "open_pric": str(price + rnd.randint(-500, 500)),
                "high_pric": f"{up}{price + rnd.randint(0, 900)}",
                "low_pric": f"{down}{price - rnd.randint(0, 900)}",
                "pred_pre": f"{price - prev:+d}" if price != prev else "0",
                "pred_pre_sig": "2" if price > prev else "5" if price < prev else "3",
                "trde_tern_rt": f"{rnd.uniform(0, 2):+.2f}",
            }
        )
    body = {"stk_cd": "005930", "stk_dt_pole_chart_qry": out, "return_code": 0, "return_msg": "ok"}
    return msgspec.json.encode(body)


def quote_body() -> bytes:
    """A small ka10001 (주식기본정보요청) response, ~0.4 KB: the quote fields of a stock."""
    body = {
        "stk_cd": "005930",
        "stk_nm": "삼성전자",
        "setl_mm": "12",
        "cap": "7780",
        "flo_stk": "5969783",
        "oyr_hgst": "+88800",
        "oyr_lwst": "-49900",
        "high_pric": "+70500",
        "open_pric": "-69800",
        "low_pric": "-69600",
        "upl_pric": "+91000",
        "lst_pric": "-49000",
        "base_pric": "70000",
        "cur_prc": "-70100",
        "pre_sig": "5",
        "pred_pre": "-600",
        "flu_rt": "-0.85",
        "trde_qty": "9263135",
        "per": "13.12",
        "pbr": "1.21",
        "return_code": 0,
        "return_msg": OK,
    }
    return msgspec.json.encode(body)


def default_body() -> bytes:
    """What any API id without a canned body gets: an empty, successful response."""
    return msgspec.json.encode({"return_code": 0, "return_msg": OK})
