import subprocess
import sys

import pytest

import kiwoom
from kiwoom import errors
from kiwoom._generated._registry import ERRORS

_KIND = {
    "input": errors.InputError,
    "auth": errors.AuthError,
    "rate_limit": errors.RateLimitError,
    "not_found": errors.NotFoundError,
    "unsupported": errors.UnsupportedError,
    "server": errors.ServerError,
}


@pytest.mark.parametrize(("code", "kind", "summary"), ERRORS, ids=lambda v: str(v))
def test_every_official_code_maps_to_its_class(code, kind, summary):
    err = errors.api_error("ka10081", 2, f"[{code}:{summary}]", 200)
    assert type(err) is _KIND[kind]
    assert (err.code, err.kind, err.return_code) == (code, kind, 2)
    assert isinstance(err, errors.APIError) and isinstance(err, kiwoom.KiwoomError)


def test_no_data_and_unknown_codes():
    assert (
        type(errors.api_error("ka10081", 20, "조회된 데이터가 없습니다", 200)) is errors.NoDataError
    )
    assert type(errors.api_error("ka10081", 1, "[7777:?]", 200)) is errors.APIError
    assert type(errors.api_error("ka10081", "5", "busy", 429)) is errors.RateLimitError
    assert errors.message_code("앞말 [1700:허용된 요청 개수를 초과하였습니다]") == 1700
    assert errors.message_code("정상적으로 처리되었습니다") is None


def test_allowance_is_read_from_the_message():
    err = errors.api_error("ka10081", 5, "[1700:허용된 요청 개수를 초과하였습니다. 유량=1]", 429)
    assert isinstance(err, errors.RateLimitError) and err.allowance == 1.0
    assert errors.api_error("ka10081", 5, "[1701:초과]", 200).allowance is None  # type: ignore[union-attr]


def test_existing_names_stay_the_same_classes():
    from kiwoom import _errors

    assert errors.InvalidRequestError is _errors.InvalidRequestError is kiwoom.InvalidRequestError
    assert errors.DecodeError is kiwoom.DecodeError
    assert errors.KiwoomError is kiwoom.KiwoomError


def test_order_outcome_unknown_says_what_to_do():
    req = kiwoom.Kt10000Request(dmst_stex_tp="KRX", stk_cd="005930", ord_qty="1", trde_tp="3")
    err = errors.OrderOutcomeUnknownError("kt10000", req, "ReadTimeout")
    assert err.request is req
    assert "may or may not have been placed" in str(err)
    assert not isinstance(err, errors.TransportError)  # a generic retry handler must not catch it


def test_import_kiwoom_does_not_import_httpx():
    code = "import sys, kiwoom; print('httpx' in sys.modules, 'kiwoom._sync' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
    code = "import sys, kiwoom; kiwoom.Kiwoom; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
