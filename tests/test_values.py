import datetime as dt

import pytest

from kiwoom import Direction, direction
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
        ("999999", None),
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
