import datetime as dt
import inspect

import msgspec
import pytest

from kiwoom import Direction, _convert, _fastdecode, catalog, direction
from kiwoom._generated.domestic import chart
from kiwoom._values import to_code, to_date, to_datetime, to_time


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("20250908", dt.date(2025, 9, 8)),
        ("00000000", None),
        ("", None),
        (" 20240229 ", dt.date(2024, 2, 29)),
        ("2025-09-08", dt.date(2025, 9, 8)),
    ],
)
def test_to_date(wire, expected):
    assert to_date(wire) == expected


def test_to_date_rejects_impossible_day():
    with pytest.raises(ValueError):
        to_date("20250231")


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("165208", dt.time(16, 52, 8)),
        ("16:52:08", dt.time(16, 52, 8)),
        ("0905", dt.time(9, 5)),
        ("09:05", dt.time(9, 5)),
        ("", None),
        ("240000", None),
        ("888888", dt.time(16, 0)),  # closing auction
        ("999999", dt.time(18, 0)),  # after-hours close
    ],
)
def test_to_time(wire, expected):
    assert to_time(wire) == expected


def test_to_datetime():
    assert to_datetime("20241107083713") == dt.datetime(2024, 11, 7, 8, 37, 13)
    assert to_datetime("20241107") == dt.datetime(2024, 11, 7)
    assert to_datetime("") is None
    assert to_datetime("00000000000000") is None


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("-20800", Direction.DOWN),
        ("+82", Direction.UP),
        ("20800", Direction.FLAT),
        ("", Direction.FLAT),
    ],
)
def test_direction(wire, expected):
    assert direction(wire) is expected


def test_to_code():
    assert to_code(0) == 0
    assert to_code("20") == 20
    assert to_code(None) is None
    assert to_code("") is None


def _roads(api_id: str, body: bytes) -> list[object]:
    """The typed value of one body on every decode road: the fast road (C or Python fixers),
    the generated converter, and the tolerant converter."""
    entry = catalog.get(api_id)
    wire = entry.decode_wire(body)
    return [
        entry.decode(body),
        entry.convert(wire),
        _convert.convert(api_id, wire, entry.response_type),
    ]


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("20250905888888", dt.datetime(2025, 9, 5, 16, 0)),
        ("20250905999999", dt.datetime(2025, 9, 5, 18, 0)),
        ("20250905153000", dt.datetime(2025, 9, 5, 15, 30)),
    ],
)
def test_sentinel_bar_times_decode_alike_on_every_road(stamp, expected):
    rows = [
        {"cur_prc": "+7000", "cntr_tm": stamp},
        {"cur_prc": "-6990", "cntr_tm": "20250905090100"},
    ]
    body = msgspec.json.encode({"return_code": 0, "stk_min_pole_chart_qry": rows})
    for typed in _roads("ka10080", body):
        assert typed.stk_min_pole_chart_qry[0].cntr_tm == expected  # never a silent None
    wire = catalog.get("ka10080").decode_wire(body)
    assert wire.stk_min_pole_chart_qry[0].cntr_tm == stamp  # the wire text stays reachable


def test_sentinel_times_in_real_time_values():
    for raw, expected in [(b'{"20": "888888", "10": "+7000"}', dt.time(16, 0))]:
        assert catalog.get("0B").decode(raw).cntr_tm == expected
        assert catalog.get("0B").decode_wire(raw).cntr_tm == "888888"


def test_time_fields_document_the_sentinels():
    source = inspect.getsource(chart.Ka10080StkMinPoleChartQry)
    assert "cntr_tm: _dt.datetime | None" in source
    assert "888888 = 16:00:00 closing auction (17:00:00 for sector codes 253 and 254)" in source
    assert "999999 = 18:00:00 after-hours close" in source


def test_price_sign_gives_the_meaning_of_a_sign_code():
    from kiwoom import PriceSign

    row = (
        catalog.get("ka10081")
        .decode(
            msgspec.json.encode(
                {"stk_dt_pole_chart_qry": [{"pred_pre_sig": "5", "cur_prc": "-70000"}]}
            )
        )
        .stk_dt_pole_chart_qry[0]
    )
    sign = PriceSign(row.pred_pre_sig)
    assert (sign, sign.label, sign.direction) == (PriceSign.DOWN, "하락", Direction.DOWN)
    assert PriceSign.UP == "2" and PriceSign("1").direction is Direction.UP
    assert PriceSign("3").direction is Direction.FLAT
    with pytest.raises(ValueError):
        PriceSign("0")


@pytest.mark.parametrize("road", ["fixers", "python fixers", "tolerant"])
@pytest.mark.parametrize(("sector", "auction"), [("253", 17), ("254", 17), ("001", 16)])
def test_closing_auction_of_sectors_253_and_254_is_17(sector, auction, road, monkeypatch):
    rows = [
        {"cur_prc": "+263145", "cntr_tm": "20250905999999"},
        {"cur_prc": "+263100", "cntr_tm": "20250905888888"},
        {"cur_prc": "+263000", "cntr_tm": "20250905153000"},
    ]
    body = msgspec.json.encode({"return_code": 0, "inds_cd": sector, "inds_min_pole_qry": rows})
    entry = catalog.get("ka20005")
    monkeypatch.delitem(entry.__dict__, "_fast", raising=False)  # a fresh plan per road
    monkeypatch.setattr(entry, "_decoded", True)  # past the first body: the plan's road
    if road == "python fixers":
        monkeypatch.setattr(_fastdecode, "SPEEDUPS", None)
    if road == "tolerant":
        monkeypatch.setattr(_fastdecode.FastDecoder, "useful", False)
    times = [r.cntr_tm for r in entry.decode(body).inds_min_pole_qry]
    monkeypatch.delitem(entry.__dict__, "_fast", raising=False)
    assert times == [
        dt.datetime(2025, 9, 5, 18),
        dt.datetime(2025, 9, 5, auction),
        dt.datetime(2025, 9, 5, 15, 30),
    ]
    assert entry.decode_wire(body).inds_min_pole_qry[0].cntr_tm == "20250905999999"
