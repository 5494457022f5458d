"""What a response carries beyond the catalogue stays reachable (``RawResponse.extra``), is
counted in debug logs, and a renamed row list is never a silent empty result."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest
from _fake import APPKEY, SECRET, FakeKiwoom, ok
from samples import STRUCTS, sample_body
from test_every_api_calls import _REST

import kiwoom
from kiwoom import _extra

MINUTE = {"stk_cd": "005930", "tic_scope": "1", "upd_stkpc_tp": "1"}


def _minute_rows() -> httpx.Response:
    """ka10080 with a field Kiwoom added (acc_trde_qty) on two of three rows, and a new key."""
    return ok(
        {
            "stk_cd": "005930",
            "new_flag": "Y",
            "stk_min_pole_chart_qry": [
                {"cur_prc": "-70100", "cntr_tm": "20250908153000", "acc_trde_qty": "1200"},
                {"cur_prc": "+70200", "cntr_tm": "20250908152900"},
                {"cur_prc": "70300", "cntr_tm": "20250908152800", "acc_trde_qty": "900"},
            ],
        }
    )


def _client(fake: FakeKiwoom, **options: object) -> kiwoom.Kiwoom:
    return kiwoom.Kiwoom(APPKEY, SECRET, transport=fake.transport(), limiter=False, **options)


def test_unknown_fields_are_kept_in_extra_shaped_like_the_body():
    fake = FakeKiwoom(routes={"ka10080": _minute_rows()})
    with _client(fake) as client:
        resp = client.chart.minutes(**MINUTE)
        raw = client.last_response
        assert raw is not None
        assert raw.extra == {
            "new_flag": "Y",
            "stk_min_pole_chart_qry": [{"acc_trde_qty": "1200"}, {}, {"acc_trde_qty": "900"}],
        }
        # row i of extra belongs to typed row i
        rows = resp.stk_min_pole_chart_qry
        assert [r.cur_prc for r in rows] == [70100, 70200, 70300]
        assert raw.extra["stk_min_pole_chart_qry"][2]["acc_trde_qty"] == "900"
        assert client.call_raw("ka10080", MINUTE).extra == raw.extra


def test_a_body_the_catalogue_covers_has_no_extra():
    fake = FakeKiwoom(
        routes={"ka10080": ok({"stk_cd": "005930", "stk_min_pole_chart_qry": [{"cur_prc": "1"}]})}
    )
    with _client(fake) as client:
        client.chart.minutes(**MINUTE)
        assert client.last_response is not None
        assert client.last_response.extra == {}


def test_unknown_fields_are_counted_in_the_debug_log(caplog):
    caplog.set_level(logging.DEBUG, logger="kiwoom")
    fake = FakeKiwoom(routes={"ka10080": _minute_rows()})
    with _client(fake, debug=True) as client:
        client.chart.minutes(**MINUTE)
    counted = [r.getMessage() for r in caplog.records if "not in the catalogue" in r.getMessage()]
    assert counted == [
        "ka10080: 2 key(s) not in the catalogue, kept in RawResponse.extra: "
        "new_flag (1), stk_min_pole_chart_qry[].acc_trde_qty (2)"
    ]


def test_without_debug_nothing_is_counted(caplog):
    caplog.set_level(logging.DEBUG, logger="kiwoom")
    fake = FakeKiwoom(routes={"ka10080": _minute_rows()})
    with _client(fake, debug=False) as client:
        client.chart.minutes(**MINUTE)
    assert not [r for r in caplog.records if "not in the catalogue" in r.getMessage()]


DAILY = {"stk_cd": "005930", "base_dt": "20250908", "upd_stkpc_tp": "1"}


def test_a_row_list_under_another_name_warns_naming_both(caplog):
    renamed = ok({"stk_cd": "005930", "stk_day_pole_qry": [{"dt": "20250908", "cur_prc": "1"}]})
    fake = FakeKiwoom(routes={"ka10081": renamed})
    with _client(fake) as client:
        resp = client.chart.daily(**DAILY)
        assert resp.stk_dt_pole_chart_qry == []
        assert client.last_response is not None
        rows = client.last_response.extra["stk_day_pole_qry"]
    assert rows == [{"dt": "20250908", "cur_prc": "1"}]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "ka10081: the response lacks the catalogue's row list 'stk_dt_pole_chart_qry' but carries"
        " 'stk_day_pole_qry', not in the catalogue: its rows are in RawResponse.extra"
        " (client.last_response)"
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"stk_cd": "005930", "stk_dt_pole_chart_qry": []},  # sent, empty
        {"stk_cd": "005930"},  # absent, but nothing else came instead
    ],
)
def test_an_empty_or_absent_list_alone_does_not_warn(caplog, body):
    fake = FakeKiwoom(routes={"ka10081": ok(body)})
    with _client(fake) as client:
        assert client.chart.daily(**DAILY).stk_dt_pole_chart_qry == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_async_client_keeps_extra_too(caplog):
    fake = FakeKiwoom(routes={"ka10080": _minute_rows()})

    async def main() -> dict[str, object]:
        async with kiwoom.AsyncKiwoom(
            APPKEY, SECRET, transport=fake.async_transport(), limiter=False
        ) as client:
            await client.chart.minutes(**MINUTE)
            assert client.last_response is not None
            return client.last_response.extra

    assert asyncio.run(main())["new_flag"] == "Y"


@pytest.mark.parametrize("entry", _REST, ids=lambda e: e.api_id)
def test_extra_finds_exactly_the_added_keys_in_every_api(entry):
    wire, _ = sample_body(STRUCTS[entry.api_id])
    body = {"return_code": 0, "return_msg": "", **wire}
    assert _extra.extra(json.dumps(body).encode(), entry.wire_type) == {}
    expected: dict[str, object] = {"zz_new": "1"}
    body["zz_new"] = "1"
    for key, value in wire.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            body[key] = [{**row, "zz_row": str(i)} for i, row in enumerate(value)]
            expected[key] = [{"zz_row": str(i)} for i in range(len(value))]
    assert _extra.extra(json.dumps(body).encode(), entry.wire_type) == expected
