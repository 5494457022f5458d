"""The benchmark's frames: REAL frames as Kiwoom sends them, 70% trades (0B), 30% order books (0D).

Each frame carries 1-3 items, with realistic values: signed prices that walk, volumes, rates,
HHMMSS times, every FID of the type filled. Deterministic (seeded).
"""

from __future__ import annotations

import json
import random

from kiwoom import catalog

CODES = [f"{n:06d}" for n in (5930, 660, 35420, 373220, 207940, 5380, 51910, 6400, 35720, 105560)]


def _values(type_id: str, rnd: random.Random, price: int, second: int) -> dict[str, str]:
    typed = catalog.get(type_id).response_type
    kinds = typed.__kinds__  # type: ignore[attr-defined]
    out = {}
    for field, kind in zip(typed.__struct_encode_fields__, kinds, strict=True):
        if kind == "abs int":  # prices: the sign is the direction vs yesterday
            value = f"{rnd.choice('+-')}{price + rnd.randint(-10, 10) * 100}"
        elif kind == "int":
            value = f"{rnd.choice('+-')}{rnd.randint(0, 3_000_000)}"
        elif kind in ("float", "abs float"):
            value = f"{rnd.choice('+-')}{rnd.uniform(0, 30):.2f}"
        elif kind == "float/100":
            value = str(rnd.randint(0, 9999))
        elif kind == "time":
            value = f"{9 + second // 3600:02d}{second // 60 % 60:02d}{second % 60:02d}"
        elif kind == "date":
            value = "20251125"
        else:
            value = rnd.choice(("1", "2", "3", "5"))
        out[field] = value
    return out


def frames(n: int = 20_000, seed: int = 11) -> list[str]:
    """``n`` REAL frames as text (what the socket hands over)."""
    rnd = random.Random(seed)
    names = {t: catalog.get(t).name for t in ("0B", "0D")}
    prices = {code: rnd.randint(100, 3000) * 100 for code in CODES}
    out = []
    for i in range(n):
        type_id = "0B" if rnd.random() < 0.7 else "0D"
        data = []
        for code in rnd.sample(CODES, rnd.randint(1, 3)):
            prices[code] += rnd.randint(-3, 3) * 100
            values = _values(type_id, rnd, prices[code], i // 50 % 23400)
            data.append({"type": type_id, "name": names[type_id], "item": code, "values": values})
        out.append(json.dumps({"trnm": "REAL", "data": data}, ensure_ascii=False))
    return out
