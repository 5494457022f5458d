"""Decode a 600-row daily-chart (ka10081) response: typed SDK decode vs plain msgspec.

The baseline is the same bytes decoded by msgspec into all-string Structs (no conversion).
Goal: typed decode within 2x of the baseline. Prints the ratio.
"""

from __future__ import annotations

import random

import msgspec
from _util import per_call_us

from kiwoom import catalog


class PlainRow(msgspec.Struct):
    cur_prc: str = ""
    trde_qty: str = ""
    trde_prica: str = ""
    dt: str = ""
    open_pric: str = ""
    high_pric: str = ""
    low_pric: str = ""
    pred_pre: str = ""
    pred_pre_sig: str = ""
    trde_tern_rt: str = ""


class PlainResponse(msgspec.Struct):
    stk_cd: str = ""
    stk_dt_pole_chart_qry: list[PlainRow] = []
    return_code: int = 0
    return_msg: str = ""


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


def main() -> None:
    body = chart_body()
    entry = catalog.get("ka10081")
    plain = msgspec.json.Decoder(PlainResponse)
    assert len(entry.decode(body).stk_dt_pole_chart_qry) == 600

    base = per_call_us(lambda: plain.decode(body))
    wire = per_call_us(lambda: entry.decode_wire(body))
    typed = per_call_us(lambda: entry.decode(body))
    print(f"ka10081 daily chart, 600 rows, {len(body) / 1024:.0f} KiB")
    print(f"  plain msgspec, all-string Structs  {base:8.0f} us   1.00x")
    print(f"  kiwoom wire decode (strings)       {wire:8.0f} us   {wire / base:.2f}x")
    ratio = typed / base
    print(f"  kiwoom typed decode                {typed:8.0f} us   {ratio:.2f}x  (goal <= 2.00x)")

    signed = chart_body(signed_prices=True)
    base = per_call_us(lambda: plain.decode(signed))
    typed = per_call_us(lambda: entry.decode(signed))
    print("same, with a direction sign on every price (+70100, -69600)")
    print(f"  plain msgspec, all-string Structs  {base:8.0f} us   1.00x")
    print(f"  kiwoom typed decode                {typed:8.0f} us   {typed / base:.2f}x")


if __name__ == "__main__":
    main()
