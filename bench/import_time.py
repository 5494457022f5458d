"""Import time of ``kiwoom`` as a ratio to ``import httpx``, measured in the same run.

Each import runs in a fresh interpreter; the interpreter's own start-up (``python -c pass``)
is subtracted. Goal: ratio <= 1.5.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

ROUNDS = 15


def _once(code: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - t


def main() -> None:
    samples: dict[str, list[float]] = {"pass": [], "import httpx": [], "import kiwoom": []}
    for _ in range(ROUNDS):  # interleaved, so drift in machine load hits all three alike
        for code in samples:
            samples[code].append(_once(code))
    bare = statistics.median(samples["pass"])
    httpx = statistics.median(samples["import httpx"]) - bare
    kiwoom = statistics.median(samples["import kiwoom"]) - bare
    print(f"import time over {ROUNDS} fresh interpreters (start-up {bare * 1e3:.1f} ms subtracted)")
    print(f"  import httpx   {httpx * 1e3:6.1f} ms   1.00x")
    print(f"  import kiwoom  {kiwoom * 1e3:6.1f} ms   {kiwoom / httpx:.2f}x  (goal <= 1.50x)")


if __name__ == "__main__":
    main()
