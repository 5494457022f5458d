"""Wire bodies shaped exactly as the catalogue's types say, from values by Python name.

A handler describes an answer as a *context*: a dict of values by field name (``cur_prc``:
64600, ``dt``: a date, ``stk_dt_pole_chart_qry``: a list of row contexts). :func:`fill`
walks the response type of the catalogue entry, field by field, and writes each value the
way Kiwoom sends it for the field's kind: every value a string, prices signed by direction
against the previous close (``"-64600"``), changes and rates signed (``"+82"``, ``"-0.24"``),
scaled indices as integers (``"258664"`` for 2586.64), dates ``YYYYMMDD``, optional zero
padding. Fields the context does not name get plausible values from their name and kind.
"""

from __future__ import annotations

import datetime as dt
import random
from functools import cache
from typing import Any, NamedTuple

import msgspec

__all__ = ["FieldShape", "Shape", "fill", "shape_of"]


class FieldShape(NamedTuple):
    wire: str
    py: str
    kind: str
    sub: Shape | None
    many: bool
    signed: bool = False
    """A true signed number on the wire (``"+82"``)."""
    absolute: bool = False
    """A magnitude whose sign tells the direction against the previous close."""
    decimal: bool = False
    scale: int = 0
    """The wire holds value x scale as an integer (``float/100``)."""


class Shape(NamedTuple):
    fields: tuple[FieldShape, ...]
    array_like: bool


@cache
def shape_of(cls: type[msgspec.Struct]) -> Shape:
    """The fields of a typed response, row or real-time values Struct, with their kinds."""
    infos = msgspec.structs.fields(cls)
    kinds: tuple[str, ...] = getattr(cls, "__kinds__", ())
    if infos and infos[0].name == "return_code":
        infos = infos[2:]
    out = []
    for info, kind in zip(infos, kinds, strict=False):
        sub = None
        many = False
        tp = info.type
        args = getattr(tp, "__args__", ())
        if kind in ("list", "object"):
            many = kind == "list"
            inner = args[0] if many and args else tp
            for candidate in (inner, *getattr(inner, "__args__", ())):
                if isinstance(candidate, type) and issubclass(candidate, msgspec.Struct):
                    sub = shape_of(candidate)
                    break
        base, _, div = kind.partition("/")
        out.append(
            FieldShape(
                info.encode_name, info.name, kind, sub, many, _signed(info.name),
                base.startswith("abs "), base.endswith("float") or base == "decimal",
                int(div) if div else 0,
            )
        )  # fmt: skip
    config = getattr(cls, "__struct_config__", None)
    return Shape(tuple(out), bool(config and config.array_like))


# Names whose integer or decimal value is a true signed number on the wire ("+82", "-0.24").
_SIGNED_ENDS = ("_pre", "_irds", "_pl", "_rt", "_prft", "pl_amt", "_pre_rt")
_SIGNED_HAS = ("pred_pre", "flu_rt", "netprps", "evltv_prft", "prft_rt", "evlt_pl", "pl_rt")


@cache
def _signed(name: str) -> bool:
    return name.endswith(_SIGNED_ENDS) or any(h in name for h in _SIGNED_HAS)


def _pad(text: str, width: int) -> str:
    if not width:
        return text
    sign = text[:1] if text[:1] in "+-" else ""
    return sign + text[len(sign) :].rjust(width - len(sign), "0")


def _number(value: Any, f: FieldShape, sign: str, pad: int) -> str:
    if f.scale:
        v: float = float(value)
        text = str(round(abs(v) * f.scale))
    elif f.decimal:
        v = float(value)
        text = f"{abs(v):.2f}"
    else:
        v = int(value)
        text = str(abs(int(v)))
    if f.absolute:
        head = sign if v else ""
    elif v < 0:
        head = "-"
    elif f.signed and v > 0:
        head = "+"
    else:
        head = ""
    return _pad(head + text, pad if not f.decimal or f.scale else 0)


def _format(value: Any, f: FieldShape, sign: str, pad: int) -> str:
    kind = f.kind
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if kind == "date":
        return value.strftime("%Y%m%d") if isinstance(value, dt.date) else str(value)
    if kind == "time":
        return value.strftime("%H%M%S") if isinstance(value, dt.time | dt.datetime) else str(value)
    if kind == "datetime":
        return value.strftime("%Y%m%d%H%M%S") if isinstance(value, dt.datetime) else str(value)
    if kind == "str":
        return str(value)
    return _number(value, f, sign, pad)


def _fits(value: Any, kind: str) -> bool:
    """Whether a context value can be written as this kind (a name may mean another thing in
    another API: ``tm`` a time here, a count there)."""
    if isinstance(value, str) or value is None:
        return True
    if kind == "date":
        return isinstance(value, dt.date)
    if kind == "time":
        return isinstance(value, dt.time | dt.datetime)
    if kind == "datetime":
        return isinstance(value, dt.datetime)
    if kind == "str":
        return not isinstance(value, dt.date | dt.time)
    return isinstance(value, int | float) and not isinstance(value, bool)


def _guess(f: FieldShape, ctx: dict[str, Any], rng: random.Random) -> Any:
    """A plausible value for a field the context does not name, from its name and kind."""
    n = f.py
    k = f.kind
    if k == "date":
        return ctx.get("dt", "")
    if k == "time":
        return ctx.get("tm", "")
    if k == "datetime":
        return ctx.get("now", "")
    if k == "str":
        if n.endswith("_nm") or n.endswith("name"):
            return ctx.get("stk_nm", "")
        if n.endswith("_cd") or n.endswith("code"):
            return ctx.get("stk_cd", "")
        if n.endswith("_sig"):
            return ctx.get("pred_pre_sig", "3")
        if n.endswith("_yn"):
            return "N"
        return ""
    price = ctx.get("cur_prc")
    rate = n.endswith(("_rt", "rt", "_ratio")) or "_rt_" in n
    if (
        not rate
        and any(w in n for w in ("pric", "prc", "bid", "_uv", "_prc"))
        and price is not None
    ):
        return price
    if k.endswith("float") or "/" in k or k == "decimal":
        if _signed(n):
            return round(rng.uniform(-3, 3), 2)
        return round(rng.uniform(0, 30), 2)
    if any(w in n for w in ("qty", "cnt", "req", "stk")):
        return rng.randint(0, 100_000)
    if any(w in n for w in ("amt", "prica", "cap", "mac")):
        return rng.randint(0, 10_000_000)
    if _signed(n):
        return rng.randint(-5_000, 5_000)
    return rng.randint(0, 10_000)


def fill(
    shape: Shape,
    ctx: dict[str, Any],
    *,
    rows: Any = None,
    pad: int = 0,
    rng: random.Random | None = None,
    fixed: dict[tuple[int, str], str] | None = None,
) -> Any:
    """The wire object (or row array) of ``shape`` from a context.

    ``rows(field)`` gives the row contexts of a list field the context does not name.
    ``pad`` zero-pads every integer to that width (Kiwoom's account APIs use 15).
    ``fixed`` keeps the guessed value of each field the context does not name, once made
    (the real-time stream's extra fields stay put instead of jumping on every frame).
    """
    rng = rng or random.Random(0)
    sign = ctx.get("_sign", "")
    out: dict[str, Any] = {}
    for f in shape.fields:
        value = ctx[f.py] if f.py in ctx else ctx.get(f.wire, _MISSING)
        if f.sub is not None:
            if f.many:
                if value is _MISSING:
                    value = rows(f) if rows is not None else []
                out[f.wire] = [
                    fill(f.sub, r, rows=rows, pad=pad, rng=rng, fixed=fixed) for r in value
                ]
            else:
                sub_ctx = ctx if value is _MISSING else value
                out[f.wire] = fill(f.sub, sub_ctx, rows=rows, pad=pad, rng=rng, fixed=fixed)
            continue
        if f.kind in ("list", "object"):
            out[f.wire] = [] if f.many else {}
            continue
        if value is _MISSING or not _fits(value, f.kind):
            if fixed is not None:
                key = (id(shape), f.wire)
                text = fixed.get(key)
                if text is None:
                    text = fixed[key] = _format(_guess(f, ctx, rng), f, sign, pad)
                out[f.wire] = text
                continue
            value = _guess(f, ctx, rng)
        out[f.wire] = _format(value, f, sign, pad)
    if shape.array_like:
        return list(out.values())
    return out


_MISSING: Any = object()
