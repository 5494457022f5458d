"""One token per app key and host, shared by processes through a file or Redis."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from _fake import APPKEY, SECRET, FakeKiwoom

import kiwoom
from kiwoom._auth import FileTokenStore, Token, TokenStore, shared_token
from kiwoom._constants import TOKEN_REFRESH_MARGIN
from kiwoom.redis import RedisTokenStore

KEY = "0123456789abcdef@https://api.kiwoom.com"
HOUR = 3600.0

StoreFactory = Callable[[], TokenStore]


@pytest.fixture(params=["file", "redis"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """A new store object on the same storage each call, as each process would make."""
    if request.param == "file":
        return lambda: FileTokenStore(tmp_path / "kiwoom" / "tokens.json")
    url = request.getfixturevalue("redis_url")
    return lambda: RedisTokenStore(redis.Redis.from_url(url))


def _issuer(log: Path, value: str, seconds: float = HOUR) -> Callable[[], Token]:
    def issue() -> Token:
        time.sleep(0.2)  # an issuance takes a while: the others must wait, not issue too
        with log.open("a") as f:
            f.write(value + "\n")
        return Token(value, time.time() + seconds)

    return issue


def _process(
    make_store: StoreFactory,
    log: Path,
    rejected: str | None,
    go: multiprocessing.synchronize.Event,
    out: multiprocessing.Queue[str],
) -> None:
    store = make_store()
    go.wait()
    token = shared_token(store, KEY, _issuer(log, f"tok-{os.getpid()}"), rejected)
    out.put(token.value)


def _run_processes(make_store: StoreFactory, log: Path, rejected: str | None, n: int) -> list[str]:
    ctx = multiprocessing.get_context("fork")
    go, out = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=_process, args=(make_store, log, rejected, go, out)) for _ in range(n)
    ]
    for p in procs:
        p.start()
    go.set()
    values = [out.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(10)
        assert p.exitcode == 0
    return values


def test_many_processes_issue_once(make_store: StoreFactory, tmp_path: Path) -> None:
    log = tmp_path / "issued"
    values = _run_processes(make_store, log, None, 6)
    issued = log.read_text().split()
    assert len(issued) == 1
    assert values == issued * 6


def test_a_rejected_token_is_replaced_once(make_store: StoreFactory, tmp_path: Path) -> None:
    log = tmp_path / "issued"
    make_store().save(KEY, Token("tok-refused", time.time() + HOUR))
    # Every process was refused the same token (8005) and asks for another at once.
    values = _run_processes(make_store, log, "tok-refused", 6)
    issued = log.read_text().split()
    assert len(issued) == 1 and issued != ["tok-refused"]
    assert values == issued * 6


def test_a_token_near_its_expiry_is_replaced(make_store: StoreFactory, tmp_path: Path) -> None:
    store, log = make_store(), tmp_path / "issued"
    store.save(KEY, Token("tok-old", time.time() + TOKEN_REFRESH_MARGIN + 60))
    assert shared_token(store, KEY, _issuer(log, "tok-new"), None).value == "tok-old"
    store.save(KEY, Token("tok-old", time.time() + TOKEN_REFRESH_MARGIN - 1))
    assert shared_token(store, KEY, _issuer(log, "tok-new"), None).value == "tok-new"
    assert shared_token(make_store(), KEY, _issuer(log, "tok-3"), None).value == "tok-new"
    assert log.read_text().split() == ["tok-new"]
    stored = make_store().load(KEY)
    assert stored is not None and stored.expires_at == pytest.approx(time.time() + HOUR, abs=5)


def test_the_token_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "tokens.json"
    store = FileTokenStore(path)
    shared_token(store, KEY, lambda: Token("tok-secret", time.time() + HOUR), None)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.with_name("tokens.json.lock").stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert "tok-secret" in path.read_text() and KEY in path.read_text()
    assert "tok-secret" not in repr(store)
    assert sorted(path.parent.iterdir()) == sorted([path, path.with_name("tokens.json.lock")])


def test_a_file_open_to_others_is_made_private_and_not_trusted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "tokens.json"
    store = FileTokenStore(path)
    store.save(KEY, Token("tok-leaked", time.time() + HOUR))
    path.chmod(0o644)
    assert store.load(KEY) is None  # someone else may have read it
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "made private" in caplog.text and "tok-leaked" not in caplog.text
    token = shared_token(store, KEY, lambda: Token("tok-new", time.time() + HOUR), None)
    assert token.value == "tok-new" and "tok-leaked" not in path.read_text()


def test_the_file_lock_excludes_other_holders(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    held, done = ctx.Event(), ctx.Event()

    def other() -> None:
        held.wait()
        lock = FileTokenStore(tmp_path / "tokens.json").lock(KEY)
        lock.acquire()
        done.set()
        lock.release()

    # Forked before the lock is taken: a child inherits open files, and with them a held flock.
    proc = ctx.Process(target=other)
    proc.start()
    first = FileTokenStore(tmp_path / "tokens.json").lock(KEY)
    first.acquire()
    held.set()
    assert not done.wait(0.5)  # held here: the other process waits
    first.release()
    assert done.wait(5)
    proc.join(5)


def test_redis_keys_hold_no_app_key(redis_url: str) -> None:
    with kiwoom.Kiwoom(
        APPKEY, SECRET, token_store=RedisTokenStore(redis_url), transport=FakeKiwoom().transport()
    ) as client:
        client.call("ka10001", {"stk_cd": "005930"})
    names = [k.decode() for k in redis.Redis.from_url(redis_url).scan_iter()]
    assert any(n.endswith(":token") for n in names)
    assert not any(APPKEY in n or SECRET in n or "tok-1" in n for n in names)


def _clients(store: TokenStore, fake: FakeKiwoom, n: int) -> list[kiwoom.Kiwoom]:
    return [
        kiwoom.Kiwoom(APPKEY, SECRET, limiter=False, token_store=store, transport=fake.transport())
        for _ in range(n)
    ]


def test_clients_share_one_token_and_refresh_it_once(make_store: StoreFactory) -> None:
    fake = FakeKiwoom()
    clients = _clients(make_store(), fake, 4)
    for c in clients:
        c.call("ka10001", {"stk_cd": "005930"})
    assert fake.issued == 1
    fake.expired.add("tok-1")
    for c in clients:
        c.call("ka10001", {"stk_cd": "005930"})  # 8005, then one retry with the new token
    assert fake.issued == 2
    # Each client learns from its own 8005 that tok-1 is refused, and finds tok-2 stored.
    sent = [s.headers["authorization"] for s in fake.calls("ka10001")[4:]]
    assert sent == ["Bearer tok-1", "Bearer tok-2"] * 4
    for c in clients:
        c.close()
    assert fake.revoked == []  # the shared token serves other processes still


def test_async_clients_share_the_token(make_store: StoreFactory) -> None:
    fake = FakeKiwoom()
    store = make_store()

    async def main() -> None:
        clients = [
            kiwoom.AsyncKiwoom(
                APPKEY, SECRET, limiter=False, token_store=store, transport=fake.async_transport()
            )
            for _ in range(3)
        ]
        await asyncio.gather(*(c.call("ka10001", {"stk_cd": "005930"}) for c in clients))
        fake.expired.add("tok-1")
        await asyncio.gather(*(c.call("ka10001", {"stk_cd": "005930"}) for c in clients))
        for c in clients:
            await c.aclose()

    asyncio.run(main())
    assert fake.issued == 2 and fake.revoked == []


def test_kiwoom_token_file_gives_every_client_the_file_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KIWOOM_REDIS_URL", raising=False)
    monkeypatch.setenv("KIWOOM_TOKEN_FILE", str(tmp_path / "tokens"))
    fake = FakeKiwoom()
    clients = [
        kiwoom.Kiwoom(APPKEY, SECRET, limiter=False, transport=fake.transport()) for _ in range(3)
    ]
    assert all(isinstance(c.token_store, FileTokenStore) for c in clients)
    for c in clients:
        c.call("ka10001", {"stk_cd": "005930"})
        c.close()
    assert fake.issued == 1 and fake.revoked == []
    assert stat.S_IMODE((tmp_path / "tokens").stat().st_mode) == 0o600
    # A store given, or none wanted: the variable does not override it.
    mine = FileTokenStore(tmp_path / "mine")
    assert kiwoom.Kiwoom(APPKEY, SECRET, token_store=mine).token_store is mine
    monkeypatch.delenv("KIWOOM_TOKEN_FILE")
    assert kiwoom.Kiwoom(APPKEY, SECRET).token_store is None
