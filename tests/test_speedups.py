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
import subprocess
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
    _CONVERTERS,
    OPS,
    SPEEDUPS,
    FastDecoder,
    Op,
    Program,
    _converter,
    _fix_values,
    _Plan,
    _strip_signs,
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


STRIPS = [pytest.param(_strip_signs, id="python")] + (
    [pytest.param(SPEEDUPS.strip_signs, id="c")] if SPEEDUPS is not None else []
)


@pytest.mark.parametrize("strip_signs", STRIPS)
def test_strip_signs_removes_the_plus_of_signed_numbers_only(strip_signs: Any) -> None:
    cases = {
        b'{"a":"+82","b":"-5","c":"+.5","d":"+0.16"}': b'{"a":"82","b":"-5","c":".5","d":"0.16"}',
        # Not a sign of a number: kept, so free text changes only where it stays non-empty.
        b'{"d":"+","e":"++3","f":"+-3","g":"1e+5","h":"A+B","i":"+\xeb\xa7\xa4"}': None,
        b'{"a":"A+1","b":"000000012+300","c":"+5%"}': b'{"a":"A+1","b":"000000012+300","c":"5%"}',
        b'{"a":"+1","h":"A+B","b":"+2"}': b'{"a":"1","h":"A+B","b":"2"}',
        b"": None,
        b"+": None,
        b'"+': None,
        b'+"+1"+': b'+"1"+',
    }
    for raw, want in cases.items():
        assert strip_signs(raw) == (raw if want is None else want)
    # Against the rule written as a regular expression, on random bytes rich in '"', '+', digits.
    rule = re.compile(rb'(?<=")\+(?=[0-9.])')
    rng = random.Random(7)
    for _ in range(5000):
        raw = bytes(rng.choice(b'"+9.a- ') for _ in range(rng.randrange(0, 24)))
        assert strip_signs(raw) == rule.sub(b"", raw), raw
    with pytest.raises(TypeError):
        strip_signs("+1")


# -- Objects that Python code drops while a fixer holds them ---------------------------------
#
# A fixer calls into Python (converters, int(), a value's own comparison or truth), and that
# code may drop the very object the fixer is working on: a row of the list it walks, the value
# of a slot, the fixer itself. The C fixer holds a reference to each across such calls, and
# then does what the Python fixer does. Without those references it reads freed memory, which
# the debug allocator (PYTHONMALLOC=debug: freed memory is overwritten) turns into a crash.


class Road:
    """One road's fixers over (code, attribute, argument) ops, as ``speedups.Fixer`` takes."""

    def __init__(self, c: bool) -> None:
        self.c = c
        self.fix_values = speedups.fix_values if c else _fix_values

    def fixer(self, ops: tuple[tuple[int, str, Any], ...]) -> Any:
        if self.c:
            return speedups.Fixer(Row, Twin, ops)
        names = {getattr(speedups, "OP_" + n.upper().replace(" ", "_")): n for n in OPS}
        program_ops, converters = [], {}
        for code, attr, arg in ops:
            name, expr = names[code], _NUMBER_EXPR.get(names[code], "")
            if name in ("list", "object"):  # compiled into this fixer's source
                converters.update(arg.converters)
                arg = arg.program
            elif arg is not None and not expr:  # call, date, time: inlined by name
                expr = f"_arg{id(arg)}(v)"
                converters[f"_arg{id(arg)}"] = arg
            program_ops.append(Op(name, attr, arg, expr))
        program = Program(Row, Twin, tuple(program_ops))
        _CONVERTERS.update(converters)  # what the fixer's source may name, while it compiles
        try:
            fix = python_fixer(program)
        finally:
            for key in converters:
                del _CONVERTERS[key]
        fix.program, fix.converters = program, converters  # type: ignore[attr-defined]
        return fix


_NUMBER_EXPR = {
    "to int": "int(v)",
    "to abs int": "abs(int(v))",
    "to float": "float(v)",
    "to abs float": "abs(float(v))",
}


class Sly:
    """A value that drops itself from ``row.x`` whenever Python code looks at it."""

    def __init__(self, row: Any) -> None:
        self.row = row

    def _drop(self) -> None:
        self.row.x = None

    def __lt__(self, other: Any) -> bool:
        self._drop()
        return True

    def __bool__(self) -> bool:
        self._drop()
        return True

    def __neg__(self) -> str:
        return "negated"

    def __int__(self) -> int:
        return -7

    def __float__(self) -> float:
        return -7.5

    def replace(self, old: str, new: str) -> str:
        return "replaced"

    def __repr__(self) -> str:
        return "Sly"


def sly_values(road: Road) -> list[Any]:
    """Each op on a value that drops itself from its slot when looked at."""
    out = []
    for name in OPS:
        if name in ("list", "object", "blank"):
            continue
        code = getattr(speedups, "OP_" + name.upper().replace(" ", "_"))
        expr = _NUMBER_EXPR.get(name)
        arg = _converter(expr) if expr else lambda v: ("converted", type(v).__name__)
        row = Twin(s="")
        row.x = Sly(row)
        fix = road.fixer(((code, "x", arg), (speedups.OP_BLANK, "s", None)))
        out.append((name, outcome(fix, row)))
    return out


def nested_dropped(road: Road) -> list[Any]:
    """Converters that empty the list whose rows the fixer walks, or drop the nested object."""
    out = []
    for code in (speedups.OP_LIST, speedups.OP_OBJECT):
        outer = Twin(x=[Twin(s="a", t=""), Twin(s="b", t="")], d=Twin(s="c", t=""))

        def convert(v: str, outer: Any = outer) -> str:
            outer.x.clear()  # the row being fixed goes with it
            outer.d = None
            return v.upper()

        row = road.fixer(((speedups.OP_CALL, "s", convert), (speedups.OP_BLANK, "t", None)))
        attr = "x" if code == speedups.OP_LIST else "d"
        out.append(outcome(road.fixer(((code, attr, row),)), outer))
    return out


class Item:
    """A real-time item whose ``values`` may drop the fixers' dict when read."""

    def __init__(self, row: Any, fixes: dict[type, Any], drop: bool) -> None:
        self.row, self.fixes, self.drop = row, fixes, drop

    @property
    def values(self) -> Any:
        if self.drop:
            self.fixes.clear()  # between the look-up of the fixer and its run
        return self.row


def fixes_dropped(road: Road) -> list[Any]:
    """fix_values while Python code drops the fixers' dict, the running fixer, or the items."""
    out = []
    for when in ("reading", "fixing", "items"):
        items: list[Any] = []
        fixes: dict[type, Any] = {}

        def convert(
            v: str, when: str = when, items: list[Any] = items, fixes: dict[type, Any] = fixes
        ) -> str:
            if when == "fixing":
                fixes.clear()  # the running fixer's last reference
            elif when == "items":
                items.clear()  # the item being fixed goes with it
            return v.upper()

        fixes[Item] = road.fixer(
            ((speedups.OP_CALL, "s", convert), (speedups.OP_FREE_TEXT, "t", None))
        )
        items.extend(Item(Twin(s=s, t=s), fixes, when == "reading") for s in "ab")
        rows = [item.row for item in items]
        seen: list[int] = []
        try:
            result = road.fix_values(items, fixes, seen)
        except Exception as exc:
            out.append((when, "raised", type(exc)))
            continue
        out.append((when, result is items, seen, snapshot(rows)))
    return out


def hostile_outcomes(road: Road) -> list[Any]:
    return [sly_values(road), nested_dropped(road), fixes_dropped(road)]


@needs_c  # for the op codes
def test_python_code_drops_what_the_fixers_work_on() -> None:
    """The hostile cases truly drop things (on the Python road, the reference)."""
    sly, nested, dropped = hostile_outcomes(Road(c=False))
    none = (type(None), "None")
    x = {name: fields[3] for name, (_, fields) in sly}  # each value dropped itself from x
    assert x["abs"] == x["abs blank"] == (str, "'negated'")
    assert (x["free text"], x["or none"], x["to abs int"]) == (none, (Sly, "Sly"), (int, "7"))
    assert nested == [(Row, (none, none, none, ()))] * 2  # rows and object dropped mid-fix
    assert [d[:2] for d in dropped] == [
        ("reading", "raised"),  # the fixers' dict emptied: the second item has none
        ("fixing", "raised"),
        ("items", True),
    ]


@needs_c
def test_the_c_fixers_hold_what_python_code_drops() -> None:
    """The C road gives what the Python road gives, under the debug allocator, where reading
    an object after it was freed crashes (it would in this process too, but not surely)."""
    root = Path(__file__).parent.parent
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    code = (
        "import test_speedups as t\n"
        "assert t.hostile_outcomes(t.Road(c=True)) == t.hostile_outcomes(t.Road(c=False))\n"
    )
    done = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", code],
        cwd=Path(__file__).parent,
        env={**os.environ, "PYTHONMALLOC": "debug", "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
