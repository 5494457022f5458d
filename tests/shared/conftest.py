"""A throw-away ``redis-server`` for the tests of state shared between processes."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

redis = pytest.importorskip("redis", reason="the redis extra is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """The URL of a ``redis-server`` from the PATH on a free loopback port, without
    persistence; stopped after the session."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not on the PATH (CI installs it: .ci/run)")
    port = _free_port()
    args = [binary, "--save", "", "--appendonly", "no", "--port", str(port)]
    args += ["--bind", "127.0.0.1"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    pytest.fail(f"redis-server did not start: {err[-500:]}")
                time.sleep(0.02)
        yield url
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The server's URL, emptied for this test."""
    client = redis.Redis.from_url(redis_server)
    client.flushdb()
    client.close()
    return redis_server
