"""Facts about Kiwoom's APIs the catalogue must hold, checked without Kiwoom's official file.

Each case states what the market or the API is (a date is 8 characters, a stock price is whole
won and never negative, the US exchange codes are NA/ND/NY), not text copied from Kiwoom.
test_official_examples.py checks the same catalogue against Kiwoom's own examples where the
official file is present.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from functools import cache
from pathlib import Path

import msgspec
import pytest
import yaml

from codegen import SPEC_DIR, infer
from codegen.overrides import load as load_overrides
from kiwoom import DecodeError, InvalidRequestError, catalog

# Requests every market participant sends, which validation must take.
VALID = [
    ("ka10081", {"stk_cd": "005930", "base_dt": "20250908", "upd_stkpc_tp": "1"}),
    ("ka20007", {"inds_cd": "001", "base_dt": "20250905"}),  # a date is 8 characters
    ("ka20005", {"inds_cd": "253", "tic_scope": "1"}),  # any sector code
    (
        "ka10023",  # volume surge: 10k shares (code "10"), minutes as a number, stock filter 11
        {
            "mrkt_tp": "000",
            "sort_tp": "1",
            "tm_tp": "1",
            "trde_qty_tp": "10",
            "tm": "5",
            "stk_cnd": "11",
            "pric_tp": "0",
            "stex_tp": "3",
        },
    ),
    (
        "ka10023",
        {
            "mrkt_tp": "001",
            "sort_tp": "2",
            "tm_tp": "2",
            "trde_qty_tp": "1000",
            "stk_cnd": "20",
            "pric_tp": "0",
            "stex_tp": "1",
        },
    ),
    ("ka10084", {"stk_cd": "005930", "tdy_pred": "1", "tic_min": "0", "tm": dt.time(14, 30)}),
    ("usa06012", {"stex_tp": "ND", "stk_cd": "AAPL"}),
    ("usa06012", {"stex_tp": "NY", "stk_cd": "IBM", "strt_dt": dt.date(2025, 9, 8)}),
    ("kt10000", {"dmst_stex_tp": "KRX", "stk_cd": "005930", "ord_qty": 10, "trde_tp": "3"}),
    (
        "kt10000",
        {
            "dmst_stex_tp": "KRX",
            "stk_cd": "005930",
            "ord_qty": "10",
            "ord_uv": 70000,
            "trde_tp": "0",
        },
    ),
]

# Requests that must be refused before sending, and the field named.
REFUSED = [
    ("usa06012", {"stex_tp": "NASD", "stk_cd": "AAPL"}, "stex_tp"),  # codes are NA/ND/NY
    ("ka10081", {"stk_cd": 5930, "base_dt": "20250908", "upd_stkpc_tp": "1"}, "stk_cd"),
    ("ka10081", {"stk_cd": "005930", "base_dt": "20250908", "upd_stkpc_tp": "7"}, "upd_stkpc_tp"),
    ("ka10081", {"stk_cd": "005930", "base_dt": 20250908, "upd_stkpc_tp": "1"}, "base_dt"),
    (
        "kt10000",
        {"dmst_stex_tp": "KRX", "stk_cd": "005930", "ord_qty": 1.5, "trde_tp": "3"},
        "ord_qty",
    ),
    (
        "kt10000",
        {"dmst_stex_tp": "KRX", "stk_cd": "005930", "ord_qty": True, "trde_tp": "3"},
        "ord_qty",
    ),
]


@pytest.mark.parametrize(("api_id", "data"), VALID)
def test_valid_requests_pass(api_id, data):
    catalog.get(api_id).build_request(data)


@pytest.mark.parametrize(("api_id", "data", "field"), REFUSED)
def test_invalid_requests_are_refused(api_id, data, field):
    with pytest.raises(InvalidRequestError) as info:
        catalog.get(api_id).build_request(data)
    assert (info.value.api_id, info.value.field) == (api_id, field)


def _body(**top: object) -> bytes:
    return msgspec.json.encode({"return_code": 0, "return_msg": "", **top})


def test_a_stock_price_is_a_whole_won_magnitude():
    typed = catalog.get("ka10001").decode(
        _body(stk_cd="005930", cur_prc="-20800", lst_pric="14560", exp_cntr_pric="+20850")
    )
    assert (typed.cur_prc, typed.lst_pric, typed.exp_cntr_pric) == (20800, 14560, 20850)
    assert all(isinstance(v, int) for v in (typed.cur_prc, typed.lst_pric, typed.exp_cntr_pric))


def test_a_whole_price_written_with_zero_decimals_reads_as_int_and_a_fraction_is_an_error():
    assert catalog.get("ka30012").decode(_body(exp_rght_pric="3179.00")).exp_rght_pric == 3179
    with pytest.raises(DecodeError, match="exp_rght_pric"):
        catalog.get("ka30012").decode(_body(exp_rght_pric="3179.50"))


def test_elw_rows_have_whole_won_prices():
    row = {"stk_cd": "57JBHH", "cur_prc": "+435", "pred_pre": "-5", "flu_rt": "-1.14"}
    typed = catalog.get("ka30011").decode(_body(elwalacc_rt=[row]))
    assert (typed.elwalacc_rt[0].cur_prc, typed.elwalacc_rt[0].pred_pre) == (435, -5)


def test_a_list_kiwoom_names_two_ways_is_read_under_both_names():
    row = {"cur_prc": "+263145", "cntr_tm": "20250905153000", "trde_qty": "100"}
    entry = catalog.get("ka20005")
    for name in ("inds_min_pole_qry", "inds_dt_pole_qry"):
        body = _body(inds_cd="001", **{name: [row]})
        assert entry.decode(body).inds_min_pole_qry[0].cur_prc == 2631.45
        assert entry.decode_wire(body).inds_min_pole_qry[0].cur_prc == "+263145"
    us = catalog.get("ust21131").decode(_body(result_lsit=[{}, {}]))
    assert len(us.result_list) == 2


# --------------------------------------------------------------------------- the catalogue


@cache
def _groups() -> list[dict]:
    return [
        yaml.safe_load(p.read_text(encoding="utf-8"))
        for p in sorted(SPEC_DIR.glob("*/*.yaml"))
        if p.parent.name in ("domestic", "us")
    ]


def _leaves(fields: list[dict], path: str):
    for f in fields:
        here = f"{path}.{f['name']}"
        yield here, f
        yield from _leaves(f.get("fields", []), here)


# Price-like decimals on domestic APIs, each for a reason that is not "a stock price".
_FRACTIONAL_PRICES = {
    "index points": lambda api, f: f.get("unit") == "지수",
    "a decimal by its documented scale (ELW theory price, ETF tracking price)": (
        lambda api, f: bool(f.get("scale"))
    ),
    "unrounded average purchase prices and the profits computed from them": (
        lambda api, f: api in ("ka10072", "ka10073", "ka10077", "kt50020")
    ),
    "ELW strikes, which may be index points": lambda api, f: f["name"].endswith("exec_pric"),
    "ETF NAV": lambda api, f: f["name"].startswith("nav"),
    "not a price (rates, Greeks)": lambda api, f: f.get("unit") == "%" or f["name"] == "vega",
}


def test_no_stock_price_decodes_to_float_on_a_domestic_api():
    offenders = []
    for group in _groups():
        if group["region"] != "domestic":
            continue
        for api in group["apis"]:
            for path, f in _leaves(api["response"], api["id"]):
                if f["type"] != "decimal":
                    continue
                label = infer.normalize_label(f.get("label", ""))
                pricey = f.get("unit") == "원" or infer.is_direction_label(label)
                pricey = pricey or bool(re.search(r"(가|가격|단가)$", label))
                if pricey and not any(ok(api["id"], f) for ok in _FRACTIONAL_PRICES.values()):
                    offenders.append(f"{path} ({f.get('label')})")
    assert not offenders, offenders


def test_a_wire_name_is_typed_alike_across_apis_unless_listed_with_a_reason():
    listed = load_overrides(SPEC_DIR / "overrides").typed_differently
    types: dict[str, set[str]] = defaultdict(set)
    for group in _groups():
        for api in group["apis"]:
            for _, f in _leaves(api["response"], api["id"]):
                if f["type"] in ("integer", "decimal"):
                    magnitude = f.get("sign") == "direction"
                    types[f"{group['region']}.{f['name']}"].add(f"{magnitude} {f['type']}")
    mixed = {name for name, kinds in types.items() if len(kinds) > 1}
    assert mixed <= set(listed), sorted(mixed - set(listed))
    assert set(listed) <= mixed, f"listed but consistent now: {sorted(set(listed) - mixed)}"


def test_request_lengths_fit_codes_and_formats():
    widths = {"YYYYMMDD": 8, "YYYYMMDDHHmmss": 14, "HHmmss": 6, "HHmm": 4, "YYYYMM": 6}
    for group in _groups():
        for api in group["apis"]:
            for path, f in _leaves(api["request"], api["id"]):
                length = f.get("length")
                if not length:
                    continue
                assert all(len(code) <= length for code in f.get("codes", {})), path
                assert widths.get(f.get("format", ""), 0) <= length, path


def test_a_correction_that_resolves_a_conflict_must_say_why(tmp_path: Path):
    (tmp_path / "fields.yaml").write_text("ka1:\n  request.a: {length: 8}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="needs a reason"):
        load_overrides(tmp_path)
    (tmp_path / "fields.yaml").write_text("ka1:\n  request.a: {}\nka1:\n  x: {}\n", "utf-8")
    with pytest.raises(ValueError, match="twice"):
        load_overrides(tmp_path)
