import datetime as dt
from decimal import Decimal

import msgspec
import pytest

import kiwoom
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


# --------------------------------------------------------------------------- no coercion


def _rules():
    for entry in catalog.entries("rest"):
        for rule in entry.request_type.__rules__:
            yield entry, rule


def _wrong_value(rule):
    """A value of a Python type the rule's kind never accepts."""
    return {
        "str": 5930,
        "int": 1.5,
        "decimal": dt.date(2025, 9, 8),
        "date": 20250908,
        "time": 93000,
        "datetime": dt.time(9, 30),
        "list": None,
    }[rule.kind]


def test_every_request_field_refuses_a_wrong_python_type_on_both_roads():
    """Struct and dict roads give the same refusal, naming API id, field, type and value."""
    checked = 0
    for entry, rule in _rules():
        value = _wrong_value(rule)
        if value is None:
            continue
        with pytest.raises(InvalidRequestError) as typed:
            _build(entry, rule, value, as_dict=False)
        with pytest.raises(InvalidRequestError) as as_dict:
            _build(entry, rule, value, as_dict=True)
        assert str(typed.value) == str(as_dict.value), entry.api_id
        err = typed.value
        assert (err.api_id, err.field) == (entry.api_id, rule.wire)
        assert "expects" in str(err) and type(value).__name__ in str(err)
        if rule.wire not in ("appkey", "secretkey", "token"):
            assert repr(value) in str(err)
        checked += 1
    assert checked > 1200  # every non-list request field of the catalogue


def _build(entry, rule, value, as_dict):
    """A request of ``entry`` whose field ``rule`` holds ``value`` (others: valid samples)."""
    from samples import sample_request

    data = sample_request(entry.api_id)
    data[rule.wire] = value
    if as_dict:
        return entry.build_request(data)
    attrs = {r.wire: r.attr for r in entry.request_type.__rules__}
    return entry.request_type(**{attrs[k]: v for k, v in data.items()})


def test_int_is_never_a_stock_code():
    with pytest.raises(InvalidRequestError, match=r"ka10081: field 'stk_cd'.*got int 5930"):
        Ka10081Request(stk_cd=5930, base_dt="20250908", upd_stkpc_tp="1")  # type: ignore[arg-type]


def test_typed_method_refuses_an_int_stock_code_before_sending():
    from _fake import APPKEY, SECRET, FakeKiwoom

    fake = FakeKiwoom()
    client = kiwoom.Kiwoom(APPKEY, SECRET, transport=fake.transport(), limiter=False)
    with pytest.raises(InvalidRequestError, match="stk_cd"):
        client.chart.daily(stk_cd=5930, base_dt="20250908", upd_stkpc_tp="1")  # type: ignore[arg-type]
    assert fake.calls("ka10081") == []


@pytest.mark.parametrize(
    ("kind", "fmt", "value", "wire"),
    [
        ("int", None, 12, "12"),
        ("int", None, "0000140000", "0000140000"),
        ("decimal", None, Decimal("1.50"), "1.50"),
        ("decimal", None, 1.5, "1.5"),
        ("decimal", None, 3, "3"),
        ("decimal", None, "-0.25", "-0.25"),
        ("date", "YYYYMMDD", dt.date(2025, 9, 8), "20250908"),
        ("date", "YYYYMMDD", dt.datetime(2025, 9, 8, 15, 30), "20250908"),
        ("time", "HHmmss", dt.time(9, 5, 7), "090507"),
        ("time", "HHmm", dt.time(14, 30), "1430"),
        ("datetime", "YYYYMMDDHHmmss", dt.datetime(2025, 9, 8, 9, 5, 7), "20250908090507"),
        ("str", "YYYYMM", dt.date(2025, 9, 1), "202509"),
        ("str", None, "005930", "005930"),
    ],
)
def test_accepted_values_and_their_wire_text(kind, fmt, value, wire):
    from kiwoom._model import FieldRule, check

    assert check("x", FieldRule("f", "f", "필드", False, None, kind, fmt), value) == wire


@pytest.mark.parametrize(
    ("kind", "fmt", "value"),
    [
        ("str", None, 5930),  # an int never becomes text
        ("str", None, 1.0),
        ("str", None, dt.date(2025, 9, 8)),  # a text field without a date format
        ("str", "YYYYMM", dt.time(9, 0)),
        ("int", None, 1.0),
        ("int", None, True),
        ("int", None, "12.5"),
        ("int", None, Decimal("12")),
        ("decimal", None, float("nan")),
        ("decimal", None, "1e5"),
        ("decimal", None, True),
        ("date", "YYYYMMDD", dt.time(9, 0)),
        ("date", "YYYYMMDD", 20250908),
        ("time", "HHmmss", dt.date(2025, 9, 8)),
        ("datetime", "YYYYMMDDHHmmss", dt.date(2025, 9, 8)),
    ],
)
def test_refused_values(kind, fmt, value):
    from kiwoom._model import FieldRule, check

    with pytest.raises(InvalidRequestError, match=r"x: field 'f': \(필드\) expects"):
        check("x", FieldRule("f", "f", "필드", False, None, kind, fmt), value)


# --------------------------------------------------------------------------- code fields


def test_a_code_outside_the_table_is_refused_with_the_codes_and_their_meanings():
    req_type = catalog.get("usa06012").request_type
    with pytest.raises(InvalidRequestError) as info:
        req_type(stex_tp="NASD", stk_cd="AAPL")
    err = info.value
    assert (err.api_id, err.field) == ("usa06012", "stex_tp")
    assert "'NA' (AMEX), 'ND' (NASDAQ), 'NY' (NYSE)" in str(err)
    with pytest.raises(InvalidRequestError, match="'NASD' is not one of its codes"):
        catalog.get("usa06012").build_request({"stex_tp": "NASD", "stk_cd": "AAPL"})
    assert req_type(stex_tp="ND", stk_cd="AAPL").stex_tp == "ND"


def test_upd_stkpc_tp_is_0_or_1():
    with pytest.raises(InvalidRequestError, match=r"upd_stkpc_tp.*'7' is not one of its codes"):
        Ka10081Request(stk_cd="005930", base_dt="20250908", upd_stkpc_tp="7")  # type: ignore[arg-type]


def test_an_optional_code_field_may_be_blank_as_kiwoom_sends_it():
    req_type = catalog.get("ust21050").request_type
    rule = next(r for r in req_type.__rules__ if r.wire == "stex_tp")
    assert rule.codes and not rule.required
    from kiwoom._model import check

    assert check("ust21050", rule, "") == ""


def test_an_incomplete_code_table_is_relaxed_by_its_override():
    # ka20005 inds_cd lists 2 of the many sector codes: any text is sent, the codes document.
    rule = next(r for r in catalog.get("ka20005").request_type.__rules__ if r.wire == "inds_cd")
    assert rule.codes is None
    catalog.get("ka20005").build_request({"inds_cd": "253", "tic_scope": "1"})
