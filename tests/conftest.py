"""Shared pytest set-up: the cassette matchers (see tests/_cassettes.py)."""

from __future__ import annotations

from typing import Any

# The fixtures `serve` (a scripted raw HTTP server) and `mode`; `redis_server`.
pytest_plugins = ["_raw_server", "_redis_server"]


def pytest_recording_configure(config: Any, vcr: Any) -> None:
    from _cassettes import MATCHERS

    for name, matcher in MATCHERS.items():
        vcr.register_matcher(name, matcher)
