"""The relay tests' fixtures: the session redis-server, a simulator, and the relay's processes
(relay_procs.py)."""

from __future__ import annotations

import datetime as dt
import itertools
import tempfile
import uuid
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

redis = pytest.importorskip("redis", reason="the relay needs redis-py (kiwoom[redis])")

from relay_procs import Processes, Requests  # noqa: E402

from kiwoom.sim import Simulator  # noqa: E402
from kiwoom.sim._socket import Session  # noqa: E402

START = dt.datetime(2026, 12, 2, 10, 0)


@pytest.fixture(scope="session")
def redis_url(redis_server: str) -> str:
    """The session's redis-server (tests/_redis_server.py); tests keep to their own keys."""
    return redis_server


@pytest.fixture
def namespace() -> str:
    """Keys of one test only."""
    return f"test:{uuid.uuid4().hex[:8]}"


@pytest.fixture
def sync_redis(redis_url: str) -> Iterator[Any]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def requests(monkeypatch: pytest.MonkeyPatch) -> Requests:
    """Records every REG and REMOVE the simulator's sockets receive, by connection number
    (never ``id()``: a closed connection's address is reused by the next one)."""
    rec = Requests()
    numbers: weakref.WeakKeyDictionary[Session, int] = weakref.WeakKeyDictionary()
    counter = itertools.count(1)
    for trnm, name in (("REG", "_reg"), ("REMOVE", "_remove")):
        original = getattr(Session, name)

        def make(trnm: str, original: Any) -> Any:
            async def recorded(self: Session, msg: dict[str, Any]) -> None:
                if self not in numbers:
                    numbers[self] = next(counter)
                rec.log.append((numbers[self], trnm, msg))
                await original(self, msg)

            return recorded

        monkeypatch.setattr(Session, name, make(trnm, original))
    return rec


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """A running clock, every push a trade (a steady feed), no rate limits."""
    with Simulator(
        seed=7, start=START, speed=60, real_rate=20, real_every_push=True, limits=False
    ) as s:
        yield s


@pytest.fixture
def procs(redis_url: str, namespace: str) -> Iterator[Processes]:
    # A directory of its own: pytest's shared base directory is pruned by other pytest runs.
    with tempfile.TemporaryDirectory(prefix="kiwoom-relay-") as tmp:
        p = Processes(Path(tmp), redis_url, namespace)
        try:
            yield p
        finally:
            p.kill_all()
            # The processes' logs, shown by pytest with a failing test's captured output.
            for log in sorted(Path(tmp).glob("*.log")):
                print(f"----- {log.name}\n{log.read_text(errors='replace')}")
