"""Keys and the access token: where they come from, when the token is (re-)issued."""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import time
from pathlib import Path

import msgspec

from ._constants import ENV_APPKEY, ENV_SECRETKEY, KST_OFFSET_HOURS, TOKEN_REFRESH_MARGIN
from .errors import AuthError, KiwoomError

__all__ = ["Credentials", "Token"]

_KST = _dt.timezone(_dt.timedelta(hours=KST_OFFSET_HOURS))


def _read_secret(value: str) -> str:
    """A secret given as its value, or as the path of a file holding it (as the seed allows)."""
    if len(value) < 1024:
        path = Path(value).expanduser()
        if path.is_file():
            return path.read_text(encoding="utf-8").strip()
    return value


class Credentials:
    """The app key and secret key. Their repr and str never show them."""

    __slots__ = ("appkey", "secretkey")

    def __init__(self, appkey: str | None, secretkey: str | os.PathLike[str] | None) -> None:
        appkey = appkey or os.environ.get(ENV_APPKEY)
        secret = secretkey or os.environ.get(ENV_SECRETKEY)
        if not appkey or not secret:
            raise KiwoomError(
                f"appkey and secretkey are required: pass them, or set {ENV_APPKEY} and "
                f"{ENV_SECRETKEY}"
            )
        self.appkey = _read_secret(appkey)
        self.secretkey = _read_secret(os.fspath(secret))

    def fingerprint(self) -> str:
        """A short hash of the app key: names its shared rate limiter, never reveals it."""
        return hashlib.sha256(self.appkey.encode()).hexdigest()[:16]

    def issue_body(self) -> bytes:
        """The au10001 request body."""
        return msgspec.json.encode(
            {
                "grant_type": "client_credentials",
                "appkey": self.appkey,
                "secretkey": self.secretkey,
            }
        )

    def revoke_body(self, token: str) -> bytes:
        """The au10002 request body."""
        return msgspec.json.encode(
            {"appkey": self.appkey, "secretkey": self.secretkey, "token": token}
        )

    def __repr__(self) -> str:
        return "Credentials(appkey=<hidden>, secretkey=<hidden>)"

    __str__ = __repr__


class Token:
    """An issued access token and when to replace it."""

    __slots__ = ("authorization", "expires_at", "refresh_at", "value")

    def __init__(self, value: str, expires_at: float) -> None:
        self.value = value
        self.authorization = ("Bearer " + value).encode()
        """The ``authorization`` header value, encoded once."""
        self.expires_at = expires_at
        """Unix time of ``expires_dt``."""
        self.refresh_at = expires_at - TOKEN_REFRESH_MARGIN
        """Unix time after which the next call issues a new token first."""

    def fresh(self) -> bool:
        return time.time() < self.refresh_at

    def __repr__(self) -> str:
        return f"Token(<hidden>, expires_at={self.expires_at:.0f})"

    __str__ = __repr__


class _TokenBody(msgspec.Struct):
    return_code: int | str | None = None
    return_msg: str = ""
    token: str = ""
    expires_dt: str = ""


_TOKEN_DECODER = msgspec.json.Decoder(_TokenBody)


def parse_token(content: bytes, status_code: int) -> Token:
    """The token of an au10001 answer, or :class:`AuthError` (never quoting the body's token)."""
    try:
        body = _TOKEN_DECODER.decode(content)
    except msgspec.MsgspecError:
        raise AuthError("au10001", None, "the token answer is not JSON", status_code) from None
    if str(body.return_code) not in ("0", "None") or not body.token:
        rc = body.return_code if isinstance(body.return_code, int) else None
        message = body.return_msg if rc else "the answer carries no token"
        raise AuthError("au10001", rc, message, status_code)
    return Token(body.token, expires_at(body.expires_dt))


def expires_at(expires_dt: str) -> float:
    """Unix time of ``YYYYMMDDHHMMSS`` Korea time; an unreadable value counts as one hour."""
    # Read by hand: the first strptime() of a process costs ~4 ms (it builds locale tables),
    # a share of a cold start's first call.
    text = expires_dt.strip()
    try:
        if len(text) != 14 or not (text.isascii() and text.isdigit()):
            raise ValueError(text)
        year, month, day, hour, minute, second = (
            int(text[i : i + n]) for i, n in ((0, 4), (4, 2), (6, 2), (8, 2), (10, 2), (12, 2))
        )
        when = _dt.datetime(year, month, day, hour, minute, second, tzinfo=_KST)
    except ValueError:
        return time.time() + 3600.0
    return when.timestamp()
