import datetime as dt

import pytest

from kiwoom._auth import Credentials, Token, expires_at, parse_token
from kiwoom.errors import AuthError


def test_expires_dt_is_korea_time():
    when = dt.datetime(2025, 9, 8, 9, 0, 0, tzinfo=dt.UTC)  # 18:00 in Seoul
    assert expires_at("20250908180000") == when.timestamp()


def test_token_is_due_for_renewal_before_it_expires():
    token = Token("t", expires_at=1000.0)
    assert token.refresh_at < 1000.0
    assert token.authorization == b"Bearer t"
    assert "t" not in repr(token).replace("Token", "").replace("expires_at", "")


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
