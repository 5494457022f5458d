"""The C accelerator of the fast road's fixers (``src/kiwoom/_speedups.c``).

Every plan compiles to the same ops twice, as Python source and as a C ``Fixer``. Whatever
the C one does must be exactly what the Python one does: these tests run both on the same
objects, for every entry of the catalogue and shapes well past what Kiwoom sends, and compare
classes and values field by field (or the exception raised). The rest of the suite runs the
road the process chose, the C one where it is built.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import random
import re
import shutil
import sys
import sysconfig
from pathlib import Path
from typing import Any

import msgspec
import pytest
from samples import STRUCTS, sample_body

from kiwoom import catalog
from kiwoom._convert import layout
from kiwoom._fastdecode import (
    OPS,
    SPEEDUPS,
    FastDecoder,
    _Plan,
    c_fixer,
    python_fixer,
)

speedups: Any = SPEEDUPS
needs_c = pytest.mark.skipif(SPEEDUPS is None, reason="the C accelerator is switched off")


def can_compile() -> bool:
    """A C compiler and Python's headers are here, as setuptools would look for them."""
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    headers = Path(sysconfig.get_paths()["include"], "Python.h")
    return shutil.which(cc) is not None and headers.exists()


def test_the_accelerator_is_built_wherever_it_can_be() -> None:
    if os.environ.get("KIWOOM_NO_SPEEDUPS"):
        pytest.skip("KIWOOM_NO_SPEEDUPS is set")
    if not can_compile():
        pytest.skip("no C compiler or Python headers: the fixers run as Python")
    assert SPEEDUPS is not None, (
        "kiwoom._speedups was not built though a C compiler is here (see the build output "
        "of the install); the fixers run as Python, slower"
    )


@needs_c
def test_every_op_has_a_c_code() -> None:
    codes = {getattr(speedups, "OP_" + name.upper().replace(" ", "_")) for name in OPS}
    assert len(codes) == len(OPS)


class Row(msgspec.Struct):
    """For the tests of single ops: any value in any field."""

    s: Any = None
    t: Any = None
    d: Any = None
    x: Any = None


class Twin(Row):
    pass


class Wider(Row):
    y: int = 0


def snapshot(obj: Any) -> Any:
    """Classes and values, all the way down (floats by repr, so -0.0 is not 0.0)."""
    if isinstance(obj, msgspec.Struct):
        fields = type(obj).__struct_fields__
        return (type(obj), tuple(snapshot(getattr(obj, f)) for f in fields))
    if isinstance(obj, list):
        return tuple(snapshot(x) for x in obj)
    return (type(obj), repr(obj))


def outcome(fix: Any, obj: Any) -> Any:
    try:
        fix(obj)
    except Exception as exc:  # the same exception class on both roads
        return ("raised", type(exc))
    return snapshot(obj)


def every_scalar(root: type[msgspec.Struct]) -> set[tuple[type, str]]:
    found: set[tuple[type, str]] = set()
    for f in layout(root):
        if f.nested is not None:
            found |= every_scalar(f.nested)
        else:
            found.add((root, f.attr))
    return found


# Wire text that real bodies carry and some they never should, for the shuffled bodies.
ODD = [
    "",
    "0",
    "-0",
    "+0",
    "-0.0",
    "12",
    "-12",
    "+12",
    "000012300",
    "-000012300",
    "0.5",
    "-.5",
    "1e3",
    "99999999999999999999999",
    "-99999999999999999999999",
    "240000",
    "235959",
    "000000",
    "20250230",
    "20250908",
    "00000000",
    "090507",
    "09:05:07",
    "1652",
    " 165208",
    "abc",
    "+매수",
    "1,234",
    "--5",
    "2024110708371",
    "20241107083713",
]


def shuffled(wire: Any, rng: random.Random) -> Any:
    """The body with every scalar replaced by one of :data:`ODD`."""
    if isinstance(wire, dict):
        return {k: shuffled(v, rng) for k, v in wire.items()}
    if isinstance(wire, list):
        return [shuffled(v, rng) for v in wire]
    return rng.choice(ODD)


def without_free_text(root: type[msgspec.Struct], wire: Any) -> Any:
    """The body with every free-text value blank (a stripped plan's fixer stops at any)."""
    if isinstance(wire, list):
        return [without_free_text(root, row) for row in wire]
    if not isinstance(wire, dict):
        return wire
    out = dict(wire)
    for f in layout(root):
        if f.nested is not None and f.wire in out:
            out[f.wire] = without_free_text(f.nested, out[f.wire])
        elif f.kind == "str" and f.wire in out:
            out[f.wire] = ""
    return out


def plans(root: type[msgspec.Struct]) -> list[_Plan]:
    """The plans a root type can have: as first built, every field demoted to text, and
    stripped with every field seen blank."""
    scalars = frozenset(every_scalar(root))
    return [
        _Plan(root, frozenset()),
        _Plan(root, scalars),
        _Plan(root, frozenset(), stripped=True),
        _Plan(root, frozenset(), stripped=True, blank=scalars),
    ]


def learned(plan: _Plan, body: bytes) -> _Plan:
    """The plan once it has learned what ``body`` teaches (fields it holds unreadable)."""
    decoder = FastDecoder(plan.program.typed, stripped=plan.stripped)
    decoder._plan = plan
    decoder.learn(body)
    return decoder.plan


def compare(plan: _Plan, body: bytes) -> bool:
    """Both fixers on two decodes of ``body``; True if they fixed it (rather than both
    raising), False also when the twin does not take the body."""
    try:
        a, b = plan.decoder.decode(body), plan.decoder.decode(body)
    except msgspec.ValidationError:
        return False
    py, c = python_fixer(plan.program), c_fixer(plan.program, speedups)
    expected = outcome(py, a)
    assert outcome(c, b) == expected
    return expected[0] != "raised"


@needs_c
@pytest.mark.parametrize("api_id", sorted(STRUCTS))
def test_c_and_python_fixers_agree(api_id: str) -> None:
    root = catalog.get(api_id).response_type
    wire, _ = sample_body(STRUCTS[api_id])
    rng = random.Random(api_id)
    bodies = [wire, *(shuffled(wire, rng) for _ in range(6))]
    bodies += [without_free_text(root, b) for b in bodies]
    fixed = 0
    for base in plans(root):
        for body in map(msgspec.json.encode, bodies):
            if base.stripped:
                body = body.replace(b"+", b"")
            fixed += compare(learned(base, body), body)
    assert fixed >= 4  # the sample body, free text blank, on every plan at least


@needs_c
def test_time_and_date_parsed_in_c_are_the_python_values() -> None:
    fix = speedups.Fixer(
        Row,
        Twin,
        (
            (speedups.OP_TIME, "t", dt.time.fromisoformat),
            (speedups.OP_DATE, "d", dt.date.fromisoformat),
        ),
    )
    for t, d in [("090507", "20250908"), ("000000", "20240229"), ("235959", "00010101")]:
        row = Twin(t=t, d=d)
        fix(row)
        assert (row.t, row.d) == (dt.time.fromisoformat(t), dt.date.fromisoformat(d))
        assert type(row) is Row
    for t, d in [("240000", "20250908"), ("090507", "20250230"), ("09050７", "20250908")]:
        with pytest.raises(ValueError):
            fix(Twin(t=t, d=d))


@needs_c
def test_magnitudes_of_any_size() -> None:
    fix = speedups.Fixer(Row, Twin, ((speedups.OP_ABS, "x", None),))
    for v, want in [(-(10**30), 10**30), (10**30, 10**30), (-5, 5), (-0.5, 0.5), (0, 0)]:
        row = Twin(x=v)
        fix(row)
        assert row.x == want and type(row.x) is type(want)
    row = Twin(x=-0.0)
    fix(row)
    assert repr(row.x) == "-0.0"  # as `v < 0` leaves it
    for bad in (None, "", "5"):
        with pytest.raises(TypeError):
            fix(Twin(x=bad))


@needs_c
def test_free_text_is_kept_and_reported() -> None:
    fix = speedups.Fixer(
        Row, Twin, ((speedups.OP_FREE_TEXT, "s", None), (speedups.OP_ABS, "x", None))
    )
    row = Twin(s="", x=-1)
    assert fix(row) is False
    assert (row.s, row.x) == (None, 1)
    row = Twin(s="매수", x=-1)
    assert fix(row) is True
    assert (row.s, row.x) == ("매수", 1)  # the other ops still ran


@needs_c
def test_fix_values_reports_the_items_with_free_text() -> None:
    class Item(msgspec.Struct):
        values: Any

    class Other(msgspec.Struct):
        values: Any

    fixes = {Item: speedups.Fixer(Row, Twin, ((speedups.OP_FREE_TEXT, "s", None),))}
    items = [Item(Twin(s="")), Item(Twin(s="x")), Item(Twin(s="")), Item(Twin(s="y"))]
    seen: list[int] = []
    assert speedups.fix_values(items, fixes, seen) is items
    assert seen == [1, 3]
    assert [i.values.s for i in items] == [None, "x", None, "y"]
    assert speedups.fix_values([Other(Twin())], {Other: None}, []) is None
    with pytest.raises(KeyError):
        speedups.fix_values([Other(Twin())], fixes, [])


@needs_c
def test_a_fixer_refuses_what_it_cannot_touch_safely() -> None:
    fix = speedups.Fixer(Row, Twin, ((speedups.OP_ABS, "x", None),))
    with pytest.raises(TypeError, match="fixer of"):
        fix(Wider(x=-1))  # another class: its slots are not the fixer's to write
    with pytest.raises(TypeError):
        fix()
    with pytest.raises(TypeError, match="twin"):
        speedups.Fixer(Row, Wider, ())  # a different layout
    with pytest.raises(TypeError, match="slot"):
        speedups.Fixer(Row, Twin, ((speedups.OP_ABS, "nope", None),))
    with pytest.raises(ValueError, match="bad op"):
        speedups.Fixer(Row, Twin, ((99, "x", None),))
    with pytest.raises(ValueError, match="bad op"):
        speedups.Fixer(Row, Twin, ((speedups.OP_LIST, "x", None),))
    with pytest.raises(ValueError, match="bad op"):
        speedups.Fixer(Row, Twin, ((speedups.OP_CALL, "x", 3),))
    assert "Row" in repr(fix)


@needs_c
@pytest.mark.parametrize("api_id", ["0D", "ka10081"])
def test_fixing_leaks_no_references(api_id: str) -> None:
    """The class swaps and every replaced value keep their reference counts straight."""
    root = catalog.get(api_id).response_type
    decoder = FastDecoder(root)
    wire, _ = sample_body(STRUCTS[api_id])
    body = msgspec.json.encode(wire)
    decoder.decode(body)  # learn the plan first
    classes = [root, decoder.plan.twin, dt.time, dt.date]
    gc.collect()
    before = [sys.getrefcount(c) for c in classes]
    objs = [decoder.decode(body) for _ in range(1000)]
    assert all(type(o) is root for o in objs)
    del objs
    gc.collect()
    assert [sys.getrefcount(c) for c in classes] == before


@needs_c
def test_strip_signs_removes_the_plus_of_signed_numbers_only() -> None:
    cases = {
        b'{"a":"+82","b":"-5","c":"+.5","d":"+0.16"}': b'{"a":"82","b":"-5","c":".5","d":"0.16"}',
        # Not a sign of a number: kept, so free text changes only where it stays non-empty.
        b'{"d":"+","e":"++3","f":"+-3","g":"1e+5","h":"A+B","i":"+\xeb\xa7\xa4"}': None,
        b"": None,
        b"+": None,
        b'"+': None,
        b'+"+1"+': b'+"1"+',
    }
    for raw, want in cases.items():
        assert speedups.strip_signs(raw) == (raw if want is None else want)
    # Against the rule written as a regular expression, on random bytes rich in '"', '+', digits.
    rule = re.compile(rb'(?<=")\+(?=[0-9.])')
    rng = random.Random(7)
    for _ in range(2000):
        raw = bytes(rng.choice(b'"+9.a- ') for _ in range(rng.randrange(0, 24)))
        assert speedups.strip_signs(raw) == rule.sub(b"", raw), raw
    with pytest.raises(TypeError):
        speedups.strip_signs("+1")
