"""Cold start: from a fresh interpreter to the first typed result, against raw httpx.

Each side runs in a fresh process against ``bench/server.py`` (its own process) and times,
from its first line: the imports, the client, a token (au10001) and one ka10001 request.

- kiwoom: ``import kiwoom``, ``Kiwoom(key, secret, host=url)``, ``stock_info.basic_info``
  (the token is issued on the first call, the answer decoded into its typed Struct);
- raw httpx: ``import httpx``, ``httpx.Client()``, POST the token request, POST ka10001 with
  the same headers, ``.json()``.

Modules are imported from cached bytecode, as when installed. Runs alternate (so drift in
machine load hits both alike); printed: median wall and CPU time of each and the ratio
kiwoom / httpx per run (goal: at most 1.0).

``python bench/cold_start.py [rounds]`` (default 7).

``python bench/cold_start.py --instructions``: instead, the instructions each side executes
(one run each under valgrind's callgrind, less the interpreter's start-up), a count that
does not move with the machine's load: the figure to trust on a shared machine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

from _bodies import quote_body
from server import start_server

ROUNDS = 7

_CLOCK = "import time; t0, c0 = time.perf_counter(), time.process_time()\n"
_REPORT = (
    "import json as _j\n"
    "print(_j.dumps([time.perf_counter() - t0, time.process_time() - c0, {check}]))\n"
)

KIWOOM = (
    _CLOCK
    + """import kiwoom
client = kiwoom.Kiwoom("bench-appkey", "bench-secretkey", host=URL)
info = client.stock_info.basic_info(stk_cd="005930")
"""
    + _REPORT.format(check="info.stk_nm")
)

HTTPX = (
    _CLOCK
    + """import httpx
client = httpx.Client()
token = client.post(
    URL + "/oauth2/token",
    json={"grant_type": "client_credentials", "appkey": "bench-appkey",
          "secretkey": "bench-secretkey"},
    headers={"content-type": "application/json;charset=UTF-8"},
).json()["token"]
info = client.post(
    URL + "/api/dostk/stkinfo",
    json={"stk_cd": "005930"},
    headers={"api-id": "ka10001", "authorization": "Bearer " + token,
             "content-type": "application/json;charset=UTF-8"},
).json()
"""
    + _REPORT.format(check='info["stk_nm"]')
)


# Compiled modules cached as an installed package has them (not in the tree): without a
# cache (PYTHONDONTWRITEBYTECODE) every import compiles its source, and that is what gets timed.
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
_ENV["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "kiwoom-bench-pycache")


def _once(code: str, url: str) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", f"URL = {url!r}\n" + code],
        check=True,
        capture_output=True,
        text=True,
        env=_ENV,
    )
    wall, cpu, name = json.loads(out.stdout.strip().splitlines()[-1])
    assert name == "삼성전자", name
    return wall, cpu


def _instructions(code: str, url: str) -> int:
    """Instructions one run of ``code`` executes, counted by callgrind."""
    callgrind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    out = subprocess.run(
        [*callgrind, sys.executable, "-c", f"URL = {url!r}\n" + code],
        check=True,
        capture_output=True,
        text=True,
        env=_ENV,
    )
    return int(re.findall(r"Collected : (\d+)", out.stderr)[-1])


def instructions() -> None:
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind")
    url, stop = start_server({"ka10001": quote_body()})
    try:
        _once(KIWOOM, url), _once(HTTPX, url)  # fills the bytecode cache
        bare = _instructions("pass", url)
        ours, raw = _instructions(KIWOOM, url) - bare, _instructions(HTTPX, url) - bare
    finally:
        stop()
    print(
        f"instructions (start-up's {bare / 1e6:.0f} M subtracted): kiwoom {ours / 1e6:.0f} M, "
        f"raw httpx {raw / 1e6:.0f} M; ratio {ours / raw:.3f}x (goal <= 1.0)"
    )


def main() -> None:
    if sys.argv[1:] == ["--instructions"]:
        return instructions()
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS
    url, stop = start_server({"ka10001": quote_body()})
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores shared)")
    ours: list[tuple[float, float]] = []
    raw: list[tuple[float, float]] = []
    try:
        _once(KIWOOM, url), _once(HTTPX, url)  # fills the bytecode cache
        for _ in range(rounds):
            ours.append(_once(KIWOOM, url))
            raw.append(_once(HTTPX, url))
    finally:
        stop()
    for label, i in (("wall", 0), ("CPU", 1)):
        k = statistics.median(r[i] for r in ours) * 1e3
        h = statistics.median(r[i] for r in raw) * 1e3
        ratios = sorted(a[i] / b[i] for a, b in zip(ours, raw, strict=True))
        print(
            f"{label:>4}: kiwoom {k:6.1f} ms, raw httpx {h:6.1f} ms (medians of {rounds}); "
            f"ratio median {statistics.median(ratios):.2f}x, range {ratios[0]:.2f}-"
            f"{ratios[-1]:.2f}x (goal <= 1.0)"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
