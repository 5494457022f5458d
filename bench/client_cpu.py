"""Client CPU µs per request against a local server in another process, same run:
our sync and async clients (typed decode included), raw httpx, raw aiohttp and the reference
wrapper kiwoom-restful 0.4.0 (aiohttp, untyped dicts). Two answers: a 600-row daily chart
(~120 KB, ka10081) and a small quote (~0.4 KB, ka10001).

Our clients send through httpx's own transports (httpcore + h11): correctness and
well-kept dependencies come first on a path where money moves, so there is no goal of
matching the reference's CPU. What matters is the share of one rate-limit slot (Kiwoom
allows 5 calls/s: 200 ms a call), printed last. aiohttp and the reference run from
bench/.venv (``make bench-clients`` builds it); without it their rows are skipped.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from _bodies import chart_body, quote_body
from server import start_server

HERE = Path(__file__).parent
BENCH_PYTHON = HERE / ".venv" / "bin" / "python"
OURS = ["kiwoom sync", "kiwoom async", "raw httpx", "raw httpx async"]
THEIRS = ["raw aiohttp", "kiwoom-restful 0.4.0"]
REFERENCE = "kiwoom-restful 0.4.0"
SLOT_US = 200_000.0  # one call's share of the 5 calls/s rate limit


def _run(python: Path | str, name: str, url: str) -> dict[str, float]:
    out = subprocess.run(
        [str(python), str(HERE / "_workers.py"), name, url],
        check=True, capture_output=True, text=True, cwd=HERE,
    )  # fmt: skip
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    url, stop = start_server({"ka10081": chart_body(), "ka10001": quote_body()})
    try:
        results = {name: _run(sys.executable, name, url) for name in OURS}
        if BENCH_PYTHON.exists():
            results |= {name: _run(BENCH_PYTHON, name, url) for name in THEIRS}
    finally:
        stop()
    ref = results.get(REFERENCE)
    print(f"client CPU µs per request (best of 3 runs; server in its own process at {url})")
    print(f"  {'':22} {'chart 600 rows':>16} {'small quote':>16}")
    for name, r in results.items():
        cells = []
        for api_id in ("ka10081", "ka10001"):
            ratio = f" {r[api_id] / ref[api_id]:4.2f}x" if ref else ""
            cells.append(f"{r[api_id]:8.0f}{ratio:>7}")
        print(f"  {name:22} {cells[0]:>16} {cells[1]:>16}")
    if ref is None:
        print("  (raw aiohttp and the reference skipped: `make bench-clients` builds bench/.venv)")
    print("share of one 200 ms rate-limit slot (chart / small quote):")
    for name in OURS[:2]:
        chart, small = (results[name][api_id] / SLOT_US for api_id in ("ka10081", "ka10001"))
        print(f"  {name:22} {chart:7.2%} / {small:.2%}")


if __name__ == "__main__":
    main()
