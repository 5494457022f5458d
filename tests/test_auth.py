import asyncio
import datetime as dt
import time

import pytest
from _fake import APPKEY, SECRET, FakeKiwoom

from kiwoom import AsyncKiwoom, Kiwoom
from kiwoom._auth import Credentials, Token, expires_at, parse_token
from kiwoom.errors import AuthError

DAILY = {"stk_cd": "005930", "base_dt": "20250908", "upd_stkpc_tp": "1"}


def test_expires_dt_is_korea_time():
    when = dt.datetime(2025, 9, 8, 9, 0, 0, tzinfo=dt.UTC)  # 18:00 in Seoul
    assert expires_at("20250908180000") == when.timestamp()


def test_token_is_due_for_renewal_300_seconds_before_it_expires():
    token = Token("t", expires_at=1000.0)
    assert token.refresh_at == 700.0
    assert token.authorization == b"Bearer t"
    assert "t" not in repr(token).replace("Token", "").replace("expires_at", "")
    # Both sides of the margin, a few seconds off it.
    assert Token("t", expires_at=time.time() + 305).fresh()
    assert not Token("t", expires_at=time.time() + 295).fresh()


def _expires_dt(seconds: float) -> str:
    """``expires_dt`` (Korea time) of a token expiring ``seconds`` from now."""
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=9, seconds=seconds)).strftime(
        "%Y%m%d%H%M%S"
    )


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize(("lifetime", "issued"), [(310, 1), (290, 2)])
def test_clients_reissue_inside_the_margin_only(kind, lifetime, issued):
    fake = FakeKiwoom(expires_dt=_expires_dt(lifetime))
    if kind == "sync":
        client = Kiwoom(APPKEY, SECRET, transport=fake.transport(), limiter=False)
        client.chart.daily(**DAILY)
        client.chart.daily(**DAILY)
    else:

        async def main() -> None:
            client = AsyncKiwoom(APPKEY, SECRET, transport=fake.async_transport(), limiter=False)
            await client.chart.daily(**DAILY)
            await client.chart.daily(**DAILY)

        asyncio.run(main())
    assert fake.issued == issued
    tokens = [s.headers["authorization"] for s in fake.calls("ka10081")]
    assert tokens == ["Bearer tok-1", f"Bearer tok-{issued}"]


def test_token_answer_without_token_is_an_auth_error():
    body = '{"return_code":1,"return_msg":"[8001:App Key 검증 실패]"}'.encode()
    with pytest.raises(AuthError) as info:
        parse_token(body, 200)
    assert info.value.code == 8001


def test_credentials_hide_their_values(tmp_path):
    path = tmp_path / "key"
    path.write_text("  SECRET-FROM-FILE \n")
    creds = Credentials("APPKEY-X", str(path))
    assert creds.secretkey == "SECRET-FROM-FILE"
    assert "APPKEY-X" not in repr(creds) and "SECRET" not in str(creds)
    assert len(creds.fingerprint()) == 16 and "APPKEY" not in creds.fingerprint()
