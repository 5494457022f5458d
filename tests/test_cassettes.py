"""Recorded exchanges (``cassettes/rest/``) replayed through both clients.

Three modes, chosen by ``KIWOOM_CASSETTES``:

- unset (CI): replay only (``--record-mode=none``, network blocked); the clients run on
  httpx's own transport, which vcrpy intercepts.
- ``build`` (``make cassettes``): re-record every cassette from our own construction: the
  fake server of ``_fake.py`` answers each API with a body built from the catalogue.
- ``live`` (``make cassettes-live``, needs ``KIWOOM_APPKEY``/``KIWOOM_SECRETKEY`` of a
  mock-trading account): re-record the per-API cassettes against Kiwoom's mock-trading
  server into ``cassettes/rest/live/``, queries the mock server serves only (no
  orders). Replaying them checks that every answer decodes or maps to a typed error.

Secrets are scrubbed before anything is written (``_cassettes.py``) and
``test_no_cassette_holds_a_secret`` greps every cassette for what a key or token looks like.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from _cassettes import CONFIG, HIDDEN, LEAKS
from _fake import FakeKiwoom, chart_page, ok, rejected
from test_every_api_calls import _REST, _STRUCTS, _arguments, _body, _check, _method, _route

import kiwoom
from kiwoom.errors import (
    APIError,
    AuthError,
    InputError,
    NotFoundError,
    RateLimitError,
    UnsupportedError,
    api_error,
)

MODE = os.environ.get("KIWOOM_CASSETTES", "")
CASSETTES = Path(__file__).resolve().parent.parent / "cassettes" / "rest"
GROUPS = sorted({e.group for e in _REST})
DAILY = {"stk_cd": "005930", "base_dt": "20250908", "upd_stkpc_tp": "1"}

if MODE not in ("", "build", "live"):
    raise ValueError(f"KIWOOM_CASSETTES={MODE!r}: expected build or live")


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return CONFIG


def _keys() -> tuple[str, str]:
    if MODE == "live":
        return os.environ["KIWOOM_APPKEY"], os.environ["KIWOOM_SECRETKEY"]
    return "cassette-appkey", "cassette-secretkey"


def _sync(fake: FakeKiwoom | None = None, **kw: Any) -> kiwoom.Kiwoom:
    transport = fake.transport() if MODE == "build" and fake else httpx.HTTPTransport()
    kw.setdefault("limiter", MODE == "live")  # Kiwoom's mock server limits the rate
    client = kiwoom.Kiwoom(*_keys(), host=kiwoom.MOCK, transport=transport, **kw)
    client._sleep = lambda seconds: None
    return client


def _async(fake: FakeKiwoom | None = None, **kw: Any) -> kiwoom.AsyncKiwoom:
    if MODE == "build" and fake:
        transport: httpx.AsyncBaseTransport = fake.async_transport()
    else:
        transport = httpx.AsyncHTTPTransport()
    kw.setdefault("limiter", MODE == "live")
    client = kiwoom.AsyncKiwoom(*_keys(), host=kiwoom.MOCK, transport=transport, **kw)

    async def no_sleep(seconds: float) -> None:
        pass

    client._sleep = no_sleep
    return client


def _group_fake(group: str) -> FakeKiwoom:
    fake = FakeKiwoom()
    for entry in _REST:
        if entry.group == group:
            fake.routes[entry.api_id] = _route
    return fake


replay_only = pytest.mark.skipif(MODE == "live", reason="not re-recorded live")


# --- every REST API, per group, through both clients ---------------------------------------


@replay_only
@pytest.mark.vcr
@pytest.mark.block_network
@pytest.mark.parametrize("group", GROUPS)
def test_every_api_of_the_group(group):
    entries = [e for e in _REST if e.group == group]
    with _sync(_group_fake(group)) as client:
        for entry in entries:
            result = _method(client, entry)(**_arguments(entry))
            assert type(result) is entry.response_type, entry.api_id
            _check(result, _body(_STRUCTS[entry.api_id])[1], f"{entry.api_id}: ")

    async def main() -> None:
        async with _async(_group_fake(group)) as client:
            for entry in entries:
                result = await _method(client, entry)(**_arguments(entry))
                assert type(result) is entry.response_type, entry.api_id

    asyncio.run(main())


# --- paging, token refresh, back-off, errors -------------------------------------------------


def _pages_fake() -> FakeKiwoom:
    pages = {
        None: chart_page([("20250908", "100"), ("20250905", "99")], next_key="K2"),
        "K2": chart_page([("20250904", "98"), ("20250903", "97")], next_key="K3"),
        "K3": chart_page([("20250902", "96")]),
    }
    return FakeKiwoom(routes={"ka10081": lambda request: pages[request.headers.get("next-key")]})


@replay_only
@pytest.mark.vcr
@pytest.mark.block_network
def test_paging_three_pages():
    with _sync(_pages_fake()) as client:
        merged = client.pages(client.chart.daily, **DAILY).collect()
    assert [r.dt.day for r in merged.stk_dt_pole_chart_qry] == [8, 5, 4, 3, 2]

    async def main() -> list[Any]:
        async with _async(_pages_fake()) as client:
            return [p async for p in client.pages(client.chart.daily, **DAILY)]

    assert [len(p.stk_dt_pole_chart_qry) for p in asyncio.run(main())] == [2, 2, 1]


@replay_only
@pytest.mark.vcr
@pytest.mark.block_network
def test_token_refresh_on_expiry(vcr):
    fake = FakeKiwoom(routes={"ka10081": [rejected(3, "[8005:Token이 유효하지 않습니다]"), ok()]})
    with _sync(fake) as client:
        assert client.chart.daily(**DAILY).return_code == 0
    played = [r.headers.get("api-id") for r in vcr.requests]
    assert played == ["au10001", "ka10081", "au10001", "ka10081", "au10002"]
    if MODE == "":
        assert vcr.all_played


class _SpyLimiter(kiwoom.ratelimit.RateLimiter):
    def __init__(self) -> None:
        super().__init__()
        self.rejected: list[str] = []

    def begin(
        self, api_id: str, *, group: str, is_order: bool, hold: float | None = None
    ) -> kiwoom.ratelimit.Permit:
        return kiwoom.ratelimit.Permit(0.0)

    def on_rejected(self, api_id: str, message: str, *, group: str, is_order: bool) -> float:
        self.rejected.append(message)
        return 1.0


@replay_only
@pytest.mark.vcr
@pytest.mark.block_network
def test_rate_limit_back_off(vcr):
    msg = "허용된 요청 개수를 초과하였습니다[1700:허용된 요청 개수를 초과하였습니다. API ID=ka10081 유량=1]"  # noqa: E501
    fake = FakeKiwoom(routes={"ka10081": [rejected(5, msg, 429), rejected(5, msg, 429), ok()]})
    spy = _SpyLimiter()
    with _sync(fake, limiter=spy) as client:
        assert client.chart.daily(**DAILY).return_code == 0
    assert spy.rejected == [msg, msg]


_ERRORS = [
    ("ka10001", {"stk_cd": "0000000"}, rejected(2, "[1902:종목 정보가 없습니다]"), NotFoundError),
    (
        "ka10001",
        {"stk_cd": "A!"},
        rejected(2, "[1517:입력 값 형식이 올바르지 않습니다]"),
        InputError,
    ),
    ("ka10081", DAILY, rejected(5, "[1701:허용된 요청 개수를 초과하였습니다]"), RateLimitError),
    ("ka10081", {**DAILY, "stk_cd": "1"}, rejected(1, "[8001:App Key 검증 실패]"), AuthError),
]


@replay_only
@pytest.mark.vcr
@pytest.mark.block_network
def test_error_mapping():
    fake = FakeKiwoom()
    for api_id, _args, response, _cls in _ERRORS:
        fake.routes.setdefault(api_id, []).append(response)  # type: ignore[union-attr]
    with _sync(fake, retries=0) as client:
        for api_id, args, _response, cls in _ERRORS:
            with pytest.raises(cls) as info:
                client.call(api_id, args)
            assert info.value.api_id == api_id


# --- live re-recording against the mock-trading server ---------------------------------------

_LIVE_DIR = CASSETTES / "live"
_LIVE = (
    [e for e in _REST if e.mock and not e.is_order] if MODE == "live" or _LIVE_DIR.exists() else []
)


_NO_LIVE = pytest.param(
    None,
    id="none",
    marks=pytest.mark.skip(
        reason="no live cassettes: `make cassettes-live` records them with mock-trading keys"
    ),
)


@pytest.mark.vcr
@pytest.mark.block_network
@pytest.mark.parametrize("entry", _LIVE or [_NO_LIVE], ids=lambda e: e.api_id)
def test_live(entry, vcr):
    if MODE != "live" and not (_LIVE_DIR / f"test_live[{entry.api_id}].yaml").exists():
        pytest.skip("not recorded")
    with _sync(limiter=True) as client:
        try:
            result = _method(client, entry)(**_arguments(entry))
        except APIError as exc:  # the server's answer to sample inputs: checked below
            result = exc
    assert_outcome(entry, result, *final_answer(vcr, entry.api_id))


def final_answer(cassette: Any, api_id: str) -> tuple[int, bytes]:
    """(status, body) of the last answer to ``api_id`` in a cassette (played or recorded)."""
    answers = [
        (response["status"]["code"], response["body"]["string"])
        for request, response in cassette.data
        if request.headers.get("api-id") == api_id
    ]
    assert answers, f"no {api_id} exchange in the cassette"
    status, body = answers[-1]
    return status, body.encode() if isinstance(body, str) else body


_MESSAGE_CODE = re.compile(r"\[(\d+):")


def assert_outcome(entry: Any, result: object, status: int, body: bytes) -> None:
    """``result`` is exactly what the answer means: the typed response of a success or of
    "no data" (return_code 0 or 20), equal to the decoded answer; else the error class the
    answer's message code maps to, carrying its return code, message code and status."""
    answer = json.loads(body)
    rc = int(answer["return_code"])
    if status == 200 and rc in (0, 20):
        assert type(result) is entry.response_type, result
        assert result == entry.decode(body)
        assert result.return_code == rc
        return
    message = answer.get("return_msg", "")
    found = _MESSAGE_CODE.search(message)
    expected = api_error(entry.api_id, rc, message, status)
    assert type(result) is type(expected), (result, expected)
    assert isinstance(result, APIError)
    assert (result.api_id, result.return_code, result.status_code) == (entry.api_id, rc, status)
    assert result.code == (int(found.group(1)) if found else None)


@pytest.mark.parametrize(
    ("answer", "status", "outcome"),
    [
        ({"return_code": 0, "return_msg": "ok"}, 200, "typed"),
        ({"return_code": 20, "return_msg": "조회된 데이터가 없습니다"}, 200, "typed"),
        ({"return_code": 2, "return_msg": "[1902:종목 정보가 없습니다]"}, 200, NotFoundError),
        ({"return_code": 1, "return_msg": "[8104:모의투자 미제공]"}, 200, UnsupportedError),
        ({"return_code": "5", "return_msg": "[1700:유량=1, API ID=ka10081]"}, 429, RateLimitError),
    ],
)
def test_live_outcome_check_accepts_only_what_the_answer_means(answer, status, outcome):
    entry = kiwoom.catalog.get("ka10081")
    body = json.dumps(answer, ensure_ascii=False).encode()
    fake = FakeKiwoom(routes={"ka10081": httpx.Response(status, content=body)})
    client = kiwoom.Kiwoom("k", "s", transport=fake.transport(), limiter=False, retries=0)
    try:
        result: object = client.chart.daily(**DAILY)
    except APIError as exc:
        result = exc
    assert (type(result) is entry.response_type) == (outcome == "typed")
    assert_outcome(entry, result, status, body)
    # any other outcome is refused: a different error, or a success where an error was due
    wrong = [InputError("ka10081", 2, "[1511:필수 입력 값]"), entry.decode(b"{}")]
    for other in wrong:
        if type(other) is not type(result):
            with pytest.raises(AssertionError):
                assert_outcome(entry, other, status, body)


@pytest.fixture
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    if request.node.name.startswith("test_live"):
        return str(_LIVE_DIR)
    return str(CASSETTES)


# --- hygiene ---------------------------------------------------------------------------------


def test_every_rest_api_has_a_cassette():
    text = "\n".join(p.read_text(encoding="utf-8") for p in CASSETTES.glob("*.yaml"))
    missing = [e.api_id for e in _REST if f"api-id:\n      - {e.api_id}\n" not in text]
    assert missing == []


def _secret_values(body: Any) -> list[str]:
    try:
        data = json.loads(body or "null")
    except ValueError:
        return []
    if not isinstance(data, dict):
        return []
    return [str(data[k]) for k in HIDDEN if k in data and data[k] != HIDDEN[k]]


def test_no_cassette_holds_a_secret():
    files = sorted(CASSETTES.rglob("*.yaml"))
    assert len(files) >= len(GROUPS)
    for path in files:
        text = path.read_text(encoding="utf-8")
        for pattern in LEAKS:
            found = pattern.search(text)
            assert found is None, f"{path.name}: {found.group(0)[:12]}..."
        for exchange in yaml.safe_load(text)["interactions"]:
            request, response = exchange["request"], exchange["response"]
            assert _secret_values(request["body"]) == [], path.name
            assert _secret_values(response["body"]["string"]) == [], path.name
            for value in request["headers"].get("authorization", []):
                assert value == "Bearer <token>", path.name


def test_the_leak_patterns_catch_leaks():
    for leak in ['"token":"abc"', '\\"appkey\\": \\"PSabc', "Bearer eyJ0", "A" * 40]:
        assert any(p.search(leak) for p in LEAKS), leak
    for clean in ['"token":"<token>"', "Bearer <token>", '\\"secretkey\\":\\"<secretkey>']:
        assert not any(p.search(clean) for p in LEAKS), clean
