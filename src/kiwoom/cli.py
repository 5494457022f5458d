"""The ``kiwoom`` command (needs the ``cli`` extra: typer and rich).

kiwoom demo                     a bot trading against an in-process simulator
kiwoom sim                      serve the simulator
kiwoom call ID|METHOD k=v ...   call any REST API, typed table or --json
kiwoom candles CODE             candles over a date range to CSV or Parquet
kiwoom stream TYPE CODES...     real-time ticks, live table or NDJSON
kiwoom order buy|sell|modify|cancel ...   orders: a dry run unless --confirm
kiwoom catalog [SEARCH]         the catalogue: ids, names, fields
kiwoom decode ID [FILE]         decode a response body into typed values
kiwoom relay ...                one socket shared through Redis (kiwoom.relay, extra redis)

Global options: ``--host sim|mock|real|URL``, ``--profile NAME`` (see ``kiwoom._cli._settings``).
"""

from __future__ import annotations

import importlib.util
import sys

HINT = "kiwoom: the command needs its extra: pip install 'kiwoom[cli]'"


def main(argv: list[str] | None = None) -> int:
    """Run ``kiwoom`` with ``argv`` (default: the process's arguments); the exit status."""
    for name in ("typer", "rich"):
        try:
            missing = importlib.util.find_spec(name) is None
        except ValueError:
            missing = True  # a module set to None in sys.modules
        if missing:
            print(HINT, file=sys.stderr)
            return 2
    from ._cli._app import run

    return run(argv)


if __name__ == "__main__":
    raise SystemExit(main())
