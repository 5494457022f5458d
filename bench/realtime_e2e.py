"""Real-time speed end to end, over real loopback WebSockets, every client fed the same way.

A frame server (``_e2e_server.py``, the ``websockets`` server library) runs in a process of its
own and sends every client the same bytes (``_e2e_frames.py``: Kiwoom's official field lists
when the official file is present, blanks, 1-3 items and several types per frame) in the same
64-frame chunks, as fast as the socket lets them go. Each client is a process of its own and
measures its own CPU (``time.process_time``). Three phases per client, each started by a REG:

- cold burst: the first COLD frames of a fresh process (lag p50/p99);
- saturation: SATURATION frames; client CPU per frame, and frames/s (server's first send to
  the client's last tick);
- burst: BURST more frames once warm (lag p50/p99).

Lag: the server's send time of each frame (side channel, ``time.monotonic``: one clock for every
process of the machine) to the time the client handed over the frame's last item.

Clients: ours (``kiwoom.Realtime`` + ``rt.stream``, typed ticks; asyncio and uvloop; the C
accelerator on and off, ``KIWOOM_NO_SPEEDUPS=1``), kiwoom-restful 0.4.0's own socket and receive
path (in ``bench/.venv``: its package is also named ``kiwoom``), and the ceiling: a bare
``websockets`` receive loop (no decode) and that loop plus ``msgspec.json.decode`` into
all-string Structs. Then the receive path's options: per-message deflate (CPU over the socket,
bytes per frame offline with websockets' own extension), websockets' sync client, and a bare
aiohttp loop, and picows (a Cython WebSocket client, in bench/.venv; ``_e2e_picows.py``:
its own callback API bare and with the same decode, and its websockets-compatible API), with
what ours would cost on picows' socket layer (ours - websockets' bare recv + picows' bare recv,
an estimate: we stay on websockets). Goals: ours <= 0.5x the reference's CPU per frame,
ours >= 0.5x the ceiling (ceiling CPU / ours). ``--rounds N`` (default 3) alternates the
clients N times and prints ranges; the machine's load (``os.getloadavg``) is printed with
every round.

    python bench/realtime_e2e.py [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _e2e_frames import frame_server
from _e2e_frames import frames as make_frames

HERE = Path(__file__).resolve().parent
REFERENCE_PYTHON = HERE / ".venv" / "bin" / "python"
OURS, REF, PICOWS = "ours", "ref", "picows"
# name -> (environment, mode, loop, extra arguments)
CLIENTS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "ours, asyncio": (OURS, "ours", "asyncio", ()),
    "ours, uvloop": (OURS, "ours", "uvloop", ()),
    "ours, asyncio, no C": (OURS, "ours", "asyncio", ("noc",)),
    "ours, uvloop, no C": (OURS, "ours", "uvloop", ("noc",)),
    "kiwoom-restful 0.4.0, asyncio": (REF, "reference", "asyncio", ()),
    "kiwoom-restful 0.4.0, uvloop": (REF, "reference", "uvloop", ()),
    "bare recv, asyncio": (OURS, "bare-recv", "asyncio", ()),
    "bare recv, uvloop": (OURS, "bare-recv", "uvloop", ()),
    "bare recv + decode, asyncio": (OURS, "bare-decode", "asyncio", ()),
    "bare recv + decode, uvloop": (OURS, "bare-decode", "uvloop", ()),
    # The receive path's options.
    "ours, asyncio, deflate": (OURS, "ours", "asyncio", ("deflate",)),
    "bare recv, asyncio, deflate": (OURS, "bare-recv", "asyncio", ("deflate",)),
    "bare recv, asyncio, max_queue 1024": (OURS, "bare-recv", "asyncio", ("max_queue=1024",)),
    "ours, asyncio, max_queue 1024": (OURS, "ours", "asyncio", ("max_queue=1024",)),
    "bare recv, websockets sync client": (OURS, "sync-recv", "-", ()),
    "bare recv, aiohttp, asyncio": (REF, "aiohttp-recv", "asyncio", ()),
    "bare recv, aiohttp, uvloop": (REF, "aiohttp-recv", "uvloop", ()),
    # Another socket library, measured, not used: picows (Cython) in bench/.venv.
    "bare recv, picows, asyncio": (PICOWS, "picows-recv", "asyncio", ()),
    "bare recv, picows, uvloop": (PICOWS, "picows-recv", "uvloop", ()),
    "bare recv + decode, picows, asyncio": (PICOWS, "picows-decode", "asyncio", ()),
    "bare recv + decode, picows, uvloop": (PICOWS, "picows-decode", "uvloop", ()),
    "bare recv, picows websockets API, asyncio": (PICOWS, "picows-compat-recv", "asyncio", ()),
}


def run_client(name: str, url: str, tag: str, phases_file: str) -> dict[str, Any] | None:
    env_name, mode, loop, extra = CLIENTS[name]
    if env_name in (REF, PICOWS):
        if not REFERENCE_PYTHON.exists():
            return None
        script = "_e2e_reference.py" if env_name == REF else "_e2e_picows.py"
        argv = [str(REFERENCE_PYTHON), str(HERE / script)]
    else:
        argv = [sys.executable, str(HERE / "_e2e_client.py")]
    env = dict(os.environ)
    if "noc" in extra:
        env["KIWOOM_NO_SPEEDUPS"] = "1"
    result_file = Path(phases_file).with_name(f"{tag}.out.json")
    env["E2E_OUT"] = str(result_file)
    env["E2E_WIRE_FIELDS"] = str(Path(phases_file).with_name("wire_fields.json"))
    out = subprocess.run(
        [*argv, mode, loop, url, tag, phases_file, *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if out.returncode != 0:
        print(f"  {name}: failed\n{out.stderr[-2000:]}", file=sys.stderr)
        return None
    result: dict[str, Any] = json.loads(result_file.read_text())
    return result


def lags(stamps: list[float], sent: list[float], per_frame: list[int]) -> list[float]:
    """Per frame: its send time to the stamp of its last unit (item or frame), in ms."""
    if len(stamps) == len(sent):  # a unit per frame
        return [(s - t) * 1e3 for s, t in zip(stamps, sent, strict=True)]
    out, k = [], 0
    for t, n in zip(sent, per_frame, strict=True):
        k += n
        out.append((stamps[k - 1] - t) * 1e3)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def offline(frames: list[bytes]) -> dict[str, float]:
    """CPU µs per frame of a bare msgspec decode, and deflate's bytes and CPU, off the socket."""
    from _e2e_client import bare_decoder
    from websockets.extensions.permessage_deflate import PerMessageDeflate
    from websockets.frames import Frame, Opcode

    decode = bare_decoder()
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        for f in frames:
            decode(f)
        best = min(best, time.process_time() - start)
    # websockets' defaults both sides: 12-bit windows, context takeover, memLevel 5.
    server = PerMessageDeflate(False, False, 12, 12, {"memLevel": 5})
    client = PerMessageDeflate(False, False, 12, 12)
    packed = [server.encode(Frame(Opcode.TEXT, f)) for f in frames]
    start = time.process_time()
    for p in packed:
        client.decode(p)
    inflate = time.process_time() - start
    n = len(frames)
    return {
        "decode_us": best / n * 1e6,
        "bytes": sum(map(len, frames)) / n,
        "deflated_bytes": sum(len(p.data) for p in packed) / n,
        "inflate_us": inflate / n * 1e6,
    }


def wire_fields() -> dict[str, dict[str, str]]:
    """Per type, the wire Struct's attribute -> FID: the bare decoder's Structs, for bench/.venv."""
    import msgspec
    from _e2e_client import TYPES

    from kiwoom import catalog

    return {
        t: {f.name: f.encode_name for f in msgspec.structs.fields(catalog.get(t).wire_type)}
        for t in TYPES
    }


def mid(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f}x" if values else ""


def span(values: list[float], fmt: str = "{:.1f}") -> str:
    if not values:
        return "-"
    lo, hi = min(values), max(values)
    return (
        fmt.format(lo) if fmt.format(lo) == fmt.format(hi) else f"{fmt.format(lo)}-{fmt.format(hi)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="fewer frames, for a smoke run")
    parser.add_argument("--only", help="client names separated by ; (default: all)")
    args = parser.parse_args()
    cold, saturation, burst = (1000, 3000, 1000) if args.quick else (5000, 20000, 5000)
    source, frames, per_frame = make_frames(cold + saturation + burst)
    bounds = [(0, cold), (cold, cold + saturation), (cold + saturation, len(frames))]
    phases = [[b - a, sum(per_frame[a:b])] for a, b in bounds]
    size = sum(map(len, frames)) / len(frames)
    print(
        f"{len(frames)} REAL frames from {source}: {sum(per_frame)} items, {size:.0f} bytes/frame"
        f" (types 0B/0D/0C/0H, 1-3 items, a third of the items with blanks)"
    )
    print(f"phases: cold burst {cold}, saturation {saturation}, warm burst {burst} frames")
    names = [n.strip() for n in args.only.split(";")] if args.only else list(CLIENTS)

    results: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    loads = []
    with tempfile.TemporaryDirectory() as tmp:
        phases_file = Path(tmp, "phases.json")
        Path(tmp, "wire_fields.json").write_text(json.dumps(wire_fields()))
        with frame_server(tmp, frames, bounds, phases) as url:
            for r in range(args.rounds):
                loads.append(os.getloadavg())
                print(f"round {r + 1}: load average {loads[-1][0]:.2f}", flush=True)
                for name in names:
                    tag = f"r{r}-{names.index(name)}"
                    got = run_client(name, url, tag, str(phases_file))
                    if got is None:
                        continue
                    sent = [json.loads(Path(tmp, f"{tag}-{p}.json").read_text()) for p in range(3)]
                    a, b = bounds[1]
                    results[name].append(
                        {
                            "cpu_us": got["cpu"][1] / (b - a) * 1e6,
                            "fps": (b - a) / (got["stamps"][1][-1] - sent[1][0]),
                            "cold": lags(got["stamps"][0], sent[0], per_frame[slice(*bounds[0])]),
                            "warm": lags(got["stamps"][2], sent[2], per_frame[slice(*bounds[2])]),
                            "lost": got["lost"],
                        }
                    )

    ref = offline(frames)
    print(
        f"\nload average (1 min) over the rounds: {span([x[0] for x in loads], '{:.2f}')};"
        f" 2 cores shared: wall figures (frames/s, lag) are noisy, CPU per frame less so"
    )
    print(f"ranges over {args.rounds} rounds (min-max)")
    header = (
        f"{'client':<36} {'CPU us/frame':>13} {'frames/s':>15} "
        f"{'cold lag p50/p99 ms':>22} {'warm lag p50/p99 ms':>22}"
    )
    print(header)
    cpu: dict[str, list[float]] = {}
    for name, runs in results.items():
        if not runs:
            print(f"{name:<36} (not run)")
            continue
        cpu[name] = [x["cpu_us"] for x in runs]
        lost = sum(x["lost"] for x in runs)
        cold_lag = f"{span([pct(x['cold'], 0.5) for x in runs], '{:.0f}')}/" + span(
            [pct(x["cold"], 0.99) for x in runs], "{:.0f}"
        )
        warm_lag = f"{span([pct(x['warm'], 0.5) for x in runs], '{:.0f}')}/" + span(
            [pct(x["warm"], 0.99) for x in runs], "{:.0f}"
        )
        print(
            f"{name:<36} {span(cpu[name]):>13} {span([x['fps'] for x in runs], '{:,.0f}'):>15} "
            f"{cold_lag:>22} {warm_lag:>22}" + (f"  LOST {lost}" if lost else "")
        )
    print(
        f"bare msgspec decode, same bytes, no socket: {ref['decode_us']:.1f} us/frame CPU"
        f" (best of 3)"
    )
    print(
        f"per-message deflate (websockets' defaults): {ref['bytes']:.0f} -> "
        f"{ref['deflated_bytes']:.0f} bytes/frame ({ref['deflated_bytes'] / ref['bytes']:.0%}),"
        f" inflate alone {ref['inflate_us']:.1f} us/frame CPU"
    )

    def ratio(a: str, b: str) -> list[float]:
        if a not in cpu or b not in cpu:
            return []
        return [x / y for x, y in zip(cpu[a], cpu[b], strict=False)]

    print("\nratios per round (CPU per frame):")
    verdicts = []
    for loop in ("asyncio", "uvloop"):
        r = ratio(f"ours, {loop}", f"kiwoom-restful 0.4.0, {loop}")
        if r:
            print(f"  ours / kiwoom-restful, {loop}: {span(r, '{:.2f}')}x, {mid(r)} (goal <= 0.5x)")
            verdicts.append(("ours <= 0.5x reference CPU, " + loop, [x <= 0.5 for x in r]))
        c = ratio(f"bare recv + decode, {loop}", f"ours, {loop}")
        if c:
            print(
                f"  ceiling (bare recv + decode) / ours, {loop}: {span(c, '{:.2f}')}x,"
                f" {mid(c)} (goal >= 0.5x)"
            )
            verdicts.append(("ours >= 0.5x the ceiling, " + loop, [x >= 0.5 for x in c]))
        d = ratio(f"ours, {loop}, no C", f"ours, {loop}")
        if d:
            print(
                f"  ours without / with the C accelerator, {loop}: {span(d, '{:.2f}')}x, {mid(d)}"
            )
    for a, b in (
        ("ours, asyncio, deflate", "ours, asyncio"),
        ("bare recv, asyncio, deflate", "bare recv, asyncio"),
        ("bare recv, asyncio, max_queue 1024", "bare recv, asyncio"),
        ("ours, asyncio, max_queue 1024", "ours, asyncio"),
        ("bare recv, websockets sync client", "bare recv, asyncio"),
        ("bare recv, aiohttp, asyncio", "bare recv, asyncio"),
        ("bare recv, aiohttp, uvloop", "bare recv, uvloop"),
        ("bare recv, picows, asyncio", "bare recv, asyncio"),
        ("bare recv, picows, uvloop", "bare recv, uvloop"),
        ("bare recv + decode, picows, asyncio", "bare recv + decode, asyncio"),
        ("bare recv + decode, picows, uvloop", "bare recv + decode, uvloop"),
        ("bare recv, picows websockets API, asyncio", "bare recv, asyncio"),
    ):
        r = ratio(a, b)
        if r:
            print(f"  {a} / {b}: {span(r, '{:.2f}')}x, {mid(r)}")
    # What ours would cost if its socket layer cost what picows' does (not built: the design
    # names websockets): ours - websockets' bare recv + picows' bare recv, per round.
    for loop in ("asyncio", "uvloop"):
        names3 = (f"ours, {loop}", f"bare recv, {loop}", f"bare recv, picows, {loop}")
        ref_name = f"kiwoom-restful 0.4.0, {loop}"
        if all(n in cpu for n in (*names3, ref_name)):
            est = [o - w + p for o, w, p in zip(*(cpu[n] for n in names3), strict=False)]
            r = [e / x for e, x in zip(est, cpu[ref_name], strict=False)]
            print(
                f"  ours with picows' socket cost (estimate), {loop}: {span(est)} us/frame,"
                f" / kiwoom-restful {span(r, '{:.2f}')}x (goal <= 0.5x)"
            )
    for label, oks in verdicts:
        verdict = "met" if all(oks) else "MISSED"
        print(f"goal {label}: {verdict} (met in {sum(oks)} of {len(oks)} rounds)")


if __name__ == "__main__":
    sys.exit(main())
