import datetime as dt

import msgspec
import pytest

import kiwoom
from kiwoom import DecodeError, catalog

CHART = (
    '{"stk_cd":"005930","stk_dt_pole_chart_qry":['
    '{"cur_prc":"-70100","trde_qty":"9263135","trde_prica":"648525","dt":"20250908",'
    '"open_pric":"69800","high_pric":"+70500","low_pric":"-69600","pred_pre":"-600",'
    '"pred_pre_sig":"5","trde_tern_rt":"+0.16","new_field":"tolerated"},'
    '{"cur_prc":"","trde_qty":"000000012300","dt":"00000000","pred_pre":"+82"}],'
    '"return_code":0,"return_msg":"정상적으로 처리되었습니다"}'
).encode()


def test_entries_cover_the_official_catalogue():
    kinds: dict[str, int] = {}
    for e in catalog.entries():
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    assert sum(kinds.values()) == 337
    assert kinds["realtime"] == 23
    assert kinds["condition"] == 8


def test_get_describes_an_entry():
    e = catalog.get("ka10081")
    assert (e.api_id, e.name, e.path, e.kind) == (
        "ka10081",
        "주식일봉차트조회요청",
        "/api/dostk/chart",
        "rest",
    )
    assert e.is_order is False and e.pages is True
    assert e.request_type is kiwoom.Ka10081Request
    assert e.response_type is kiwoom.Ka10081Response
    assert catalog.get("kt10000").is_order is True
    with pytest.raises(KeyError, match="ka99999"):
        catalog.get("ka99999")


def test_decode_gives_typed_values():
    resp = catalog.get("ka10081").decode(CHART)
    assert isinstance(resp, kiwoom.Ka10081Response)
    assert resp.return_code == 0
    first, second = resp.stk_dt_pole_chart_qry
    assert first.cur_prc == 70100  # a price is a magnitude
    assert first.high_pric == 70500 and first.low_pric == 69600
    assert first.pred_pre == -600  # a change keeps its sign
    assert first.trde_qty == 9263135
    assert first.dt == dt.date(2025, 9, 8)
    assert first.trde_tern_rt == pytest.approx(0.16)
    assert first.pred_pre_sig == "5"
    assert second.cur_prc is None  # "" -> None
    assert second.trde_qty == 12300  # zero-padded
    assert second.dt is None  # all-zero date
    assert second.pred_pre == 82


def test_decode_wire_keeps_every_value_as_sent():
    wire = catalog.get("ka10081").decode_wire(CHART)
    row = wire.stk_dt_pole_chart_qry[0]
    assert row.cur_prc == "-70100"
    assert kiwoom.direction(row.cur_prc) is kiwoom.Direction.DOWN
    assert wire.stk_dt_pole_chart_qry[1].trde_qty == "000000012300"


def test_encode_names_are_wire_names():
    for entry in catalog.entries():
        for tp in (entry.response_type, entry.wire_type):
            names = {f.encode_name for f in msgspec.structs.fields(tp)}
            assert "return_code" in names or entry.kind == "realtime"
    fields = {f.name: f.encode_name for f in msgspec.structs.fields(kiwoom.Real0B)}
    assert fields["cur_prc"] == "10"


def test_realtime_values_decode():
    values = b'{"20":"165208","10":"-20800","11":"-50","12":"-0.24","15":"+82","13":"30379732"}'
    tick = catalog.get("0B").decode(values)
    assert isinstance(tick, kiwoom.Real0B)
    assert tick.cur_prc == 20800
    assert tick.cntr_tm == dt.time(16, 52, 8)
    assert tick.flu_rt == pytest.approx(-0.24)
    assert tick.pred_pre == -50


def test_bad_value_names_api_and_field():
    bad = CHART.replace(b'"pred_pre":"+82"', b'"pred_pre":"n/a"')
    with pytest.raises(DecodeError) as info:
        catalog.get("ka10081").decode(bad)
    assert info.value.api_id == "ka10081"
    assert info.value.field == "stk_dt_pole_chart_qry[1].pred_pre"
    assert info.value.value == "n/a"


def test_number_where_text_is_documented_still_decodes():
    odd = CHART.replace(b'"trde_qty":"9263135"', b'"trde_qty":9263135').replace(
        b'"new_field":"tolerated"', b'"new_field":null'
    )
    resp = catalog.get("ka10081").decode(odd)
    assert resp.stk_dt_pole_chart_qry[0].trde_qty == 9263135


def test_not_json_is_a_decode_error():
    with pytest.raises(DecodeError, match="not JSON"):
        catalog.get("ka10081").decode(b"<html>")


def test_unusual_shapes_take_the_tolerant_road():
    body = (
        b'{"stk_dt_pole_chart_qry":[{"cur_prc":" -70100","pred_pre":"--600",'
        b'"trde_tern_rt":"++0.16","trde_qty":"1,234","dt":" 20250908"}]}'
    )
    row = catalog.get("ka10081").decode(body).stk_dt_pole_chart_qry[0]
    assert row.cur_prc == 70100
    assert row.pred_pre == -600
    assert row.trde_tern_rt == pytest.approx(0.16)
    assert row.trde_qty == 1234
    assert row.dt == dt.date(2025, 9, 8)


def test_a_body_quoted_in_an_error_hides_secrets():
    body = b'{"token":"WQJCwyqInphKnR3bSRtB9NE1lv","expires_dt":"2024110708371","token_type":5}'
    with pytest.raises(DecodeError) as info:
        catalog.get("au10001").decode(body + b"}")
    assert "WQJCwyqInphKnR3bSRtB9NE1lv" not in str(info.value)
    assert "<hidden>" in str(info.value)
