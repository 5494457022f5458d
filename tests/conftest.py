"""Shared fixtures: the cassette configuration of pytest-recording (see cassette_support)."""

from __future__ import annotations

from typing import Any

import cassette_support
import pytest


def pytest_recording_configure(config: Any, vcr: Any) -> None:
    cassette_support.configure(vcr)


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return cassette_support.VCR_CONFIG
