"""The fast decode road: lax msgspec parsing, a learning plan, and exact typed classes out."""

from __future__ import annotations

import datetime as dt
import pickle

import msgspec
import pytest

from kiwoom import _convert, catalog
from kiwoom._fastdecode import FastDecoder, Unfit
from kiwoom._generated.domestic.chart import Ka10081Response, Ka10081StkDtPoleChartQry

ROW = {
    "cur_prc": "70100",
    "trde_qty": "9263135",
    "trde_prica": "648525",
    "dt": "20250908",
    "open_pric": "69800",
    "high_pric": "70500",
    "low_pric": "69600",
    "pred_pre": "600",
    "pred_pre_sig": "2",
    "trde_tern_rt": "0.16",
}


def body(*rows: dict[str, str], **top: object) -> bytes:
    return msgspec.json.encode(
        {"stk_cd": "005930", "stk_dt_pole_chart_qry": list(rows), "return_code": 0, **top}
    )


def tolerant(raw: bytes) -> Ka10081Response:
    entry = catalog.get("ka10081")
    return _convert.convert("ka10081", entry.decode_wire(raw), Ka10081Response)


def test_plain_digits_decode_natively_into_the_exact_typed_classes():
    dec = FastDecoder(Ka10081Response)
    resp = dec.decode(body(ROW, {**ROW, "pred_pre": "-600"}))
    row = resp.stk_dt_pole_chart_qry[0]
    assert type(resp) is Ka10081Response
    assert type(row) is Ka10081StkDtPoleChartQry
    assert row.cur_prc == 70100 and row.dt == dt.date(2025, 9, 8) and row.trde_tern_rt == 0.16
    assert resp.stk_dt_pole_chart_qry[1].pred_pre == -600
    assert resp.return_msg is None  # absent
    assert dec._plan.demoted == frozenset()


@pytest.mark.parametrize(
    ("field", "wire", "expected"),
    [
        ("pred_pre", "+600", 600),
        ("trde_qty", " 450", 450),
        ("trde_qty", "000009263135", 9263135),
        ("cur_prc", "-70100", 70100),  # a magnitude: the sign is only the direction
        ("high_pric", "+70500", 70500),
        ("trde_tern_rt", "+0.16", 0.16),
        ("trde_tern_rt", "", None),
        ("pred_pre_sig", "", None),
        ("trde_qty", "", None),
    ],
)
def test_a_rejected_shape_demotes_its_field_and_decodes_the_same_as_the_tolerant_road(
    field, wire, expected
):
    dec = FastDecoder(Ka10081Response)
    raw = body(ROW, {**ROW, field: wire})
    resp = dec.decode(raw)
    assert getattr(resp.stk_dt_pole_chart_qry[1], field) == expected
    assert (Ka10081StkDtPoleChartQry, field) in dec._plan.demoted
    assert resp == tolerant(raw)
    # the plan keeps what it learnt: the plain shape still decodes through the text field
    assert getattr(dec.decode(body(ROW)).stk_dt_pole_chart_qry[0], field) == getattr(
        tolerant(body(ROW)).stk_dt_pole_chart_qry[0], field
    )


@pytest.mark.parametrize(
    ("field", "wire"),
    [("pred_pre", "--600"), ("dt", "00000000"), ("cur_prc", "1,234")],
)
def test_shapes_only_the_tolerant_road_reads_are_unfit(field, wire):
    dec = FastDecoder(Ka10081Response)
    with pytest.raises(Unfit):
        dec.decode(body({**ROW, field: wire}))


def test_entry_decode_falls_back_to_the_tolerant_road():
    raw = body({**ROW, "pred_pre": "--600", "dt": "00000000"})
    resp = catalog.get("ka10081").decode(raw)
    assert resp.stk_dt_pole_chart_qry[0].pred_pre == -600
    assert resp.stk_dt_pole_chart_qry[0].dt is None


def test_a_list_sent_as_text_is_unfit():
    with pytest.raises(Unfit):
        FastDecoder(Ka10081Response).decode(body(stk_dt_pole_chart_qry=""))


def test_nulls_numbers_and_unknown_fields_are_tolerated():
    raw = msgspec.json.encode(
        {
            "stk_dt_pole_chart_qry": [{**ROW, "cur_prc": None, "extra": "x"}],
            "return_code": "0",
            "return_msg": "정상적으로 처리되었습니다",
            "unknown": [1, 2],
        }
    )
    resp = FastDecoder(Ka10081Response).decode(raw)
    assert resp.return_code == 0 and resp.return_msg == "정상적으로 처리되었습니다"
    assert resp.stk_dt_pole_chart_qry[0].cur_prc is None


def test_results_pickle_encode_and_compare_like_typed_structs():
    resp = FastDecoder(Ka10081Response).decode(body(ROW, {**ROW, "pred_pre": "+5"}))
    assert pickle.loads(pickle.dumps(resp)) == resp
    again = msgspec.json.decode(msgspec.json.encode(resp), type=Ka10081Response)
    assert again == resp


def test_every_realtime_type_decodes_a_signed_tick_on_the_fast_road():
    entry = catalog.get("0B")
    raw = b'{"20":"152413","10":"-60700","11":"-300","12":"-0.49","13":"000000123","15":"+7"}'
    values = entry.decode(raw)
    assert type(values) is entry.response_type
    assert values.cur_prc == 60700 and values.pred_pre == -300
    assert values.cntr_tm == dt.time(15, 24, 13)
    assert values == _convert.convert("0B", entry.decode_wire(raw), entry.response_type)


def test_one_body_teaches_every_misfit_at_once(monkeypatch):
    import kiwoom._fastdecode as fast

    built = []
    real_plan = fast._Plan

    def counting_plan(*args):
        built.append(args)
        return real_plan(*args)

    monkeypatch.setattr(fast, "_Plan", counting_plan)
    dec = FastDecoder(Ka10081Response)
    signed = {
        **ROW,
        "cur_prc": "-70100",
        "high_pric": "+70500",
        "pred_pre": "+600",
        "dt": "20250908",
    }
    dec.decode(body(ROW, signed, {**ROW, "trde_tern_rt": "+0.16", "pred_pre_sig": ""}))
    assert len(built) == 2  # the first plan, then one lesson with all five fields
    assert {attr for _, attr in dec._plan.demoted} == {
        "cur_prc", "high_pric", "pred_pre", "trde_tern_rt", "pred_pre_sig"
    }  # fmt: skip
