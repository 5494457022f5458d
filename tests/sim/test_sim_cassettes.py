"""Cassettes recorded from the simulator (``cassettes/rest/sim/``): every REST API, per group,
through the sync client, replayed with the network blocked.

``make cassettes`` (``KIWOOM_CASSETTES=build``) re-records them from a running simulator, so
they stay consistent with it; otherwise they replay. The arguments come from a simulator of
the same seed and clock that is not serving: the market gives the same prices, and each
order's effect on the account is applied to it locally, so order numbers repeat too.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _cassettes import CONFIG
from test_sim_every_api import _MODELLED_ORDERS, _arguments, _method, _order_arguments

import kiwoom
from kiwoom import catalog
from kiwoom.sim import Simulator

RECORD = os.environ.get("KIWOOM_CASSETTES", "") == "build"
CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "rest" / "sim"
START = dt.datetime(2026, 12, 2, 11, 0)
REPLAY_HOST = "http://127.0.0.1:9"
_REST = [e for e in catalog.entries("rest") if e.group != "oauth"]
GROUPS = sorted({e.group for e in _REST})


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    # The simulator's port changes from run to run: match on everything else.
    return {**CONFIG, "match_on": [m for m in CONFIG["match_on"] if m != "port"]}


@pytest.fixture
def vcr_cassette_dir() -> str:
    return str(CASSETTES)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    sim = Simulator(seed=7, start=START, speed=0, limits=False, chart_rows=20)
    if RECORD:
        with sim:
            yield sim
    else:
        yield sim


@pytest.mark.vcr
@pytest.mark.block_network
@pytest.mark.parametrize("group", GROUPS)
def test_every_api_of_the_group_from_the_simulator(sim, group):
    host = sim.url if RECORD else REPLAY_HOST
    keys = {"appkey": "cassette-appkey", "secretkey": "cassette-secretkey"}
    with kiwoom.Kiwoom(host=host, transport=httpx.HTTPTransport(), limiter=False, **keys) as client:
        for entry in (e for e in _REST if e.group == group):
            modelled = entry.api_id in _MODELLED_ORDERS
            args = _order_arguments(sim, entry) if modelled else _arguments(entry)
            result = _method(client, entry)(**args)
            assert type(result) is entry.response_type, entry.api_id
            assert result.return_code in (0, 20), entry.api_id
            if modelled and not RECORD:
                # What the server did to its account when this was recorded, done locally.
                sim.rest._handlers[entry.api_id](entry, _wire(entry, args), "")
            if modelled:
                assert result.ord_no in sim.account.orders


def _wire(entry: catalog.Entry, args: dict[str, Any]) -> dict[str, Any]:
    assert entry.request_type is not None
    return {r.wire: args[r.attr] for r in entry.request_type.__rules__ if r.attr in args}
