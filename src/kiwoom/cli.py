"""The ``kiwoom`` command.

kiwoom demo                 decode a sample daily-chart response into typed values
kiwoom catalog [ID]         list every API and real-time type, or describe one
kiwoom decode ID [FILE]     decode a response body (or one real-time values object)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import msgspec

from . import catalog
from ._fastdecode import fixers_road
from ._values import direction

_SAMPLE_CHART = (
    '{"stk_cd":"005930","stk_dt_pole_chart_qry":['
    '{"cur_prc":"-70100","trde_qty":"9263135","trde_prica":"648525","dt":"20250908",'
    '"open_pric":"69800","high_pric":"+70500","low_pric":"-69600","pred_pre":"-600",'
    '"pred_pre_sig":"5","trde_tern_rt":"+0.16"},'
    '{"cur_prc":"+70700","trde_qty":"12361420","trde_prica":"868422","dt":"20250905",'
    '"open_pric":"70000","high_pric":"+71000","low_pric":"69800","pred_pre":"+1200",'
    '"pred_pre_sig":"2","trde_tern_rt":"+0.21"}],'
    '"return_code":0,"return_msg":"정상적으로 처리되었습니다"}'
).encode()


def _demo() -> int:
    entry = catalog.get("ka10081")
    print(f"{entry.api_id} {entry.name}: POST {entry.path} (pages: {entry.pages})")
    print("wire body:", _SAMPLE_CHART.decode()[:96], "...")
    resp = entry.decode(_SAMPLE_CHART)
    wire = entry.decode_wire(_SAMPLE_CHART)
    print(f"typed: {type(resp).__name__}, return_code={resp.return_code}")
    print(f"{'date':<12}{'close':>8}{'dir':>6}{'change':>8}{'volume':>12}{'turnover %':>12}")
    for row, raw in zip(resp.stk_dt_pole_chart_qry, wire.stk_dt_pole_chart_qry, strict=True):
        print(
            f"{row.dt!s:<12}{row.cur_prc:>8}{direction(raw.cur_prc).name:>6}"
            f"{row.pred_pre:>+8}{row.trde_qty:>12,}{row.trde_tern_rt:>12}"
        )
    kinds: dict[str, int] = {}
    for e in catalog.entries():
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    print("catalogue:", ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
    print("fast decode fixers:", fixers_road())
    return 0


def _catalog(api_id: str | None) -> int:
    if api_id is None:
        for e in catalog.entries():
            flags = " order" if e.is_order else ""
            print(f"{e.api_id:<10}{e.kind:<10}{e.group:<24}{e.method:<28}{e.name}{flags}")
        return 0
    e = catalog.get(api_id)
    print(repr(e))
    for attr in ("name", "kind", "group", "path", "method", "is_order", "pages", "mock"):
        print(f"  {attr}: {getattr(e, attr)}")
    if e.request_type is not None:
        print(f"  request: {e.request_type.__module__}.{e.request_type.__name__}")
    print(f"  response: {e.response_type.__module__}.{e.response_type.__name__}")
    for f in msgspec.structs.fields(e.response_type):
        print(f"    {f.name:<28} wire {f.encode_name!r}: {f.type}")
    return 0


def _decode(api_id: str, file: Path | None) -> int:
    raw = file.read_bytes() if file else sys.stdin.buffer.read()
    print(catalog.get(api_id).decode(raw))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kiwoom", description="Kiwoom Securities SDK")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="decode a sample daily-chart response")
    cat = sub.add_parser("catalog", help="list the catalogue or describe one entry")
    cat.add_argument("api_id", nargs="?")
    dec = sub.add_parser("decode", help="decode a response body into typed values")
    dec.add_argument("api_id")
    dec.add_argument("file", nargs="?", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            return _demo()
        if args.command == "catalog":
            return _catalog(args.api_id)
        return _decode(args.api_id, args.file)
    except (KeyError, ValueError) as exc:
        print(f"kiwoom: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
