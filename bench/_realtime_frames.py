"""The benchmark's frames: REAL frames as Kiwoom sends them, 70% trades (0B), 30% order books (0D).

Each frame carries 1-3 items (compact JSON, as a server writes it). Values follow the
catalogue (``spec/realtime/domestic.yaml``) and the shape of Kiwoom's published examples:

- a price (``sign: direction``) carries ``+`` or ``-`` by its side of the previous close and
  no sign when equal (``"-20800"``, ``"+21150"``, ``"20850"``);
- a true signed number (``sign: real``) carries ``+`` when positive, ``-`` when negative
  (``"+82"``, ``"-50"``, ``"0"``); quantities and totals carry none (``"30379732"``);
- times are HHMMSS; text holding a number (codes, ``num text``) is digits;
- free text (0D's 투자자별ticker, the only such field of 0B and 0D) is empty, as in the
  published 0D example.

``frames(blanks=True)`` leaves blank the 0B FIDs that Kiwoom's published 0B example leaves
blank (18 of 43: NXT, CFD and per-trade counters); ``zeros=True`` sets to 0 the 0D FIDs its
0D example shows as 0 (46: the per-level changes, LP quantities, expected-trade figures);
``frames(free_text=True)`` fills the free text: the frames the stripped road cannot take (see
``kiwoom._realtime._frames``). They are printed as further cases. Deterministic (seeded).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import yaml

from kiwoom import catalog

CODES = [f"{n:06d}" for n in (5930, 660, 35420, 373220, 207940, 5380, 51910, 6400, 35720, 105560)]
SPEC = Path(__file__).resolve().parent.parent / "spec" / "realtime" / "domestic.yaml"
# The 0D FIDs that are 0 in Kiwoom's published 0D example.
ZERO_0D = frozenset(
    {str(fid) for fid in (*range(81, 101), *range(621, 641))}
    | {"200", "201", "291", "292", "294", "295"}
)
# The 0B FIDs blank ("") in Kiwoom's published 0B example.
BLANK_0B = frozenset(
    ("851", "1890", "1891", "1892", "1030", "1031", "1032", "1071", "1072", "1313", "1315"),
) | {"1316", "1314", "1497", "1498", "620", "732", "852"}


def _fields() -> dict[str, list[dict[str, Any]]]:
    types = yaml.safe_load(SPEC.read_text(encoding="utf-8"))["types"]
    return {t["id"]: t["fields"] for t in types if t["id"] in ("0B", "0D")}


def _signed(n: float, text: str) -> str:
    return f"+{text}" if n > 0 else text


def _values(
    fields: list[dict[str, Any]],
    rnd: random.Random,
    price: int,
    close: int,
    second: int,
    free_text: bool,
    blank: frozenset[str] = frozenset(),
    zero: frozenset[str] = frozenset(),
) -> dict[str, str]:
    out = {}
    for f in fields:
        typ, sign = f["type"], f.get("sign", "none")
        if typ == "time":
            value = f"{9 + second // 3600:02d}{second // 60 % 60:02d}{second % 60:02d}"
        elif typ == "date":
            value = "20251125"
        elif typ == "code":
            value = rnd.choice(sorted(f["codes"]))
        elif typ == "string" and sign != "none":  # text holding a number: digits
            value = str(rnd.randint(0, 9))
        elif typ == "string":  # free text: empty unless asked for
            value = "KRX 외국인" if free_text else ""
        elif sign == "direction":
            level = price + rnd.randint(-10, 10) * 100
            value = f"{'+' if level > close else '-' if level < close else ''}{level}"
        elif typ == "integer":
            if sign == "real":
                n = rnd.randint(-3_000_000, 3_000_000)
                value = _signed(n, str(n))
            else:
                value = str(rnd.randint(0, 30_000_000))
        else:  # decimal
            if sign == "real":
                x = rnd.uniform(-30, 30)
                value = _signed(x, f"{x:.2f}")
            else:
                value = f"{rnd.uniform(0, 300):.2f}"
        # Drawn all the same, so the cases hold the same frames but for these values.
        out[f["name"]] = "" if f["name"] in blank else "0" if f["name"] in zero else value
    return out


def frames(
    n: int = 20_000,
    seed: int = 11,
    free_text: bool = False,
    blanks: bool = False,
    zeros: bool = False,
) -> list[bytes]:
    """``n`` REAL frames as the socket hands them over (UTF-8 bytes of a text frame)."""
    rnd = random.Random(seed)
    fields = _fields()
    names = {t: catalog.get(t).name for t in ("0B", "0D")}
    closes = {code: rnd.randint(100, 3000) * 100 for code in CODES}
    prices = dict(closes)
    out = []
    for i in range(n):
        type_id = "0B" if rnd.random() < 0.7 else "0D"
        data = []
        for code in rnd.sample(CODES, rnd.randint(1, 3)):
            prices[code] += rnd.randint(-3, 3) * 100
            blank = BLANK_0B if blanks and type_id == "0B" else frozenset()
            zero = ZERO_0D if zeros and type_id == "0D" else frozenset()
            second = i // 50 % 23400
            values = _values(
                fields[type_id], rnd, prices[code], closes[code], second, free_text, blank, zero
            )
            data.append({"type": type_id, "name": names[type_id], "item": code, "values": values})
        text = json.dumps({"trnm": "REAL", "data": data}, ensure_ascii=False, separators=(",", ":"))
        out.append(text.encode())
    return out
