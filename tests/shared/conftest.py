"""The session's ``redis-server`` (tests/_redis_server.py), emptied for each test of state
shared between processes."""

from __future__ import annotations

import pytest

redis = pytest.importorskip("redis", reason="the redis extra is not installed")


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The server's URL, emptied for this test."""
    client = redis.Redis.from_url(redis_server)
    client.flushdb()
    client.close()
    return redis_server
