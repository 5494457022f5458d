"""Real-time decoding in a cold process: stalls while the decoders learn, first burst vs steady.

Each run is a fresh process that subscribes to every real-time type and feeds
``Realtime.process`` (the receive loop's whole per-frame path, no socket) frames whose values
take the shapes Kiwoom sends: built from the catalogue's field lists (``spec/realtime``) and,
where Kiwoom's official file is present (``bash /work/shared/tools/official-catalogue.sh``),
from its published example frames, each value blank (``""``) at random (1 in 8), zero-padded
or signed where the field allows. Every run draws other frames (seeded per run).

It prints per run:

- the largest block of one ``process`` call over the first 10,000 frames, as wall time and
  as the thread's CPU time (the machine is shared: a wall-time spike can be another process),
  the calls over 2 ms, and the tick classes rebuilt (``StrippedFrames.builds``);
- lag p50 of the first 5,000-frame burst of the cold process (all frames arrived at once, lag
  = when a frame's ticks are queued), of a later burst of new frames (steady state), and
  their ratio (goal: at most 1.5).

``python bench/realtime_cold.py [runs] [--padded]`` (default 3 runs).
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

# --padded: one integer value in 10 zero-padded ("000000012300"), in any field: each type
# then learns to read its integers as text (a lesson per type, a swap to the plan built at
# subscription), a harsher start than the published shapes.
PADDED = "--padded" in sys.argv
BURST = 5_000
COLD = 10_000
SPEC = Path(__file__).resolve().parent.parent / "spec" / "realtime"


def _official_examples() -> dict[str, dict[str, str]]:
    """type id -> the values of Kiwoom's published example frame (none if the file is absent)."""
    try:
        out = subprocess.run(
            ["bash", "/work/shared/tools/official-catalogue.sh"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        apis = json.loads(Path(out.stdout.strip()).read_text(encoding="utf-8"))["apis"]
    except (OSError, subprocess.SubprocessError, ValueError, KeyError):
        return {}
    examples: dict[str, dict[str, str]] = {}
    for api in apis.values():
        text = api.get("response_example") or ""
        start = text.find("'trnm': 'REAL'")
        if start < 0:
            continue
        try:
            frame = ast.literal_eval(text[text.rfind("{", 0, start) :].strip())
        except (ValueError, SyntaxError):
            continue
        for item in frame.get("data") or []:
            values = item.get("values")
            if isinstance(values, dict) and all(isinstance(v, str) for v in values.values()):
                examples.setdefault(item["type"], values)
    return examples


def _catalogue() -> dict[str, list[dict[str, Any]]]:
    fields: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(SPEC.glob("*.yaml")):
        for t in yaml.safe_load(path.read_text(encoding="utf-8"))["types"]:
            fields.setdefault(t["id"], t["fields"])
    return fields


def _value(f: dict[str, Any], rnd: random.Random) -> str:
    typ, sign = f["type"], f.get("sign", "none")
    if rnd.random() < 1 / 8:
        return ""
    if typ == "time":
        return f"{rnd.randint(9, 15):02d}{rnd.randint(0, 59):02d}{rnd.randint(0, 59):02d}"
    if typ == "date":
        return "20251125"
    if typ == "code":
        return rnd.choice(sorted(f["codes"]))
    if typ == "string":
        return rnd.choice(["", str(rnd.randint(0, 9)), "005930", "KRX"]) if sign == "none" else "7"
    if typ == "integer":
        n = rnd.randint(0, 3_000_000)
        if sign != "none" and rnd.random() < 0.6:
            return rnd.choice("+-") + str(n)
        return f"{n:012d}" if PADDED and rnd.random() < 0.1 else str(n)
    x = f"{rnd.uniform(0, 300):.2f}"  # decimal
    return rnd.choice("+-") + x if sign != "none" and rnd.random() < 0.6 else x


def _example_value(sent: str, rnd: random.Random) -> str:
    if rnd.random() < 1 / 8:
        return ""
    return sent


def make_frames(n: int, seed: int) -> list[bytes]:
    rnd = random.Random(seed)
    catalogue = _catalogue()
    examples = _official_examples()
    types = sorted(catalogue)
    out = []
    for _ in range(n):
        data = []
        for type_id in rnd.sample(types, rnd.randint(1, 3)):
            example = examples.get(type_id)
            if example is not None and rnd.random() < 0.5:
                values = {fid: _example_value(v, rnd) for fid, v in example.items()}
            else:
                values = {f["name"]: _value(f, rnd) for f in catalogue[type_id]}
            data.append({"type": type_id, "name": "", "item": "005930", "values": values})
        text = json.dumps({"trnm": "REAL", "data": data}, ensure_ascii=False, separators=(",", ":"))
        out.append(text.encode())
    return out


def _burst(process: Any, frames: list[bytes]) -> tuple[float, float, list[float], list[float]]:
    """Feed a burst: every frame arrived at the start, each waits for those before it.

    Returns lag p50 (ms) in wall time and in the thread's CPU time (the lag on an idle
    machine), and each call's wall and CPU seconds."""
    lags, cpu_lags, walls, cpus = [], [], [], []
    start, cpu_start = time.perf_counter(), time.thread_time()
    for raw in frames:
        t, c = time.perf_counter(), time.thread_time()
        process(raw)
        c_end = time.thread_time()
        end = time.perf_counter()
        cpus.append(c_end - c)
        walls.append(end - t)
        lags.append(end - start)
        cpu_lags.append(c_end - cpu_start)
    return statistics.median(lags) * 1e3, statistics.median(cpu_lags) * 1e3, walls, cpus


async def _child(seed: int) -> dict[str, Any]:
    frames = make_frames(COLD, seed)
    steady = make_frames(BURST, seed + 1000)
    from kiwoom import catalog
    from kiwoom._realtime import Realtime

    rt = Realtime("bench-token", reconnect=False)
    types = [e.api_id for e in catalog.entries("realtime")]
    t = time.perf_counter()
    stream = rt.stream(types, maxsize=COLD * 4)
    rt.process(b'{"trnm":"PING"}')  # builds the decoders, if subscribing did not
    first_build = (time.perf_counter() - t) * 1e3
    stripped = rt._dispatcher.stripped
    builds_before = sum(getattr(stripped, "builds", {}).values()) if stripped is not None else 0
    cold_lag, cold_cpu_lag, walls, cpus = _burst(rt.process, frames[:BURST])
    _, _, more_walls, more_cpus = _burst(rt.process, frames[BURST:])
    walls += more_walls
    cpus += more_cpus
    steady_lag, steady_cpu_lag, _, _ = _burst(rt.process, steady)
    stripped = rt._dispatcher.stripped
    builds = sum(getattr(stripped, "builds", {}).values()) if stripped is not None else 0
    stats = rt.stats()
    await stream.aclose()
    await rt.close()
    return {
        "first_build_ms": first_build,
        "rebuilt": builds - builds_before,
        "max_wall_ms": max(walls) * 1e3,
        "max_cpu_ms": max(cpus) * 1e3,
        "over_2ms": sum(w > 0.002 for w in walls),
        "cpu_over_2ms": sum(c > 0.002 for c in cpus),
        "cold_lag": cold_lag,
        "steady_lag": steady_lag,
        "cold_cpu_lag": cold_cpu_lag,
        "steady_cpu_lag": steady_cpu_lag,
        "received": sum(c.received for c in stats.types.values()),
        "decode_errors": sum(c.decode_errors for c in stats.types.values()),
    }


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--padded"]
    if len(args) > 1 and args[0] == "--child":
        print(json.dumps(asyncio.run(_child(int(args[1])))))
        return
    runs = int(args[0]) if args else 3
    examples = _official_examples()
    print(f"frames: catalogue field lists{' + official examples' if examples else ''}, ", end="")
    print(f"1-3 items of any of {len(_catalogue())} types, 1 in 8 values blank", end="")
    print(", 1 in 10 integers zero-padded" if PADDED else "")
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores shared)")
    results = []
    for run in range(runs):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(run), *(["--padded"] if PADDED else [])],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(r)
        print(
            f"run {run + 1}: subscribe+first build {r['first_build_ms']:.1f} ms; frames "
            f"1-{COLD}: largest process() {r['max_wall_ms']:.2f} ms wall, "
            f"{r['max_cpu_ms']:.2f} ms CPU; over 2 ms: {r['over_2ms']} wall, "
            f"{r['cpu_over_2ms']} CPU; decode errors {r['decode_errors']}; tick classes rebuilt "
            f"{r['rebuilt']}; lag p50 first burst / steady: wall {r['cold_lag']:.1f} / "
            f"{r['steady_lag']:.1f} ms = {r['cold_lag'] / r['steady_lag']:.2f}x, CPU "
            f"{r['cold_cpu_lag']:.1f} / {r['steady_cpu_lag']:.1f} ms = "
            f"{r['cold_cpu_lag'] / r['steady_cpu_lag']:.2f}x"
        )
    walls = [r["cold_lag"] / r["steady_lag"] for r in results]
    cpus = [r["cold_cpu_lag"] / r["steady_cpu_lag"] for r in results]
    blocks = [r["max_cpu_ms"] for r in results]
    print(
        f"first/steady lag p50 (goal <= 1.5): CPU {min(cpus):.2f}-{max(cpus):.2f}x, wall "
        f"{min(walls):.2f}-{max(walls):.2f}x; largest block from decoding, CPU (goal < 2 ms): "
        f"{min(blocks):.2f}-{max(blocks):.2f} ms"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
