"""Decode a 600-row daily-chart (ka10081) response: typed SDK decode vs plain msgspec.

The baseline is the same bytes decoded by msgspec into all-string Structs (no conversion).
Goal: typed decode within 2x of the baseline. Prints the ratio. The fixers run in C where
``kiwoom._speedups`` is built; ``KIWOOM_NO_SPEEDUPS=1`` measures their Python twins.
"""

from __future__ import annotations

import msgspec
from _bodies import chart_body
from _util import per_call_us

from kiwoom import catalog
from kiwoom._fastdecode import fixers_road


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


def main() -> None:
    body = chart_body()
    entry = catalog.get("ka10081")
    plain = msgspec.json.Decoder(PlainResponse)
    assert len(entry.decode(body).stk_dt_pole_chart_qry) == 600

    base = per_call_us(lambda: plain.decode(body))
    wire = per_call_us(lambda: entry.decode_wire(body))
    typed = per_call_us(lambda: entry.decode(body))
    print(f"ka10081 daily chart, 600 rows, {len(body) / 1024:.0f} KiB")
    print(f"  (fast decode fixers: {fixers_road()})")
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
