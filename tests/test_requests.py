import datetime as dt

import msgspec
import pytest

from kiwoom import InvalidRequestError, Ka10081Request, catalog


def test_request_normalises_values_to_wire_text():
    req = Ka10081Request(stk_cd="005930", base_dt=dt.date(2025, 9, 8), upd_stkpc_tp="1")
    assert req.base_dt == "20250908"
    assert msgspec.json.decode(msgspec.json.encode(req)) == {
        "stk_cd": "005930",
        "base_dt": "20250908",
        "upd_stkpc_tp": "1",
    }


def test_max_length_is_checked_before_sending():
    with pytest.raises(InvalidRequestError) as info:
        Ka10081Request(stk_cd="0" * 21, base_dt="20250908", upd_stkpc_tp="1")
    err = info.value
    assert (err.api_id, err.field) == ("ka10081", "stk_cd")
    assert "ka10081" in str(err) and "stk_cd" in str(err) and "20" in str(err)


def test_required_field_may_not_be_empty():
    with pytest.raises(InvalidRequestError, match=r"ka10081: field 'upd_stkpc_tp'.* required"):
        Ka10081Request(stk_cd="005930", base_dt="20250908", upd_stkpc_tp="")


def test_wrong_value_type_names_field():
    with pytest.raises(InvalidRequestError, match="base_dt"):
        Ka10081Request(stk_cd="005930", base_dt=3.5, upd_stkpc_tp="1")  # type: ignore[arg-type]


def test_missing_required_field_is_a_type_error_at_construction():
    with pytest.raises(TypeError, match="stk_cd"):
        Ka10081Request(base_dt="20250908", upd_stkpc_tp="1")  # type: ignore[call-arg]


def test_dict_path_runs_the_same_checks():
    entry = catalog.get("ka10081")
    with pytest.raises(InvalidRequestError, match="at most 20") as info:
        entry.build_request({"stk_cd": "0" * 30, "base_dt": "20250908", "upd_stkpc_tp": "1"})
    assert (info.value.api_id, info.value.field) == ("ka10081", "stk_cd")
    with pytest.raises(InvalidRequestError) as info:
        entry.build_request({"base_dt": "20250908", "upd_stkpc_tp": "1"})
    assert (info.value.api_id, info.value.field) == ("ka10081", "stk_cd")
    with pytest.raises(InvalidRequestError) as info:
        entry.build_request({"stk_cd": 5930, "base_dt": "20250908", "upd_stkpc_tp": "1"})
    assert info.value.field == "stk_cd"
    req = entry.build_request({"stk_cd": "005930", "base_dt": "20250908", "upd_stkpc_tp": "1"})
    assert req == Ka10081Request(stk_cd="005930", base_dt="20250908", upd_stkpc_tp="1")


def test_optional_fields_are_omitted_when_unset():
    # Every request type encodes with only what was set.
    for entry in catalog.entries("rest"):
        req_type = entry.request_type
        assert req_type is not None
        required = [f for f in msgspec.structs.fields(req_type) if f.required]
        if not required:
            assert msgspec.json.encode(req_type()) == b"{}"


def test_datetime_value_keeps_its_time_for_a_datetime_field():
    from kiwoom._model import FieldRule, _wire_text

    stamp = dt.datetime(2024, 11, 7, 8, 37, 13)
    assert _wire_text("x", FieldRule("t", "t", "시각", False, 14, "datetime"), stamp) == (
        "20241107083713"
    )
    assert _wire_text("x", FieldRule("d", "d", "일자", False, 8, "date"), stamp) == "20241107"
