"""The importer: inference rules on literal inputs, and the import of the official catalogue.

The official catalogue may not be redistributed; the end-to-end test looks for it at
$KIWOOM_OFFICIAL_CATALOGUE or in the local cache, and is skipped when absent.
"""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml

from codegen import importer, infer
from codegen.examples import parse_examples
from codegen.infer import Typing
from codegen.overrides import load as load_overrides

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "spec"
_DEFAULT = Path.home() / ".cache/kiwoom-official/kwcli-1.0.3/kiwoom/_data/kiwoom_api_spec.json"
OFFICIAL = Path(os.environ.get("KIWOOM_OFFICIAL_CATALOGUE", _DEFAULT))


def _desc(label: str, description: str, request: bool = False) -> Typing | None:
    return infer.infer_from_description(label, description, None, request)


# --------------------------------------------------------------------------- labels and codes


def test_normalize_label():
    assert infer.normalize_label("(최우선)매도호가") == "최우선매도호가"
    assert infer.normalize_label(" 전일 대비 [n] ") == "전일대비n"


@pytest.mark.parametrize(
    ("label", "direction"),
    [
        ("현재가", True),
        ("(최우선)매도호가", True),
        ("매도2차선호가", True),
        ("매수호가10", True),
        ("52주최고가", True),
        ("NAV", True),
        ("전일대비", False),
        ("등락율", False),
        ("매도호가직전대비1", False),
        ("매도호가총잔량", False),
        ("순매수", False),
        ("우선매도호가단위", False),
    ],
)
def test_direction_labels(label, direction):
    assert infer.is_direction_label(label) is direction


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("1: 상한가, 2:상승, 3:보합", {"1": "상한가", "2": "상승", "3": "보합"}),
        ("NA: AMEX, ND: NASDAQ, NY: NYSE", {"NA": "AMEX", "ND": "NASDAQ", "NY": "NYSE"}),
        ("1:KRX, 2:NXT 3.통합", {"1": "KRX", "2": "NXT", "3": "통합"}),
        ("0 : 통합, 1 : KRX", {"0": "통합", "1": "KRX"}),
        ("00:지정가 03시장가 30:LOC", {"00": "지정가", "03": "시장가", "30": "LOC"}),
        ("코스피:0, 코스닥:1", {"0": "코스피", "1": "코스닥"}),
        ("0:당일, 1:전일, 10;10일", {"0": "당일", "1": "전일", "10": "10일"}),
        ("0 or 1", {"0": "", "1": ""}),
        ("Y,N", {"Y": "", "N": ""}),
        ("KRX, NXT, SOR", {"KRX": "", "NXT": "", "SOR": ""}),
        ("+: 상승, -:하락, '': 보합", {"+": "상승", "-": "하락", "": "보합"}),
        (
            "0:기간으로 조회, 1:시작일자, 종료일자로 조회",
            {"0": "기간으로 조회", "1": "시작일자, 종료일자로 조회"},
        ),
        ("0:전체(기본값),1:매도", {"0": "전체(기본값)", "1": "매도"}),
        ("1:전일 5:5일,기본값:1", {"1": "전일", "5": "5일"}),
        ("0 : 장전(8:40~),\n8 : 마감(15:30 이후)", {"0": "장전(8:40~)", "8": "마감(15:30 이후)"}),
        ("1:전일, 4:5일\n※ 기간 대신 일자로 조회 가능", {"1": "전일", "4": "5일"}),
    ],
)
def test_parse_codes(text, codes):
    assert infer.parse_codes(text) == codes


@pytest.mark.parametrize(
    "text",
    [
        "",
        "종목코드",
        "계약,주",
        "접수, 체결, 확인",
        "000:전체, usa10101 API 참고",
        "0:전체 10,15,20(1만단위) 이상 (ex. 50: 50만 이상)",
        "001:종합(KOSPI), 101:종합(KOSDAQ) 나머지 ※ 업종코드 참고",
        "전체:000000000000, 한국투자증권:3",
        "10자리 숫자가 출력됩니다. 뒤에 2자리는 분류 값입니다.",
        "0:평균, YYYY:년도",
        "5:KRX금현물, 5값으로 고정",
    ],
)
def test_not_codes(text):
    assert infer.parse_codes(text) is None


def test_single_code_only_in_requests():
    assert infer.parse_codes("0: 순위 변동 없음", single=False) is None
    assert _desc("빅데이터 순위", "0: 순위 변동 없음") is None
    assert _desc("조회타입", "0:조건검색", request=True) == Typing(type="code")
    assert dict(_desc("조회타입", "0:조건검색", request=True).codes) == {"0": "조건검색"}


# --------------------------------------------------------------------------- descriptions


@pytest.mark.parametrize(
    ("description", "type_", "fmt"),
    [
        ("YYYYMMDD", "date", "YYYYMMDD"),
        ("YYYYMMDD\n(연도4자리, 월 2자리, 일 2자리 형식)", "date", "YYYYMMDD"),
        ("YYYMMDD", "date", "YYYYMMDD"),
        ("기준 일자, YYYYMMDD", "date", "YYYYMMDD"),
        ("YYYYMMDDHHmmss", "datetime", "YYYYMMDDHHmmss"),
        ("HHmmss", "time", "HHmmss"),
        ("HH:mm:ss", "time", "HH:mm:ss"),
        ("HH:mm", "time", "HH:mm"),
        ("YYYYMM", "string", "YYYYMM"),
        ("YYYY", "string", "YYYY"),
    ],
)
def test_formats(description, type_, fmt):
    t = _desc("일자", description)
    assert t is not None
    assert (t.type, t.format) == (type_, fmt)


@pytest.mark.parametrize(
    ("label", "description", "expected"),
    [
        ("현재가", "단위: 원, 부호가 포함된 숫자", Typing("integer", "원", "direction")),
        ("전일대비", "단위: 원, 부호가 포함된 숫자", Typing("integer", "원", "real")),
        ("거래량", "단위: 1주", Typing("integer", "주")),
        ("거래량", "단위: 1000주", Typing("integer", "천주")),
        ("순매수", "단위: 1000주(천주), 부호가 포함된 숫자", Typing("integer", "천주", "real")),
        ("거래대금", "단위: 백만원", Typing("integer", "백만원")),
        ("매입가", "단위 : 원", Typing("integer", "원")),
        ("상승", "단위: 종목수", Typing("integer", "종목수")),
        (
            "예수금",
            "단위: 원, 좌측 0-padding 처리된 부호 포함 12자리 숫자",
            Typing("integer", "원", "real"),
        ),
        (
            "등락율",
            "단위: %, 부호 포함 소수점 둘째 자리까지 포맷된 백분율",
            Typing("decimal", "%", "real"),
        ),
        ("체결강도", "단위: %, 소수점 둘째 자리까지 포맷된 백분율", Typing("decimal", "%")),
        (
            "현재가",
            "단위: USD, 부호 포함 소수점 넷째 자리까지 포맷된 숫자",
            Typing("decimal", "USD", "direction"),
        ),
        ("BASIS", "소수점 둘째 자리까지 포맷된 숫자", Typing("decimal")),
        (
            "현재가",
            "단위: 지수\n\n※ 지수 값은 소수점 제거 된 100배 값으로 제공됩니다.",
            Typing("decimal", "지수", scale=2),
        ),
        (
            "IV",
            '소수점 제거 된 100배 값으로 제공\n예) "2658"값은 26.58을 의미합니다.',
            Typing("decimal", scale=2),
        ),
        (
            "델타",
            '소수점 제거한 값으로 제공\n예) "590470"값은 0.590470을 의미합니다.',
            Typing("decimal", scale=6),
        ),
        ("개인", "단위: 백만원, 1주, 부호가 포함된 숫자", Typing("integer", sign="real")),
        (
            "기관",
            "금액 단위: 백만원, 수량 단위: 1000주 혹은 1주(unit_tp값으로 설정)",
            Typing("integer"),
        ),
        ("거래량", "+는 매수체결,-는 매도체결", Typing("integer", sign="real")),
    ],
)
def test_numbers(label, description, expected):
    assert _desc(label, description) == expected


@pytest.mark.parametrize("description", ["", "종목코드 6자리", "고유 계좌번호 10자리", "계약,주"])
def test_description_without_type(description):
    assert _desc("종목코드", description) is None


@pytest.mark.parametrize(
    ("unit", "normal"),
    [
        ("원", "원"),
        ("1주", "주"),
        ("1000주", "천주"),
        ("천만", "천만원"),
        ("억원 혹은 1000주", None),
    ],
)
def test_normalize_unit(unit, normal):
    assert infer.normalize_unit(unit) == normal


# --------------------------------------------------------------------------- label fallback


def test_label_fallbacks():
    assert infer.infer_from_label("기준일자", "domestic", 8) == Typing("date", format="YYYYMMDD")
    assert infer.infer_from_label("기준일자", "domestic", None) is None  # no evidence
    assert infer.infer_from_label("만료일", "oauth", None, ["20241107083713"]) == Typing(
        "datetime", format="YYYYMMDDHHmmss"
    )
    assert infer.infer_from_label("체결시간", "us", None) is None
    assert infer.infer_from_label("체결시간", "us", None, ["093000"]) == Typing(
        "time", format="HHmmss"
    )
    assert infer.infer_from_label("매도체결량", "domestic") == Typing("integer")
    assert infer.infer_from_label("매도체결량", "domestic", None, ["1.5"]) == Typing("decimal")
    assert infer.infer_from_label("회전율", "domestic") == Typing("decimal")
    assert infer.infer_from_label("매수금액", "domestic") is None
    assert infer.infer_from_label("매수금액", "domestic", None, ["1000"]) == Typing("integer")
    assert infer.infer_from_label("시가총액(억)", "domestic") == Typing("integer", "억원")
    assert infer.infer_from_label("매수금액", "us", None, ["12.5"]) == Typing("decimal")
    assert infer.infer_from_label("종목코드", "domestic", None, ["005930"]) is None
    assert infer.infer_from_label("체결량", "domestic", None, ["abc"]) is None


def test_looks_numeric():
    assert infer.looks_numeric("순간거래대금", "")
    assert infer.looks_numeric("비율", "%가 포함된 백분율 값")
    assert not infer.looks_numeric("종목코드", "")
    assert not infer.looks_numeric("거래량조건", "0:전체, 10,15(1만단위) 이상")


# --------------------------------------------------------------------------- examples


@pytest.mark.parametrize(
    ("typing", "value", "ok"),
    [
        (Typing("integer"), "+123", True),
        (Typing("integer"), "1.5", False),
        (Typing("integer"), "--1100", True),  # the SDK reads doubled signs
        (Typing("integer"), "+-+1100", False),
        (Typing("integer"), "", True),
        (Typing("decimal"), "-0.24", True),
        (Typing("decimal"), "000000.1602", True),
        (Typing("decimal"), "1,507.70", True),  # the SDK drops thousands separators
        (Typing("decimal", scale=2), "2658", True),
        (Typing("decimal", scale=2), "26.58", False),
        (Typing("date", format="YYYYMMDD"), "00000000", True),
        (Typing("date", format="YYYYMMDD"), "162000", False),
        (Typing("datetime", format="YYYYMMDDHHmmss"), "20241107083713", True),
        (Typing("time", format="HHmmss"), "093000", True),
        (Typing("time", format="HH:mm"), "09:30", True),
        (Typing("time", format="HH:mm"), "0930", False),
        (Typing("code", codes={"1": "a"}), "1", True),
        (Typing("code", codes={"1": "a"}), "2", False),
        (Typing(), "anything", True),
    ],
)
def test_fits(typing, value, ok):
    assert infer.fits(typing, value) is ok


def test_sign_from_examples():
    assert infer.sign_from_examples(Typing("integer"), "시가", ["+100"]).sign == "direction"
    assert infer.sign_from_examples(Typing("integer"), "순매수", ["-5"]).sign == "real"
    assert infer.sign_from_examples(Typing("integer"), "거래량", ["5"]).sign == "none"
    assert infer.sign_from_examples(Typing(), "시가", ["+100"]).sign == "none"


def test_value_text():
    assert infer.value_text(" 450") == "450"
    assert infer.value_text(0) == "0"
    assert infer.value_text(None) == ""
    assert infer.value_text(True) is None
    assert infer.value_text({"a": 1}) is None


def test_parse_examples_tolerates_loose_json():
    text = """#요청
{
    'trnm': 'REG',
    'return_code': 0,
    "a": "x"
    "b": 'y',
    list: [ ['0','조건1'], ['1','조건2'], ],
    "s": "two
lines",
}

#실시간 수신
{'data': [{'values': {'10': '-20800'}}], 'trnm': 'REAL'}
"""
    first, second = parse_examples(text)
    assert first == {
        "trnm": "REG",
        "return_code": 0,
        "a": "x",
        "b": "y",
        "list": [["0", "조건1"], ["1", "조건2"]],
        "s": "two\nlines",
    }
    assert second == {"data": [{"values": {"10": "-20800"}}], "trnm": "REAL"}
    assert parse_examples("{}") == [{}]
    assert parse_examples("no message here") == []


# --------------------------------------------------------------------------- names, APIs, errors


@pytest.mark.parametrize(
    ("wire", "py"),
    [
        ("cur_prc", None),
        ("acctNo", None),
        ("from", "from_"),
        ("52wk_hgst_pric", "hgst_pric_52wk"),
        ("10d_avg_tern_rt", "avg_tern_rt_10d"),
        ("100ord_alow_amt", "ord_alow_amt_100"),
        ("250hgst", "hgst_250"),
    ],
)
def test_py_name(wire, py):
    assert infer.py_name(wire) == py


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (1501, "input"),
        (1517, "input"),
        (1687, "rate_limit"),
        (1700, "rate_limit"),
        (1702, "rate_limit"),
        (1902, "not_found"),
        (1999, "server"),
        (8005, "auth"),
        (8103, "auth"),
        (8104, "unsupported"),
        (8200, "unsupported"),
    ],
)
def test_error_kind(code, kind):
    assert infer.error_kind(code) == kind


def test_orders_and_mock():
    assert infer.is_order_api("domestic", "order", "주식 매수주문")
    assert infer.is_order_api("domestic", "credit_order", "신용 취소주문")
    assert infer.is_order_api("us", "order", "미국주식 정정 주문")
    assert not infer.is_order_api("us", "order", "미국주식 주문가능수량(종목/증거금률별)")
    assert infer.is_order_api("us", "exchange", "환전 신청")
    assert not infer.is_order_api("us", "exchange", "환율 조회")
    assert not infer.is_order_api("domestic", "account", "미체결요청")
    assert not infer.mock_supported(["해당 API는 모의투자를 지원하지 않습니다"])
    assert infer.mock_supported(["현재 토큰의 계좌번호를 조회합니다."])


def test_overrides_are_optional(tmp_path):
    ov = load_overrides(tmp_path)
    assert (ov.methods, ov.fids, ov.fields) == ({}, {}, {})
    (tmp_path / "methods.yaml").write_text('ka10081: daily\n"0B": trade\n', encoding="utf-8")
    (tmp_path / "fids.yaml").write_text('"10": cur_prc\n', encoding="utf-8")
    (tmp_path / "fields.yaml").write_text(
        "ka1:\n  response.a: {type: code, codes: {1: x}}\n", encoding="utf-8"
    )
    ov = load_overrides(tmp_path)
    assert ov.methods == {"ka10081": "daily", "0B": "trade"}
    assert ov.fids == {"10": "cur_prc"}
    assert ov.fields == {"ka1": {"response.a": {"type": "code", "codes": {"1": "x"}}}}


# --------------------------------------------------------------------------- a small catalogue


def _row(element, label, description="", depth=0, type_="String", required="N", length=""):
    return {
        "element": element,
        "depth": depth,
        "is_section": False,
        "한글명": label,
        "type": type_,
        "required": required,
        "length": length,
        "description": description,
    }


def _api(menu, api_id, name, url, request, response, req_ex="{}", resp_ex="{}", overview=()):
    meta = {"메뉴 위치": f"{menu} > {name}({api_id})", "API 명": name, "API ID": api_id}
    meta |= {"URL": url, "Method": "POST", **dict.fromkeys(overview, "")}
    return {
        "meta": meta,
        "request": {"header": [], "body": request},
        "response": {"header": [], "body": response},
        "request_example": req_ex,
        "response_example": resp_ex,
    }


def _small_catalogue() -> dict:
    chart = _api(
        "국내주식 > 차트",
        "ka10081",
        "주식일봉차트조회요청",
        "/api/dostk/chart",
        [
            _row("stk_cd", "종목코드", required="Y", length="20"),
            _row("base_dt", "기준일자", "YYYYMMDD"),
        ],
        [
            _row("stk_cd", "종목코드"),
            _row("rows", "일봉", type_="LIST"),
            _row("cur_prc", "현재가", "단위: 원, 부호가 포함된 숫자", depth=1),
            _row("flu_rt", "등락율", "단위: %, 부호 포함 소수점 둘째 자리까지 포맷된 백분율", 1),
            _row("dt", "일자", "YYYYMMDD", depth=1),
            _row("pre_sig", "대비기호", "1: 상한가, 2:상승, 3:보합", depth=1),
            _row("trde_qty", "거래량", "", depth=1),
        ],
        resp_ex="{'stk_cd': '005930', 'rows': [{'cur_prc': '-70000', 'flu_rt': '1.5',"
        " 'dt': '20250101', 'pre_sig': '9', 'trde_qty': '12'}]}",
        overview=["해당 API는 모의투자를 지원하지 않습니다"],
    )
    order = _api(
        "국내주식 > 주문",
        "kt10000",
        "주식 매수주문",
        "/api/dostk/ordr",
        [_row("ord_qty", "주문수량", "단위: 1주", required="Y")],
        [_row("ord_no", "주문번호")],
    )
    trade = _api(
        "국내주식 > 실시간시세",
        "0B",
        "주식체결",
        "/api/dostk/websocket",
        [_row("trnm", "서비스명")],
        [
            _row("trnm", "서비스명"),
            _row("data", "리스트", type_="LIST"),
            _row("values", "값", type_="LIST", depth=1),
            _row("10", "현재가", "", depth=2),
            _row("9999", "알수없음", "", depth=2),
        ],
        resp_ex="#요청\n{'trnm': 'REG'}\n"
        "#실시간\n{'trnm': 'REAL', 'data': [{'values': {'10': '+5'}}]}",
    )
    token = _api(
        "OAuth 인증 > 접근토큰발급",
        "au10001",
        "접근토큰 발급",
        "/oauth2/token",
        [_row("appkey", "앱키", required="Y")],
        [_row("expires_dt", "만료일")],
        resp_ex='{"expires_dt": "20241107083713"}',
    )
    apis = {
        f"{a['meta']['API 명']}({a['meta']['API ID']})": a for a in (chart, order, trade, token)
    }
    errors = [{"오류코드": "1700", "오류메시지": "x"}, {"오류코드": "8005", "오류메시지": "y"}]
    return {"apis": apis, "error_codes": errors}


def _schema_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((SPEC / "catalogue.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _snapshot(spec_dir: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(spec_dir)): p.read_bytes()
        for p in sorted(spec_dir.rglob("*.yaml"))
        if "overrides" not in p.parts
    }


def test_run_on_a_small_catalogue(tmp_path):
    source = tmp_path / "official.json"
    source.write_text(json.dumps(_small_catalogue(), ensure_ascii=False), encoding="utf-8")
    spec = tmp_path / "spec"
    (spec / "overrides").mkdir(parents=True)
    (spec / "overrides" / "methods.yaml").write_text("ka10081: daily\n", encoding="utf-8")
    report = importer.run(source, spec)
    first = _snapshot(spec)
    assert set(first) == {
        "oauth.yaml",
        "errors.yaml",
        "domestic/chart.yaml",
        "domestic/order.yaml",
        "realtime/domestic.yaml",
    }
    validator = _schema_validator()
    for text in first.values():
        validator.validate(yaml.safe_load(text))

    chart = yaml.safe_load(first["domestic/chart.yaml"])
    api = chart["apis"][0]
    assert (chart["group"], chart["path"], api["method"], api["paging"], api["mock"]) == (
        "domestic.chart",
        "/api/dostk/chart",
        "daily",
        True,
        False,
    )
    assert api["request"][0] == {
        "name": "stk_cd",
        "label": "종목코드",
        "type": "string",
        "required": True,
        "length": 20,
    }
    rows = {f["name"]: f for f in api["response"][1]["fields"]}
    assert rows["cur_prc"]["sign"] == "direction"
    assert rows["flu_rt"] == {
        "name": "flu_rt",
        "label": "등락율",
        "type": "decimal",
        "unit": "%",
        "sign": "real",
    }
    assert rows["dt"]["type"] == "date"
    assert rows["pre_sig"]["codes"] == {"1": "상한가", "2": "상승", "3": "보합"}  # never bent
    assert any(c.kind == "example-misfit" and c.path.endswith("pre_sig") for c in report.unresolved)
    assert rows["trde_qty"]["type"] == "integer"  # label fallback, example fits

    order = yaml.safe_load(first["domestic/order.yaml"])["apis"][0]
    assert order["order"] is True and order["method"] == "kt10000"
    assert "kt10000 (주식 매수주문)" in report.missing_methods

    rt = yaml.safe_load(first["realtime/domestic.yaml"])["types"][0]
    assert rt["fields"][0] == {
        "name": "10",
        "py": "cur_prc",
        "label": "현재가",
        "type": "integer",
        "unit": "원",  # borrowed from the REST field of the same label
        "sign": "direction",
    }
    assert rt["fields"][1]["py"] == "fid_9999"
    assert any("9999" in item for item in report.unnamed_fids)

    oauth = yaml.safe_load(first["oauth.yaml"])
    assert oauth["apis"][0]["response"][0]["type"] == "datetime"
    errors = yaml.safe_load(first["errors.yaml"])["errors"]
    assert [(e["code"], e["kind"]) for e in errors] == [(1700, "rate_limit"), (8005, "auth")]
    assert "pre_sig" in str(report)

    importer.run(source, spec)
    assert _snapshot(spec) == first


# --------------------------------------------------------------------------- the official catalogue


@pytest.mark.skipif(not OFFICIAL.exists(), reason="official catalogue not available")
def test_import_reproduces_committed_spec(tmp_path):
    spec = tmp_path / "spec"
    spec.mkdir()
    if (SPEC / "overrides").exists():
        shutil.copytree(SPEC / "overrides", spec / "overrides")
    report = importer.run(OFFICIAL, spec)
    assert report.apis == {"oauth": 2, "rest": 304, "condition": 8, "realtime": 23}
    assert not report.unresolved, "unresolved catalogue conflicts:\n" + "\n".join(
        map(str, report.unresolved)
    )
    assert not [line for line in report.oddities if line.startswith("fields.yaml")]
    produced = _snapshot(spec)
    validator = _schema_validator()
    for text in produced.values():
        validator.validate(yaml.safe_load(text))
    assert produced == _snapshot(SPEC), "spec/ is stale: run `python -m codegen import`"


def _conflict_catalogue() -> dict:
    ranking = _api(
        "국내주식 > 순위정보",
        "ka10023",
        "거래량급증요청",
        "/api/dostk/rkinfo",
        [
            _row(
                "trde_qty_tp",
                "거래량구분",
                "5:5천주이상, 1000:백만주이상",
                required="Y",
                length="1",
            ),
            _row("base_dt", "기준일자", "YYYYMMDD", required="Y", length="3"),
            _row("tic_scope", "틱범위", "1:1틱, 3:3틱", required="Y", length="2"),
        ],
        [
            _row("rows", "급증", type_="LIST"),
            _row("cur_prc", "현재가", "단위: 원", depth=1),
        ],
        req_ex="{'trde_qty_tp': '5', 'base_dt': '20250905', 'tic_scope': ''}",
        resp_ex="{'other_rows': [{'cur_prc': '12.5', 'extra': '1'}]}",
    )
    sector = _api(
        "국내주식 > 업종",
        "ka20001",
        "업종현재가요청",
        "/api/dostk/sect",
        [],
        [_row("cur_prc", "현재가", "단위: 원, 소수점 둘째자리까지 포맷")],
        resp_ex="{'cur_prc': '2631.45'}",
    )
    apis = {f"{a['meta']['API 명']}": a for a in (ranking, sector)}
    return {"apis": apis, "error_codes": []}


def test_conflicts_of_every_class_are_found_and_resolved_by_overrides(tmp_path):
    source = tmp_path / "official.json"
    source.write_text(json.dumps(_conflict_catalogue(), ensure_ascii=False), encoding="utf-8")
    spec = tmp_path / "spec"
    (spec / "overrides").mkdir(parents=True)
    report = importer.run(source, spec)
    found = {(c.kind, c.api_id, c.path) for c in report.conflicts}
    assert found == {
        ("length<code", "ka10023", "request.trde_qty_tp"),
        ("length<format", "ka10023", "request.base_dt"),
        ("length<example", "ka10023", "request.base_dt"),
        ("required-absent", "ka10023", "request.tic_scope"),
        ("example-misfit", "ka10023", "response.rows.cur_prc"),  # '12.5' is no whole won
        ("list-name", "ka10023", "response.rows"),
        ("unknown-key", "ka10023", "response.rows.extra"),
        ("typed-differently", "", "domestic.cur_prc"),
    }
    assert {(c.kind, c.api_id, c.path) for c in report.unresolved} == found
    chart = yaml.safe_load((spec / "domestic" / "ranking.yaml").read_text(encoding="utf-8"))
    row = chart["apis"][0]["response"][0]["fields"][0]
    assert row["type"] == "integer"  # the table's type is kept, not bent to the example

    (spec / "overrides" / "fields.yaml").write_text(
        textwrap.dedent(
            """
            ka10023:
              request.trde_qty_tp: {length: 4, reason: "code 1000 is 4 characters"}
              request.base_dt: {length: 8, reason: "a date is 8 characters"}
              request.tic_scope: {required: false, reason: "the example sends it blank"}
              response.rows: {aliases: [other_rows], reason: "the example names it so"}
              response.rows.cur_prc: {example: wrong, reason: "a price is whole won"}
            """
        ),
        encoding="utf-8",
    )
    (spec / "overrides" / "conflicts.yaml").write_text(
        textwrap.dedent(
            """
            unknown_keys:
              ka10023: {keys: [response.rows.extra], reason: "undocumented"}
            typed_differently:
              domestic.cur_prc: "index points on sector APIs"
            """
        ),
        encoding="utf-8",
    )
    report = importer.run(source, spec)
    assert report.unresolved == []
    assert report.conflict_counts()["length<code"] == (1, 0)
    api = yaml.safe_load((spec / "domestic" / "ranking.yaml").read_text(encoding="utf-8"))
    api = api["apis"][0]
    assert api["response"][0]["aliases"] == ["other_rows"]
    assert {f["name"]: f.get("length") for f in api["request"]}["base_dt"] == 8
