"""The trader's tests: the fake REST server of tests/_fake.py and the socket server of
tests/realtime/rt_server.py (its folder joins the import path here)."""

from __future__ import annotations

import sys
from pathlib import Path

_REALTIME = str(Path(__file__).resolve().parent.parent / "realtime")
if _REALTIME not in sys.path:
    sys.path.append(_REALTIME)
