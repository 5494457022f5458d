"""One simulator per test session for the SDK-driven tests, and its rejection counter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from kiwoom.sim import Simulator

START = dt.datetime(2026, 12, 2, 11, 0)


@pytest.fixture(scope="session")
def sim() -> Iterator[Simulator]:
    """Rate limits on (5/s), the clock stopped: the SDK's own limiter must keep under them."""
    with Simulator(seed=7, start=START, speed=0) as s:
        yield s
    # Nothing the SDK did in the whole session may have been rejected for its rate.
    assert s.stats.rate_limited == 0, s.stats.rejections


@pytest.fixture(scope="session")
def fast_sim() -> Iterator[Simulator]:
    """Rate limits off: for tests that call every API once."""
    with Simulator(seed=7, start=START, speed=0, limits=False) as s:
        yield s
