"""The blocking client against a fake server: wire form, token, retries, orders, errors."""

from __future__ import annotations

import datetime as dt
import logging

import httpx
import pytest
from _fake import APPKEY, SECRET, FakeKiwoom, chart_page, ok, rejected

import kiwoom
from kiwoom import Kiwoom
from kiwoom.errors import (
    APIError,
    AuthError,
    HTTPStatusError,
    InputError,
    NotFoundError,
    OrderOutcomeUnknownError,
    RateLimitError,
    RequestTimeoutError,
    TransportError,
    UnsupportedError,
)
from kiwoom.ratelimit import Permit, RateLimiter

DAILY = {"stk_cd": "005930", "base_dt": "20250908", "upd_stkpc_tp": "1"}
ORDER = {"dmst_stex_tp": "KRX", "stk_cd": "005930", "ord_qty": "1", "trde_tp": "3"}


@pytest.fixture
def fake() -> FakeKiwoom:
    return FakeKiwoom()


def make(fake: FakeKiwoom, **kw) -> tuple[Kiwoom, list[float]]:
    kw.setdefault("limiter", False)
    client = Kiwoom(APPKEY, SECRET, transport=fake.transport(), **kw)
    waits: list[float] = []
    client._sleep = waits.append
    return client, waits


def test_request_on_the_wire(fake):
    fake.routes["ka10081"] = chart_page([("20250908", "-70100")])
    client, _ = make(fake)
    resp = client.chart.daily(stk_cd="005930", base_dt=dt.date(2025, 9, 8), upd_stkpc_tp="1")
    assert isinstance(resp, kiwoom.Ka10081Response)
    assert resp.stk_dt_pole_chart_qry[0].cur_prc == 70100
    sent = fake.calls("ka10081")[0]
    assert sent.path == "/api/dostk/chart"
    assert sent.headers["api-id"] == "ka10081"
    assert sent.headers["authorization"] == "Bearer tok-1"
    assert sent.headers["content-type"] == "application/json;charset=UTF-8"
    assert "cont-yn" not in sent.headers and "next-key" not in sent.headers
    assert sent.body == DAILY


def test_continuation_headers_and_extra_headers(fake):
    client, _ = make(fake)
    client.chart.daily(**DAILY, next_key="KEY-2", headers={"x-trace": "7"})
    sent = fake.calls("ka10081")[0]
    assert (sent.headers["cont-yn"], sent.headers["next-key"]) == ("Y", "KEY-2")
    assert sent.headers["x-trace"] == "7"


def test_host_is_any_base_url(fake):
    client, _ = make(fake, host="http://127.0.0.1:8080/proxy/")
    client.chart.daily(**DAILY)
    assert fake.calls("ka10081")[0].path == "/proxy/api/dostk/chart"
    assert kiwoom.REAL == "https://api.kiwoom.com"
    assert kiwoom.MOCK == "https://mockapi.kiwoom.com"


def test_token_issued_lazily_once_and_revoked_on_close(fake):
    with make(fake)[0] as client:
        assert fake.sent == []
        client.chart.daily(**DAILY)
        client.chart.weekly(**DAILY)
    issue = fake.calls("au10001")
    assert len(issue) == 1
    assert issue[0].path == "/oauth2/token"
    assert issue[0].body == {
        "grant_type": "client_credentials",
        "appkey": APPKEY,
        "secretkey": SECRET,
    }
    revoke = fake.calls("au10002")
    assert [s.path for s in revoke] == ["/oauth2/revoke"]
    assert revoke[0].body == {"appkey": APPKEY, "secretkey": SECRET, "token": "tok-1"}
    assert fake.revoked == ["tok-1"]


def test_close_without_calls_revokes_nothing(fake):
    with make(fake)[0]:
        pass
    assert fake.sent == []


def test_token_reissued_shortly_before_expiry(fake):
    fake.expires_dt = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=9, seconds=30)).strftime(
        "%Y%m%d%H%M%S"
    )  # Korea time, 30 s from now: inside the refresh margin
    client, _ = make(fake)
    client.chart.daily(**DAILY)
    client.chart.daily(**DAILY)
    assert fake.issued == 2
    assert [s.headers["authorization"] for s in fake.calls("ka10081")] == [
        "Bearer tok-1",
        "Bearer tok-2",
    ]


def test_expired_token_refreshed_once_and_call_retried(fake):
    client, _ = make(fake)
    client.chart.daily(**DAILY)
    fake.expired.add("tok-1")
    client.chart.daily(**DAILY)
    assert fake.issued == 2
    assert [s.headers["authorization"] for s in fake.calls("ka10081")] == [
        "Bearer tok-1",
        "Bearer tok-1",
        "Bearer tok-2",
    ]


def test_token_refresh_never_loops(fake):
    client, _ = make(fake)
    fake.routes["ka10081"] = rejected(3, "[8005:Token이 유효하지 않습니다]")
    with pytest.raises(AuthError) as info:
        client.chart.daily(**DAILY)
    assert info.value.code == 8005
    assert len(fake.calls("ka10081")) == 2
    assert fake.issued == 2


def test_queries_retry_5xx_with_growing_jittered_backoff(fake):
    fake.routes["ka10081"] = [httpx.Response(503, text="busy")] * 3 + [ok()]
    client, waits = make(fake, retries=3)
    client.chart.daily(**DAILY)
    assert len(fake.calls("ka10081")) == 4
    assert len(waits) == 3
    assert all(0 <= w <= 0.25 * 2**i for i, w in enumerate(waits))


def test_queries_give_up_after_the_configured_retries(fake):
    fake.routes["ka10081"] = httpx.Response(502, text="<html>bad gateway</html>")
    client, waits = make(fake, retries=2)
    with pytest.raises(HTTPStatusError) as info:
        client.chart.daily(**DAILY)
    assert (info.value.status_code, info.value.api_id) == (502, "ka10081")
    assert len(fake.calls("ka10081")) == 3
    assert len(waits) == 2


def test_queries_retry_timeouts_and_connect_errors(fake):
    answers = [httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), "ok"]

    def route(request):
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return ok()

    fake.routes["ka10081"] = route
    client, waits = make(fake)
    client.chart.daily(**DAILY)
    assert len(fake.calls("ka10081")) == 3 and len(waits) == 2


def test_each_attempt_holds_a_rate_limit_slot_from_its_start_to_its_answer(fake):
    # The limiter hears of each attempt's end before the client backs off, so the back-off
    # does not hold the slot; answered or failed, every attempt is finished.
    events: list[str] = []

    class Spy(RateLimiter):
        def begin(self, api_id, *, group, is_order, hold=None):
            events.append(f"begin hold={hold}")
            return super().begin(api_id, group=group, is_order=is_order, hold=hold)

        def finish(self, permit):
            events.append("finish")
            super().finish(permit)

    answers = [httpx.ConnectError("refused"), "ok"]

    def route(request):
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return ok()

    fake.routes["ka10081"] = route
    client, _ = make(fake, limiter=Spy(), timeout=5.0)
    client._sleep = lambda seconds: events.append("back-off")
    client.chart.daily(**DAILY)
    hold = "begin hold=6.0"  # the attempt's budget, and a second to report its answer
    assert events == [hold, "finish", "back-off", hold, "finish"]


def test_timeout_after_retries_is_a_timeout_error(fake):
    def route(request):
        raise httpx.ReadTimeout("slow")

    fake.routes["ka10081"] = route
    client, _ = make(fake, retries=1)
    with pytest.raises(RequestTimeoutError) as info:
        client.chart.daily(**DAILY)
    assert isinstance(info.value, TransportError) and isinstance(info.value, TimeoutError)
    assert len(fake.calls("ka10081")) == 2


def test_order_whose_answer_times_out_is_sent_exactly_once(fake):
    def route(request):
        raise httpx.ReadTimeout("no answer")

    fake.routes["kt10000"] = route
    client, waits = make(fake, retries=5)
    with pytest.raises(OrderOutcomeUnknownError) as info:
        client.order.buy(**ORDER)
    assert len(fake.calls("kt10000")) == 1
    assert waits == []
    err = info.value
    assert err.api_id == "kt10000"
    assert isinstance(err.request, kiwoom.Kt10000Request) and err.request.stk_cd == "005930"
    assert "may or may not have been placed" in str(err) and "ka10075" in str(err)


def test_order_connect_failure_raises_without_retry(fake):
    def route(request):
        raise httpx.ConnectError("refused")

    fake.routes["kt10000"] = route
    client, waits = make(fake)
    with pytest.raises(TransportError) as info:
        client.order.buy(**ORDER)
    assert not isinstance(info.value, OrderOutcomeUnknownError)
    assert len(fake.calls("kt10000")) == 1 and waits == []


def test_order_5xx_and_rate_limit_are_not_retried(fake):
    fake.routes["kt10000"] = [httpx.Response(500, text="oops"), rejected(5, "[1700:유량=1]")]
    client, _ = make(fake)
    with pytest.raises(OrderOutcomeUnknownError):  # a 5xx without Kiwoom's verdict
        client.order.buy(**ORDER)
    with pytest.raises(RateLimitError):
        client.order.buy(**ORDER)
    assert len(fake.calls("kt10000")) == 2


def test_order_lost_at_a_gateway_is_outcome_unknown(fake):
    fake.routes["kt10000"] = httpx.Response(504, text="<html>gateway timeout</html>")
    client, _ = make(fake)
    with pytest.raises(OrderOutcomeUnknownError) as info:
        client.order.buy(**ORDER)
    assert len(fake.calls("kt10000")) == 1
    assert info.value.request.stk_cd == "005930"


def test_quoted_return_code_is_read_as_a_number(fake):
    fake.routes["ka10081"] = [
        httpx.Response(200, json={"return_code": "0", "return_msg": "ok"}),
        httpx.Response(200, json={"return_code": "2", "return_msg": "[1902:종목 정보가 없습니다]"}),
    ]
    client, _ = make(fake)
    assert client.chart.daily(**DAILY).return_code == 0
    with pytest.raises(NotFoundError) as info:
        client.chart.daily(**DAILY)
    assert info.value.return_code == 2


class SpyLimiter(RateLimiter):
    def __init__(self) -> None:
        super().__init__()
        self.acquired: list[tuple[str, str, bool]] = []
        self.rejected: list[tuple[str, str]] = []

    def begin(self, api_id, *, group, is_order, hold=None):
        self.acquired.append((api_id, group, is_order))
        return Permit(0.0)

    def on_rejected(self, api_id, message, *, group, is_order):
        self.rejected.append((api_id, message))
        return 1.25


def test_rate_limit_rejection_teaches_the_limiter_and_is_retried(fake):
    msg = "허용된 요청 개수를 초과하였습니다[1700:허용된 요청 개수를 초과하였습니다. 유량=1, API ID=ka10081]"  # noqa: E501
    fake.routes["ka10081"] = [rejected(5, msg, status=429), ok()]
    spy = SpyLimiter()
    client, waits = make(fake, limiter=spy)
    client.chart.daily(**DAILY)
    assert spy.rejected == [("ka10081", msg)]
    assert waits == [1.25]
    assert spy.acquired == [("ka10081", "domestic.chart", False)] * 2
    assert len(fake.calls("ka10081")) == 2


def test_rate_limit_error_after_retries_carries_the_allowance(fake):
    msg = "[1700:허용된 요청 개수를 초과하였습니다. 유량=1, API ID=ka10081]"
    fake.routes["ka10081"] = rejected(5, msg)
    client, _ = make(fake, retries=1)
    with pytest.raises(RateLimitError) as info:
        client.chart.daily(**DAILY)
    assert info.value.allowance == 1 and info.value.code == 1700


@pytest.mark.parametrize(
    ("return_code", "message", "status", "cls", "code"),
    [
        (2, "[1511:필수 입력 값에 값이 존재하지 않습니다. 종목코드]", 200, InputError, 1511),
        (2, "[1902:종목 정보가 없습니다]", 200, NotFoundError, 1902),
        (1, "[8001:App Key와 Secret Key 검증에 실패했습니다]", 200, AuthError, 8001),
        (1, "[8104:모의투자에서는 해당 API를 제공하지 않습니다]", 200, UnsupportedError, 8104),
        (5, "[1701:유량 초과]", 200, RateLimitError, 1701),
        (5, "too many requests", 429, RateLimitError, None),
        (9, "알 수 없는 오류", 200, APIError, None),
    ],
)
def test_error_mapping(fake, return_code, message, status, cls, code):
    fake.routes["ka10081"] = rejected(return_code, message, status)
    client, _ = make(fake, retries=0)
    with pytest.raises(cls) as info:
        client.chart.daily(**DAILY)
    err = info.value
    assert type(err) is cls
    assert (err.api_id, err.return_code, err.return_msg, err.code) == (
        "ka10081",
        return_code,
        message,
        code,
    )
    assert err.status_code == status
    assert "ka10081" in str(err) and message in str(err)


def test_no_data_is_an_empty_response(fake):
    fake.routes["ka10081"] = rejected(20, "조회된 데이터가 없습니다")
    client, _ = make(fake)
    resp = client.chart.daily(**DAILY)
    assert resp.return_code == 20 and resp.stk_dt_pole_chart_qry == []


def test_generic_call_and_raw_response(fake):
    fake.routes["ka10081"] = chart_page([("20250908", "70100")], next_key="K2")
    client, _ = make(fake)
    resp = client.call("ka10081", DAILY)
    assert isinstance(resp, kiwoom.Ka10081Response)
    raw = client.call_raw("ka10081", kiwoom.Ka10081Request(**DAILY), next_key="K1")
    assert (raw.api_id, raw.status_code, raw.cont_yn, raw.next_key) == ("ka10081", 200, True, "K2")
    assert raw.headers["next-key"] == "K2" and raw.content.startswith(b"{")
    assert raw.elapsed >= 0
    assert raw.decode() == resp
    assert client.last_response is raw
    assert fake.calls("ka10081")[1].headers["next-key"] == "K1"


def test_generic_call_checks_the_request_before_sending(fake):
    client, _ = make(fake)
    with pytest.raises(kiwoom.InvalidRequestError, match="stk_cd"):
        client.call("ka10081", {"base_dt": "20250908", "upd_stkpc_tp": "1"})
    with pytest.raises(kiwoom.InvalidRequestError, match="WebSocket"):
        client.call("0B", {})
    with pytest.raises(kiwoom.InvalidRequestError, match="not in the Kiwoom catalogue"):
        client.call("zz99999", {})
    assert fake.sent == []


def test_per_call_timeout_reaches_the_transport(fake):
    seen = []

    def route(request):
        seen.append(request.extensions["timeout"])
        return ok()

    fake.routes["ka10081"] = route
    client, _ = make(fake, timeout=7.0)
    client.chart.daily(**DAILY)
    client.chart.daily(**DAILY, timeout=2.5)
    assert seen[0]["read"] == 7.0 and seen[1]["read"] == 2.5


def test_secrets_never_in_repr_or_errors(fake):
    fake.routes["ka10081"] = rejected(1, f"[8002:{APPKEY} {SECRET} tok-1 rejected]")
    client, _ = make(fake)
    with pytest.raises(AuthError) as info:
        client.chart.daily(**DAILY)
    for text in (repr(client), str(client), str(info.value), repr(info.value), repr(client._creds)):
        assert APPKEY not in text and SECRET not in text and "tok-1" not in text


def test_debug_log_masks_every_secret(fake, caplog):
    fake.routes["ka10081"] = chart_page([("20250908", "70100")], next_key="NK")
    client, _ = make(fake, debug=True)
    with caplog.at_level(logging.DEBUG, logger="kiwoom"):
        client.chart.daily(**DAILY)
        client.close()
    text = caplog.text
    assert "ka10081" in text and "NK" in text and "stk_dt_pole_chart_qry" in text
    assert "au10001" in text and "au10002" in text
    assert APPKEY not in text and SECRET not in text and "tok-1" not in text
    assert "***" in text


def test_debug_from_environment(fake, monkeypatch):
    monkeypatch.setenv("KIWOOM_DEBUG", "1")
    assert make(fake)[0].debug is True
    monkeypatch.setenv("KIWOOM_DEBUG", "0")
    assert make(fake)[0].debug is False


def test_keys_from_environment_and_secret_from_file(fake, monkeypatch, tmp_path):
    monkeypatch.setenv("KIWOOM_APPKEY", "ENV-APPKEY")
    monkeypatch.setenv("KIWOOM_SECRETKEY", "ENV-SECRET")
    client = Kiwoom(transport=fake.transport(), limiter=False)
    client.chart.daily(**DAILY)
    assert fake.calls("au10001")[0].body["appkey"] == "ENV-APPKEY"
    assert fake.calls("au10001")[0].body["secretkey"] == "ENV-SECRET"

    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("FILE-SECRET\n")
    client = Kiwoom("APP", str(secret_file), transport=fake.transport(), limiter=False)
    client.chart.daily(**DAILY)
    assert fake.calls("au10001")[1].body["secretkey"] == "FILE-SECRET"


def test_missing_keys_are_reported(monkeypatch):
    monkeypatch.delenv("KIWOOM_APPKEY", raising=False)
    monkeypatch.delenv("KIWOOM_SECRETKEY", raising=False)
    with pytest.raises(kiwoom.KiwoomError, match="KIWOOM_APPKEY"):
        Kiwoom()


def test_default_limiter_is_shared_per_app_key_and_host(fake):
    a = Kiwoom(APPKEY, SECRET, transport=fake.transport())
    b = Kiwoom(APPKEY, SECRET, transport=fake.transport())
    c = Kiwoom(APPKEY, SECRET, host=kiwoom.MOCK, transport=fake.transport())
    assert a.limiter is b.limiter and a.limiter is not c.limiter
    assert c.limiter is not None and c.limiter.limits == kiwoom.ratelimit.MOCK_LIMITS
    assert Kiwoom(APPKEY, SECRET, limiter=False).limiter is None


def test_us_groups_live_under_us(fake):
    client, _ = make(fake)
    resp = client.us.chart.daily(stex_tp="ND", stk_cd="AAPL", strt_dt=dt.date(2025, 9, 8))
    assert isinstance(resp, kiwoom.Usa06012Response)
    sent = fake.calls("usa06012")[0]
    assert sent.path == "/api/us/chart"
    assert sent.body == {"stex_tp": "ND", "stk_cd": "AAPL", "strt_dt": "20250908"}
    assert client.us.chart is client.us.chart
