"""The end-to-end benchmark's frames: REAL frames with Kiwoom's own field lists.

Field lists (which FIDs a type's ``values`` carries, in which order) come from Kiwoom's official
catalogue when its cached copy is present (``/work/shared/tools/official-catalogue.sh`` prints
the path; read here, never copied into the repo), from our catalogue (``spec/``) otherwise.
Value shapes follow our catalogue's field kinds (signed prices, HHMMSS times, digits...; see
``_realtime_frames._values``). Frames mix types (0B trades, 0D order books, 0C best quotes, 0H
expected trades) and carry 1-3 items each; about a third of the items leave 10-40% of their
fields blank (``""``), as Kiwoom's feeds do for NXT-only or unused fields. Deterministic.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml
from _realtime_frames import CODES, SPEC, _values

from kiwoom import catalog

TYPES = {"0B": 0.55, "0D": 0.30, "0C": 0.10, "0H": 0.05}
OFFICIAL_TOOL = Path("/work/shared/tools/official-catalogue.sh")


def _official_path() -> Path | None:
    env = os.environ.get("KIWOOM_OFFICIAL_CATALOGUE")
    if env:
        return Path(env)
    if not OFFICIAL_TOOL.exists():
        return None
    try:
        out = subprocess.run(
            ["bash", str(OFFICIAL_TOOL)], capture_output=True, text=True, timeout=60, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    path = Path(out.stdout.strip().splitlines()[-1]) if out.stdout.strip() else None
    return path if path is not None and path.exists() else None


def field_lists() -> tuple[str, dict[str, list[dict[str, Any]]]]:
    """(source, type -> fields in wire order): the official lists with our catalogue's shapes."""
    ours = {
        t["id"]: t["fields"]
        for t in yaml.safe_load(SPEC.read_text(encoding="utf-8"))["types"]
        if t["id"] in TYPES
    }
    path = _official_path()
    if path is None:
        return "our catalogue (official file absent)", ours
    apis = json.loads(path.read_text(encoding="utf-8"))["apis"]
    out = {}
    for title, api in apis.items():
        match = re.search(r"\((\w\w)\)$", title)
        if not match or match.group(1) not in TYPES:
            continue
        shapes = {f["name"]: f for f in ours[match.group(1)]}
        fids = [f["element"] for f in api["response"]["body"] if f["depth"] == 2]
        # A FID our catalogue lacks is sent as digits (text holding a number).
        out[match.group(1)] = [
            shapes.get(fid, {"name": fid, "type": "string", "sign": "none"}) for fid in fids
        ]
    return "Kiwoom's official field lists", out


def frames(n: int, seed: int = 14) -> tuple[str, list[bytes], list[int]]:
    """(source, frames as UTF-8 bytes, items per frame)."""
    source, fields = field_lists()
    rnd = random.Random(seed)
    names = {t: catalog.get(t).name for t in TYPES}
    closes = {code: rnd.randint(100, 3000) * 100 for code in CODES}
    prices = dict(closes)
    kinds, weights = list(TYPES), list(TYPES.values())
    out, counts = [], []
    for i in range(n):
        data = []
        for code in rnd.sample(CODES, rnd.randint(1, 3)):
            type_id = rnd.choices(kinds, weights)[0]
            prices[code] += rnd.randint(-3, 3) * 100
            blank: frozenset[str] = frozenset()
            if rnd.random() < 0.33:
                names_ = [f["name"] for f in fields[type_id]]
                blank = frozenset(rnd.sample(names_, int(len(names_) * rnd.uniform(0.1, 0.4))))
            values = _values(
                fields[type_id],
                rnd,
                prices[code],
                closes[code],
                i // 50 % 23400,
                False,
                blank,
            )
            data.append({"type": type_id, "name": names[type_id], "item": code, "values": values})
        text = json.dumps({"trnm": "REAL", "data": data}, ensure_ascii=False, separators=(",", ":"))
        out.append(text.encode())
        counts.append(len(data))
    return source, out, counts


@contextlib.contextmanager
def frame_server(
    tmp: str, frames: list[bytes], bounds: Sequence[Sequence[float]], phases: list[list[int]]
) -> Iterator[str]:
    """``_e2e_server.py`` in its own process, sending ``frames`` in the phases ``bounds`` mark
    (``[first, last]`` or ``[first, last, rate]``); yields its URL. Clients read the phases
    from ``tmp/phases.json`` and the server writes its send times to ``tmp``."""
    Path(tmp, "frames.json").write_text(
        json.dumps([f.decode() for f in frames], ensure_ascii=False)
    )
    Path(tmp, "slices.json").write_text(json.dumps(bounds))
    Path(tmp, "phases.json").write_text(json.dumps(phases))
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("_e2e_server.py")),
         str(Path(tmp, "frames.json")), str(Path(tmp, "slices.json")), tmp],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        yield server.stdout.readline().strip()
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=30)
