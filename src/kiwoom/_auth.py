"""Keys and the access token: where they come from, when the token is (re-)issued, and
where processes sharing an app key share it (:class:`TokenStore`)."""

from __future__ import annotations

import datetime as _dt
import fcntl
import functools
import hashlib
import os
import stat
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol, TypeVar, runtime_checkable

import msgspec

from ._constants import ENV_APPKEY, ENV_SECRETKEY, KST_OFFSET_HOURS, TOKEN_REFRESH_MARGIN
from ._debug import logger
from .errors import AuthError, KiwoomError

__all__ = ["Credentials", "FileTokenStore", "Token", "TokenStore"]

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


class StoreLock(Protocol):
    """A lock across processes, held by one issuer of a token at a time."""

    def acquire(self) -> None:
        """Block until held."""
        ...

    def release(self) -> None: ...


class TokenStore(Protocol):
    """Where the processes of one app key and host keep their one token.

    ``key`` names the app key and host without revealing the key (a hash and the host).
    :class:`FileTokenStore` serves one machine; ``kiwoom.redis.RedisTokenStore`` any number.
    """

    def load(self, key: str) -> Token | None:
        """The stored token, or ``None``."""
        ...

    def save(self, key: str, token: Token) -> None:
        """Store ``token`` with its expiry, replacing any other."""
        ...

    def lock(self, key: str) -> StoreLock:
        """The lock an issuer holds from reading the store until it saved the new token."""
        ...


def _usable(token: Token | None, rejected: str | None) -> bool:
    return token is not None and token.fresh() and token.value != rejected


def shared_token(
    store: TokenStore, key: str, issue: Callable[[], Token], rejected: str | None
) -> Token:
    """The stored token if it is fresh and not ``rejected`` (the value the server refused);
    else one issued by ``issue`` under the store's lock, unless a process holding the lock
    before us stored a usable one: one issuance per expiry or rejection, not one per process.
    """
    token = store.load(key)
    if _usable(token, rejected):
        assert token is not None
        return token
    lock = store.lock(key)
    lock.acquire()
    try:
        token = store.load(key)
        if not _usable(token, rejected):
            token = issue()
            store.save(key, token)
        assert token is not None
        return token
    finally:
        lock.release()


class AsyncStoreLock(Protocol):
    """:class:`StoreLock` for asyncio."""

    async def acquire(self) -> None: ...

    async def release(self) -> None: ...


@runtime_checkable
class AsyncTokenStore(Protocol):
    """A :class:`TokenStore` that also reads, writes and locks without blocking the event
    loop (``kiwoom.redis.RedisTokenStore`` on ``redis.asyncio``)."""

    async def load_async(self, key: str) -> Token | None: ...

    async def save_async(self, key: str, token: Token) -> None: ...

    def lock_async(self, key: str) -> AsyncStoreLock: ...


async def shared_token_async(
    store: TokenStore, key: str, issue: Callable[[], Awaitable[Token]], rejected: str | None
) -> Token:
    """:func:`shared_token` for asyncio: through the store's async road if it has one
    (:class:`AsyncTokenStore`), else with its blocking calls in a thread."""
    road = store if isinstance(store, AsyncTokenStore) else _Threaded(store)
    token = await road.load_async(key)
    if _usable(token, rejected):
        assert token is not None
        return token
    lock = road.lock_async(key)
    await lock.acquire()
    try:
        token = await road.load_async(key)
        if not _usable(token, rejected):
            token = await issue()
            await road.save_async(key, token)
        assert token is not None
        return token
    finally:
        await lock.release()


_T = TypeVar("_T")


class _Threaded:
    """A blocking :class:`TokenStore` on the async road: each call in a worker thread."""

    def __init__(self, store: TokenStore) -> None:
        self._store = store

    async def load_async(self, key: str) -> Token | None:
        return await _in_thread(self._store.load, key)

    async def save_async(self, key: str, token: Token) -> None:
        await _in_thread(self._store.save, key, token)

    def lock_async(self, key: str) -> _ThreadedLock:
        return _ThreadedLock(self._store.lock(key))


class _ThreadedLock:
    def __init__(self, lock: StoreLock) -> None:
        self._lock = lock

    async def acquire(self) -> None:
        await _in_thread(self._lock.acquire)

    async def release(self) -> None:
        await _in_thread(self._lock.release)


async def _in_thread(call: Callable[..., _T], *args: object) -> _T:
    # Here, not at the top: the blocking client never pays asyncio's import (~13 ms).
    import asyncio

    return await asyncio.to_thread(call, *args)


class _TokenRecord(msgspec.Struct):
    value: str
    expires_at: float


@functools.cache
def _records() -> msgspec.json.Decoder[dict[str, _TokenRecord]]:
    # Built when a FileTokenStore first reads: a client without one never needs it.
    return msgspec.json.Decoder(dict[str, _TokenRecord])


class _FileLock:
    """An exclusive ``flock`` on the lock file, one open file per holder (so threads of one
    process exclude each other too)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        fd, _ = _open_private(self._path, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the file releases its lock


def _open_private(path: Path, flags: int) -> tuple[int, bool]:
    """Open ``path`` (created 0600 in a 0700 folder, ``flags`` allowing writes); refuse a
    file of another user. The flag is False for a file others could read, now made private
    and emptied: a token it held may have been read, so it is not used."""
    try:
        if flags & os.O_CREAT:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, flags | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise KiwoomError(f"token store {path}: {exc.strerror}") from None
    info = os.fstat(fd)
    if info.st_uid != os.getuid():
        os.close(fd)
        raise KiwoomError(f"token store {path}: owned by another user; refusing to use it")
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.fchmod(fd, 0o600)
        os.ftruncate(fd, 0)
        logger.warning("token store %s was open to other users: made private, tokens dropped", path)
        return fd, False
    return fd, True


class FileTokenStore:
    """Tokens shared by the processes of one machine through a private file.

    ``kiwoom.Kiwoom(token_store=FileTokenStore("~/.cache/kiwoom/tokens.json"))``: the file
    (mode 0600, one token per app key and host, no key in it) is read and written under an
    exclusive ``flock`` on ``<path>.lock``, and the token issued once for all processes.
    A file other users may read is made private and its tokens discarded.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self._lock_path = self.path.with_name(self.path.name + ".lock")

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.path)!r})"

    def lock(self, key: str) -> StoreLock:
        return _FileLock(self._lock_path)

    def load(self, key: str) -> Token | None:
        record = self._read().get(key)
        return None if record is None else Token(record.value, record.expires_at)

    def save(self, key: str, token: Token) -> None:
        now = time.time()
        records = {k: r for k, r in self._read().items() if r.expires_at > now}
        records[key] = _TokenRecord(token.value, token.expires_at)
        # Written whole to a private temporary file, then renamed over: a reader never sees
        # half a file, with or without the lock.
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        fd, _ = _open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            os.write(fd, msgspec.json.encode(records))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)

    def _read(self) -> dict[str, _TokenRecord]:
        if not self.path.exists():
            return {}
        fd, private = _open_private(self.path, os.O_RDWR)
        try:
            with os.fdopen(fd, "rb", closefd=False) as f:
                content = f.read() if private else b""
        finally:
            os.close(fd)
        try:
            return _records().decode(content) if content else {}
        except msgspec.MsgspecError:
            return {}  # unreadable: the next token issued replaces it
