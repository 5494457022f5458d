"""The fast road from response bytes to typed Structs: msgspec parses the numbers in C.

Converting a 600-row chart value by value in Python (``int(v)`` per value) costs more than
parsing the JSON. Most values, though, are plain digits that msgspec's lax mode
(``strict=False``) turns into ``int``/``float`` itself. So each typed Struct gets a *lax twin*:
a subclass with the same fields and encode names whose run-time annotations msgspec can fill
directly, and a small fixer, compiled once per plan, that finishes the job per object:

- plain numbers decode natively; magnitudes carry ``Meta(ge=0)``, text ``Meta(min_length=1)``;
- dates and times, scaled decimals, and every field *demoted* to text are decoded as ``str``
  and converted by the fixer (``int(v)`` accepts ``"+82"`` and ``"000000012300"``);
- the fixer then sets ``__class__`` back to the typed Struct, so callers never see the twin.

The plan learns: a value msgspec rejects (``"+600"``, ``""``, ``"-70100"`` for a magnitude)
names its field in the error, that field is demoted to text for this API, and the body is
decoded again. Anything else (a doubled sign, a zero date, a list sent as ``""``) raises
:class:`Unfit`, and the caller takes the tolerant road (:mod:`kiwoom._convert`).

The *stripped* plan (``stripped=True``) reads text from which the signs were removed first
(:func:`strip_signs`), as the real-time decoder does with a whole frame: a sign left is a
``'-'``, so magnitudes decode as signed numbers and the fixer takes their absolute value,
and ``"+82"`` costs nothing. The removal is exact for numbers, and "num text" (text that
only ever holds a number) is read as text and drops every '+' by its op; a field of free
text might have lost a '+' (``"+5%"``), so the fixer returns True when one holds any text
(the text is kept): the real-time road then reads those fields again from the frame as sent,
and :meth:`FastDecoder.decode` raises :class:`TextSeen`. A field seen blank (``""``, common in
real-time values) is not demoted: it decodes as ``int | Literal[""]``, still a number in C,
and the fixer turns the blank into None. A zero-padded number (``"000000012300"``: JSON's
grammar, and so msgspec, reads no leading zeros) demotes every field of its family (integers
or decimals) of that class at once, and the stripped plan with every integer demoted is built
ahead, at subscription: a feed that pads costs the receive loop one swap per type, not one
plan per field as each is first seen padded.

A fixer is a :class:`Program` of small ops, one per field that needs work. Where the optional
C accelerator ``kiwoom._speedups`` is built, each program becomes a C ``Fixer`` (it writes the
Struct's slots directly, parses times and dates, and converts text with the very calls
``int()`` and ``float()`` make); elsewhere the same ops are compiled to Python source. Both
give the same values (``tests/test_speedups.py`` compares them on every catalogue entry).
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from ._convert import Field, layout
from ._values import fast_date, fast_time, to_datetime, to_time

__all__ = ["FastDecoder", "TextSeen", "Unfit"]


# Past this share of text fields (signed prices, dates), the fast road stops paying off.
_USEFUL_TEXT_SHARE = 0.5

# Compiled on first use (by re's cache): only a plan's lesson reads a validation error.
_AT = r"- at `\$(.*)`$"
_SEGMENT = r"\.([^.\[]+)|\[\d+\]"

_NATIVE: dict[str, Any] = {
    "int": int,
    "float": float,
    "abs int": Annotated[int, Meta(ge=0)],
    "abs float": Annotated[float, Meta(ge=0)],
    "str": Annotated[str, Meta(min_length=1)],
    "code": int,  # return_code: a JSON number, or now and then a string
}

# The stripped plan: no '+' is left, a '-' is a sign (magnitudes are fixed by the fixer).
_NATIVE_STRIPPED: dict[str, Any] = {
    "int": int,
    "float": float,
    "abs int": int,
    "abs float": float,
    "str": str,  # free text: the fixer reports any it keeps
    "code": int,
}

# How the fixer turns the text ``v`` of a text-decoded field into its typed value.
_TEXT_FIX: dict[str, str] = {
    "int": "int(v)",
    "float": "float(v)",
    "abs int": "abs(int(v))",
    "abs float": "abs(float(v))",
    "date": "_date(v)",
    "time": "_time(v)",
    "datetime": "_datetime(v)",
    "code": "int(v)",
}


class Unfit(Exception):
    """The body holds a shape the fast road does not take; use the tolerant road."""


class TextSeen(Unfit):
    """A free-text field holds text, from which a '+' may have been stripped: read the body
    again as sent."""


def _text_fix(kind: str) -> str:
    if kind in _TEXT_FIX:
        return _TEXT_FIX[kind]
    base, _, divisor = kind.partition("/")
    if divisor:
        magnitude = base.startswith("abs ")
        expr = f"float(v) / {int(divisor)}"
        return f"abs({expr})" if magnitude else expr
    raise AssertionError(f"no text conversion for kind {kind!r}")


class Op(msgspec.Struct, frozen=True):
    """One step of a fixer: what to do with one field of an object fresh from the lax decode.

    ``name`` is one of :data:`OPS`; ``arg`` is the step's argument (the converter of a text
    field, the sub-program of a list or object); ``expr`` is the converter as Python source
    over ``v`` (inlined by the Python fixer)."""

    name: str
    attr: str
    arg: Any = None
    expr: str = ""


class Program(msgspec.Struct, frozen=True):
    """A fixer's work on one object: set its class from ``twin`` to ``typed``, then the ops."""

    typed: type[msgspec.Struct]
    twin: type[msgspec.Struct]
    ops: tuple[Op, ...]


# Python source of each op, ``{f}`` its field (nested programs aside).
_OP_SOURCE: dict[str, tuple[str, ...]] = {
    # The '-' left on a magnitude is a direction, not a value (None, from null or a missing
    # key, raises TypeError: Unfit).
    "abs": ("if (v := {f}) < 0:", "    {f} = -v"),
    "abs blank": ("if (v := {f}) is _E:", "    {f} = None", "elif v < 0:", "    {f} = -v"),
    "blank": ("if {f} is _E:", "    {f} = None"),
    # Free text might have lost a '+': the fixer returns True, for the caller to read it again.
    "free text": ("if {f}:", "    seen = True", "else:", "    {f} = None"),
    "or none": ("{f} = {f} or None",),
    "num text": ("v = {f}", '{f} = (v.replace("+", "") or None) if v else None'),
    **dict.fromkeys(
        ("call", "date", "time", "to int", "to abs int", "to float", "to abs float"),
        ("v = {f}", "{f} = {expr} if v else None"),
    ),
}
# Text that int() or float() (and abs()) convert: the C fixer makes the very calls they make.
_TO_NUMBER = {
    "int": "to int",
    "code": "to int",
    "abs int": "to abs int",
    "float": "to float",
    "abs float": "to abs float",
}
OPS = (*_OP_SOURCE, "list", "object")
"""Every op name; the C accelerator (``kiwoom._speedups``) has each as ``OP_<NAME>``."""


_PROTOCOL = 5  # PROTOCOL in _speedups.c: a stale build of other ops is not used


def _speedups() -> Any:
    """The C accelerator of fixers, or None when it is not built or is switched off."""
    if os.environ.get("KIWOOM_NO_SPEEDUPS"):
        return None
    try:
        from . import _speedups as module
    except ImportError:
        return None
    return module if module.PROTOCOL == _PROTOCOL else None


SPEEDUPS = _speedups()
"""The C accelerator (``kiwoom._speedups``) when it is built, else None: the fixers are then
compiled to Python, which gives the same values, 20-30% slower end to end.
``KIWOOM_NO_SPEEDUPS=1`` switches it off."""


def fixers_road() -> str:
    """Which fixers run, and why, in words (for ``kiwoom demo`` and the benchmarks)."""
    if SPEEDUPS is not None:
        return "C (kiwoom._speedups)"
    if os.environ.get("KIWOOM_NO_SPEEDUPS"):
        return "Python (KIWOOM_NO_SPEEDUPS is set)"
    return "Python (the C accelerator was not built: no C compiler at install?)"


_SIGN = re.compile(rb'"\+(?=[0-9.])')
# A '+' that is not such a sign (a regular expression that starts with the '+' scans fast).
_NOT_SIGN = re.compile(rb'\+(?:(?<!"\+)|(?![0-9.]))').search


def _strip_signs(raw: bytes) -> bytes:
    # The common case, every '+' a sign: a scan and one replace. Else (free text such as
    # "+5%", a doubled sign) the rule itself, which costs more.
    if _NOT_SIGN(raw) is None:
        return raw.replace(b"+", b"")
    return _SIGN.sub(b'"', raw)


strip_signs: Callable[[bytes], bytes] = _strip_signs if SPEEDUPS is None else SPEEDUPS.strip_signs
"""The bytes without each '+' that follows a '"' and precedes a digit or '.' (the sign of a
number that opens a JSON string), for the stripped plans; in C where the accelerator is
built, the same rule in Python elsewhere. Free text loses a '+' only where it stays
non-empty, so the fixers see every change; a '+' anywhere else (``"A+1"``, ``"12+3"``,
``"++3"``) stays, and a value it makes unreadable is read as sent."""

Fixes = dict[type, Callable[[Any], Any] | None]


def _fix_values(items: list[Any], fixes: Fixes, seen: list[int]) -> list[Any] | None:
    for i, item in enumerate(items):
        fix = fixes[type(item)]
        if fix is None:
            return None
        if fix(item.values):
            seen.append(i)
    return items


fix_values: Callable[[list[Any], Fixes, list[int]], list[Any] | None] = (
    _fix_values if SPEEDUPS is None else SPEEDUPS.fix_values
)
"""``fixes[type(item)](item.values)`` for each item (a real-time frame's ticks), appending to
``seen`` the index of each item whose fixer returned True (free text kept); the list, or None
at the first item whose fixer is None. In C where the accelerator is built."""


def python_fixer(program: Program) -> Callable[[Any], bool]:
    """The program compiled to one Python function: True if it kept free text."""
    consts: dict[str, Any] = {"_E": ""}  # compared by identity: CPython has one empty str
    body: list[str] = []

    def const(value: Any) -> str:
        name = f"_k{len(consts)}"
        consts[name] = value
        return name

    def emit(p: Program, o: str, depth: int) -> None:
        pad = "    " * depth
        body.append(f"{pad}{o}.__class__ = {const(p.typed)}")
        for op in p.ops:
            if op.name in ("list", "object"):
                x = f"o{depth}"
                if op.name == "list":
                    body.append(f"{pad}for {x} in {o}.{op.attr}:")
                else:
                    body.append(f"{pad}{x} = {o}.{op.attr}")
                    body.append(f"{pad}if {x} is not None:")
                emit(op.arg, x, depth + 1)
                continue
            for line in _OP_SOURCE[op.name]:
                body.append(pad + line.format(f=f"{o}.{op.attr}", expr=op.expr))

    body.append("    seen = False")
    emit(program, "o0", 1)
    body.append("    return seen")
    for name, value in _CONVERTERS.items():
        consts.setdefault(name, value)
    # Constants arrive as default arguments: local loads in the per-row loop.
    defaults = "".join(f", {name}={name}" for name in consts)
    source = "\n".join([f"def fix(o0{defaults}):", *body])
    namespace: dict[str, Any] = dict(consts)
    exec(compile(source, f"<kiwoom fast decode {program.typed.__name__}>", "exec"), namespace)
    fix: Callable[[Any], bool] = namespace["fix"]
    return fix


def c_fixer(program: Program, speedups: Any) -> Callable[[Any], bool]:
    """The program as a C fixer of ``speedups`` (the ``kiwoom._speedups`` module)."""
    ops = []
    for op in program.ops:
        arg = op.arg
        if op.name in ("list", "object"):
            arg = c_fixer(arg, speedups)
        ops.append((getattr(speedups, "OP_" + op.name.upper().replace(" ", "_")), op.attr, arg))
    fix: Callable[[Any], bool] = speedups.Fixer(program.typed, program.twin, tuple(ops))
    return fix


def _datetime(v: str) -> Any:
    result = to_datetime(v)
    if result is None:
        raise ValueError(v)
    return result


def _time(v: str) -> Any:
    """A canonical time in C; otherwise what the tolerant road reads, so a sentinel
    (``"888888"``: the closing auction) keeps the fast road and every road agrees."""
    try:
        return fast_time(v)
    except ValueError:
        result = to_time(v)
    if result is None:
        raise ValueError(v)
    return result


# What a text-field converter's expression may name.
_CONVERTERS: dict[str, Any] = {"_date": fast_date, "_time": _time, "_datetime": _datetime}


@functools.cache
def _converter(expr: str) -> Callable[[str], Any]:
    """The converter expression ``expr`` over ``v`` as a function (for the C fixer)."""
    convert: Callable[[str], Any] = eval(f"lambda v: {expr}", dict(_CONVERTERS))
    return convert


@functools.cache
def _annotation(stripped: bool, kind: str, blank: bool) -> Any:
    """A native field's annotation in a twin: made once, as typing hashes each Union member
    (``Literal[""]`` slowly) whenever one is made."""
    native = (_NATIVE_STRIPPED if stripped else _NATIVE)[kind]
    return native | Literal[""] | None if blank else native | None


class _Plan:
    """One compiled decode plan: the lax twin of the root type and the fixer of its tree."""

    def __init__(
        self,
        root: type[msgspec.Struct],
        demoted: frozenset[tuple[type, str]],
        stripped: bool = False,
        blank: frozenset[tuple[type, str]] = frozenset(),
    ) -> None:
        self.demoted = demoted
        self.stripped = stripped
        self.blank = blank
        """Native fields seen blank (stripped plans): they also decode ``""``."""
        self._twins: dict[type, type[msgspec.Struct]] = {}
        lax = self._twin(root)
        self.twin = lax
        """The lax twin of the root type (what the decoder fills; the fixer finishes it)."""
        self.decoder = msgspec.json.Decoder(lax, strict=False)
        self.scalars = self.texts = 0
        self.program = self._program(root)
        self.fix: Callable[[Any], bool] = (
            python_fixer(self.program) if SPEEDUPS is None else c_fixer(self.program, SPEEDUPS)
        )

    def _is_text(self, typed: type, f: Field) -> bool:
        if f.kind in ("date", "time", "datetime") or "/" in f.kind:
            return True
        if f.kind == "num text":
            return True  # its '+' must go
        return (typed, f.attr) in self.demoted

    def _twin(self, typed: type[msgspec.Struct]) -> type[msgspec.Struct]:
        if typed in self._twins:
            return self._twins[typed]
        defs: list[tuple[str, Any, Any]] = []
        for f in layout(typed):
            if f.kind == "list":
                assert f.nested is not None
                ann: Any = list[self._twin(f.nested)]  # type: ignore[misc]
                defs.append((f.attr, ann, msgspec.field(default_factory=list, name=f.wire)))
                continue
            if f.kind == "object":
                assert f.nested is not None
                ann = self._twin(f.nested) | None
            elif self._is_text(typed, f):
                ann = str | None
            else:
                ann = _annotation(self.stripped, f.kind, (typed, f.attr) in self.blank)
            defs.append((f.attr, ann, msgspec.field(default=None, name=f.wire)))
        twin = msgspec.defstruct(typed.__name__, defs, bases=(typed,), module=typed.__module__)
        self._twins[typed] = twin
        return twin

    def _program(self, typed: type[msgspec.Struct]) -> Program:
        ops: list[Op] = []
        for f in layout(typed):
            if f.kind in ("list", "object"):
                assert f.nested is not None
                ops.append(Op(f.kind, f.attr, self._program(f.nested)))
                continue
            self.scalars += 1
            if not self._is_text(typed, f):
                if not self.stripped:
                    continue
                blank = (typed, f.attr) in self.blank
                if f.kind.startswith("abs "):
                    ops.append(Op("abs blank" if blank else "abs", f.attr))
                elif blank:
                    ops.append(Op("blank", f.attr))
                elif f.kind == "str":
                    ops.append(Op("free text", f.attr))
                continue
            self.texts += 1
            if f.kind == "str":
                ops.append(Op("or none", f.attr))
            elif f.kind == "num text":
                ops.append(Op("num text", f.attr))
            elif f.kind in ("date", "time"):
                ops.append(Op(f.kind, f.attr, _CONVERTERS["_" + f.kind], f"_{f.kind}(v)"))
            else:
                expr = _text_fix(f.kind)
                name = _TO_NUMBER.get(f.kind, "call")
                ops.append(Op(name, f.attr, _converter(expr), expr))
        return Program(typed, self._twins[typed], tuple(ops))


# The shapes msgspec's lax mode reads from text, per native kind (JSON number grammar).
_INT = r"-?(?:0|[1-9][0-9]*)"
_FLOAT = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"


@functools.cache
def _reads(stripped: bool) -> dict[str, Callable[[str], object]]:
    """Per native kind, whether msgspec's lax mode reads a text (built with the first survey:
    five regular expressions are not worth compiling for a program that never needs them)."""
    whole = re.compile(_INT).fullmatch
    number = re.compile(_FLOAT).fullmatch
    if stripped:  # free text is read as it comes
        return {"int": whole, "code": whole, "abs int": whole, "float": number, "abs float": number}
    return {
        "int": whole,
        "code": whole,
        "abs int": re.compile(_INT.removeprefix("-?")).fullmatch,
        "float": number,
        "abs float": re.compile(_FLOAT.removeprefix("-?")).fullmatch,
        "str": bool,
    }


def _misfits(
    typed: type[msgspec.Struct],
    data: Any,
    found: set[tuple[type, str]],
    reads: dict[str, Callable[[str], object]],
    blanks: set[tuple[type, str]] | None = None,
    padded: set[tuple[type, str]] | None = None,
) -> None:
    """Collect (class, attribute) of every native field whose text ``data`` holds unreadable;
    with ``blanks``, a blank one goes there instead (stripped plans); with ``padded``, a
    zero-padded number (``"000000012300"``) goes there too."""
    if not isinstance(data, dict):
        return
    for f in layout(typed):
        v = data.get(f.wire)
        if f.nested is not None:
            for item in v if isinstance(v, list) else [v]:
                _misfits(f.nested, item, found, reads, blanks, padded)
        elif isinstance(v, str) and f.kind in reads and not reads[f.kind](v):
            (blanks if blanks is not None and v == "" else found).add((typed, f.attr))
            if padded is not None and _PADDED(v):
                padded.add((typed, f.attr))


# A number with leading zeros: int() and float() read it, msgspec (JSON's grammar) does not.
_PADDED = re.compile(r"-?0[0-9]+(?:\.[0-9]+)?").fullmatch
# The native kinds that share a lesson: one zero-padded field demotes its whole family.
_FAMILY = {"int": "int", "abs int": "int", "float": "float", "abs float": "float"}


def _families(padded: Iterable[tuple[type, str]]) -> set[tuple[type, str]]:
    """Every field of the classes in ``padded`` in the number family (ints or floats) of a
    padded field: a server that pads one quantity of a type pads its others too, so they are
    demoted in the same lesson (one plan, not one per field as each is first seen padded)."""
    wanted: dict[type, set[str]] = {}
    for typed, attr in padded:
        kind = next(f.kind for f in layout(typed) if f.attr == attr)
        wanted.setdefault(typed, set()).add(_FAMILY[kind])
    return {
        (typed, f.attr)
        for typed, families in wanted.items()
        for f in layout(typed)
        if _FAMILY.get(f.kind) in families
    }


def _numbers(
    typed: type[msgspec.Struct], kinds: Iterable[str] = _FAMILY
) -> Iterable[tuple[type, str]]:
    """(class, attribute) of every field of the tree that decodes as a native number (of
    ``kinds``)."""
    for f in layout(typed):
        if f.nested is not None:
            yield from _numbers(f.nested, kinds)
        elif f.kind in kinds:
            yield (typed, f.attr)


def _count_fields(typed: type[msgspec.Struct]) -> int:
    return sum(_count_fields(f.nested) if f.nested is not None else 1 for f in layout(typed))


class FastDecoder:
    """Decodes response bodies of one typed root Struct on the fast road, learning as it goes."""

    def __init__(self, root: type[msgspec.Struct], stripped: bool = False) -> None:
        """``stripped``: bodies arrive with the signs' '+' removed (see the module docstring)."""
        self._root = root
        self._stripped = stripped
        self._lock = threading.Lock()
        # Real-time values come blank now and then (``""``) in any numeric field: a stripped
        # plan reads every number as ``int | ""`` from the start, so a blank never costs a
        # new plan while ticks wait (a plan is 1-5 ms to build; the check is one compare).
        blank = frozenset(_numbers(root)) if stripped else frozenset()
        self._plan = _Plan(root, frozenset(), stripped, blank)
        self._ready: dict[frozenset[tuple[type, str]], _Plan] = {}
        """Plans built ahead, by their demoted fields."""
        ints = frozenset(_numbers(root, ("int", "abs int")))
        if stripped and ints:
            # The one lesson real-time values commonly teach, zero-padded integers
            # (``"000000012300"``), is built now, at subscription (0.1-2 ms a type, the
            # order book's the most), so that learning it on the receive loop is a swap.
            self._ready[ints] = _Plan(root, ints, stripped, blank)
        self.builds = 1
        """Plans taken so far: one, then one per lesson that changed the plan."""
        self.made = 0
        """Plans built while learning (not built ahead)."""
        # Each lesson demotes one field, so no body needs more tries than there are fields.
        self._tries = 1 + _count_fields(root)

    @property
    def useful(self) -> bool:
        """False once most fields turned out to be text: then one fixer statement per field
        costs more than the generated converter of the wire Struct (an order book with every
        price signed: 29 us against 21 us per 0D item), and the caller should take that road.

        A stripped plan is always useful: its alternative decodes the text first and then
        converts every field in Python, while the plan converts only the text fields."""
        plan = self._plan
        return self._stripped or plan.texts <= plan.scalars * _USEFUL_TEXT_SHARE

    @property
    def plan(self) -> _Plan:
        """The current plan: ``plan.twin`` to decode into, then ``plan.fix(obj)``."""
        return self._plan

    def learn(self, raw: bytes | str, build: bool = True) -> bool:
        """Demote every field this body holds unreadable; True if the plan changed.

        ``build=False``: only if that plan was built ahead; a lesson that needs a new plan
        is left for a later body. Raises :class:`Unfit` when the body is not JSON (or not
        UTF-8)."""
        plan = self._plan
        return self._survey(plan, raw, build) is not plan

    def decode(self, raw: bytes | str) -> Any:
        plan = self._plan
        surveyed = False
        for _ in range(self._tries):
            try:
                obj = plan.decoder.decode(raw)
            except msgspec.ValidationError as exc:
                if not surveyed:  # the first lesson of a body: learn all it teaches at once
                    surveyed = True
                    plan = self._survey(plan, raw)
                    continue
                plan = self._learn(plan, str(exc))
                continue
            except (msgspec.DecodeError, UnicodeError):  # not JSON, or not UTF-8
                raise Unfit from None
            try:
                text_seen = plan.fix(obj)
            except (ValueError, TypeError, ArithmeticError, AttributeError):
                raise Unfit from None
            if text_seen:
                raise TextSeen
            return obj
        raise Unfit

    def decode_or_none(self, raw: bytes | str) -> Any:
        """:meth:`decode`, or None where it raises :class:`Unfit` (take the tolerant road)."""
        try:
            return self.decode(raw)
        except Unfit:
            return None

    def _learn(self, plan: _Plan, message: str) -> _Plan:
        """The plan with the field named in a validation error decoded as text, or Unfit."""
        spot = self._locate(message)
        if spot is None or spot in plan.demoted:
            raise Unfit
        with self._lock:
            current = self._plan
            if spot not in current.demoted:
                current = _Plan(self._root, current.demoted | {spot}, self._stripped, current.blank)
                self._plan = current
                self.builds += 1
                self.made += 1
        return current

    def _survey(self, plan: _Plan, raw: bytes | str, build: bool = True) -> _Plan:
        """The plan with every field demoted whose text in this body msgspec would reject
        (with ``build=False``, the current plan unless that one was built ahead)."""
        try:
            data = msgspec.json.decode(raw)
        except (msgspec.DecodeError, UnicodeError):
            raise Unfit from None
        found: set[tuple[type, str]] = set()
        blanks: set[tuple[type, str]] | None = None
        if self._stripped:
            blanks = set()
            padded: set[tuple[type, str]] = set()
            _misfits(self._root, data, found, _reads(True), blanks, padded)
            found |= _families(padded)
        else:
            _misfits(self._root, data, found, _reads(False))
        blanks = blanks or set()
        if found <= plan.demoted and blanks <= plan.blank:
            return plan
        with self._lock:
            current = self._plan
            if not (found <= current.demoted and blanks <= current.blank):
                demoted, blank = current.demoted | found, current.blank | blanks
                ready = self._ready.get(demoted)
                if ready is not None and ready.blank == blank:
                    current = ready
                elif not build:
                    return current
                else:
                    current = _Plan(self._root, demoted, self._stripped, blank)
                    self.made += 1
                self._plan = current
                self.builds += 1
        return current

    def _locate(self, message: str) -> tuple[type, str] | None:
        match = re.search(_AT, message)
        if match is None:
            return None
        typed: type[msgspec.Struct] = self._root
        names = [m.group(1) for m in re.finditer(_SEGMENT, match.group(1)) if m.group(1)]
        for i, wire in enumerate(names):
            f = next((f for f in layout(typed) if f.wire == wire), None)
            if f is None:
                return None
            if i == len(names) - 1:
                return (typed, f.attr) if f.kind not in ("list", "object") else None
            if f.nested is None:
                return None
            typed = f.nested
        return None
