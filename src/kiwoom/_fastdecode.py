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

The *stripped* plan (``stripped=True``) reads text from which every ``'+'`` was removed
first, as the real-time decoder does with a whole frame (one C call): a sign left is a
``'-'``, so magnitudes decode as signed numbers and the fixer takes their absolute value,
and ``"+82"`` costs nothing. The removal is exact for numbers and for "num text" (text that
only ever holds a number, whose '+' every road drops); a field of free text might have lost
a '+', so the fixer raises :class:`TextSeen` when one holds any text, and the caller reads
that body again as sent. A field seen blank (``""``, common in real-time values) is not
demoted: it decodes as ``int | Literal[""]``, still a number in C, and the fixer turns the
blank into None.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from ._convert import Field, layout
from ._values import fast_date, fast_time, to_datetime

__all__ = ["FastDecoder", "TextSeen", "Unfit"]


# Past this share of text fields (signed prices, dates), the fast road stops paying off.
_USEFUL_TEXT_SHARE = 0.5

_AT = re.compile(r"- at `\$(.*)`$")
_SEGMENT = re.compile(r"\.([^.\[]+)|\[\d+\]")

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
    "num text": Annotated[str, Meta(min_length=1)],
    "str": str,  # free text: the fixer checks that it is empty
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
        self._native = _NATIVE_STRIPPED if stripped else _NATIVE
        self._twins: dict[type, type[msgspec.Struct]] = {}
        self._consts: dict[str, Any] = {
            "_date": fast_date,
            "_time": fast_time,
            "_datetime": _datetime,
            "_TextSeen": TextSeen,
            "_E": "",  # compared by identity: CPython has one empty str, msgspec returns it
        }
        lax = self._twin(root)
        self.twin = lax
        """The lax twin of the root type (what the decoder fills; the fixer finishes it)."""
        self.decoder = msgspec.json.Decoder(lax, strict=False)
        self.scalars = self.texts = 0
        body: list[str] = []
        self._emit(root, "o0", 1, body)
        # Constants arrive as default arguments: local loads in the per-row loop.
        defaults = "".join(f", {name}={name}" for name in self._consts)
        source = "\n".join([f"def fix(o0{defaults}):", *body])
        namespace: dict[str, Any] = dict(self._consts)
        exec(compile(source, f"<kiwoom fast decode {root.__name__}>", "exec"), namespace)
        self.fix: Callable[[Any], None] = namespace["fix"]

    def _is_text(self, typed: type, f: Field) -> bool:
        if f.kind in ("date", "time", "datetime") or "/" in f.kind:
            return True
        if f.kind == "num text" and not self.stripped:
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
            elif (typed, f.attr) in self.blank:
                ann = str | None if f.kind == "num text" else self._native[f.kind] | Literal[""]
                ann = ann | None
            else:
                ann = self._native[f.kind] | None
            defs.append((f.attr, ann, msgspec.field(default=None, name=f.wire)))
        twin = msgspec.defstruct(typed.__name__, defs, bases=(typed,), module=typed.__module__)
        self._twins[typed] = twin
        return twin

    def _const(self, value: Any) -> str:
        name = f"_k{len(self._consts)}"
        self._consts[name] = value
        return name

    def _emit(self, typed: type[msgspec.Struct], o: str, depth: int, lines: list[str]) -> None:
        pad = "    " * depth
        lines.append(f"{pad}{o}.__class__ = {self._const(typed)}")
        for f in layout(typed):
            if f.kind == "list":
                assert f.nested is not None
                x = f"o{depth}"
                lines.append(f"{pad}for {x} in {o}.{f.attr}:")
                self._emit(f.nested, x, depth + 1, lines)
            elif f.kind == "object":
                assert f.nested is not None
                x = f"o{depth}"
                lines.append(f"{pad}{x} = {o}.{f.attr}")
                lines.append(f"{pad}if {x} is not None:")
                self._emit(f.nested, x, depth + 1, lines)
            elif not self._is_text(typed, f):
                self.scalars += 1
                if not self.stripped:
                    continue
                blank = (typed, f.attr) in self.blank
                if f.kind.startswith("abs "):  # the '-' left is a direction, not a value
                    # (None, from null or a missing key, raises TypeError: Unfit)
                    if blank:
                        lines.append(f"{pad}if (v := {o}.{f.attr}) is _E:")
                        lines.append(f"{pad}    {o}.{f.attr} = None")
                        lines.append(f"{pad}elif v < 0:")
                    else:
                        lines.append(f"{pad}if (v := {o}.{f.attr}) < 0:")
                    lines.append(f"{pad}    {o}.{f.attr} = -v")
                elif blank:
                    lines.append(f"{pad}if {o}.{f.attr} is _E:")
                    lines.append(f"{pad}    {o}.{f.attr} = None")
                elif f.kind == "str":  # free text might have lost a '+': none is allowed
                    lines.append(f"{pad}if {o}.{f.attr}:")
                    lines.append(f"{pad}    raise _TextSeen")
                    lines.append(f"{pad}{o}.{f.attr} = None")
            elif f.kind == "str":
                self.scalars += 1
                self.texts += 1
                lines.append(f"{pad}{o}.{f.attr} = {o}.{f.attr} or None")
            elif f.kind == "num text":
                self.scalars += 1
                self.texts += 1
                lines.append(f"{pad}v = {o}.{f.attr}")
                lines.append(f'{pad}{o}.{f.attr} = (v.replace("+", "") or None) if v else None')
            else:
                self.scalars += 1
                self.texts += 1
                expr = _text_fix(f.kind)
                lines.append(f"{pad}v = {o}.{f.attr}")
                lines.append(f"{pad}{o}.{f.attr} = {expr} if v else None")


# The shapes msgspec's lax mode reads from text, per native kind (JSON number grammar).
_INT = r"-?(?:0|[1-9][0-9]*)"
_FLOAT = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
_READS: dict[str, Callable[[str], object]] = {
    "int": re.compile(_INT).fullmatch,
    "code": re.compile(_INT).fullmatch,
    "abs int": re.compile(_INT.removeprefix("-?")).fullmatch,
    "float": re.compile(_FLOAT).fullmatch,
    "abs float": re.compile(_FLOAT.removeprefix("-?")).fullmatch,
    "str": bool,
}
_READS_STRIPPED: dict[str, Callable[[str], object]] = {
    **_READS,
    "abs int": _READS["int"],
    "abs float": _READS["float"],
    "num text": bool,
}
del _READS_STRIPPED["str"]  # free text is read as it comes


def _misfits(
    typed: type[msgspec.Struct],
    data: Any,
    found: set[tuple[type, str]],
    reads: dict[str, Callable[[str], object]] = _READS,
    blanks: set[tuple[type, str]] | None = None,
) -> None:
    """Collect (class, attribute) of every native field whose text ``data`` holds unreadable;
    with ``blanks``, a blank one goes there instead (stripped plans)."""
    if not isinstance(data, dict):
        return
    for f in layout(typed):
        v = data.get(f.wire)
        if f.nested is not None:
            for item in v if isinstance(v, list) else [v]:
                _misfits(f.nested, item, found, reads, blanks)
        elif isinstance(v, str) and f.kind in reads and not reads[f.kind](v):
            (blanks if blanks is not None and v == "" else found).add((typed, f.attr))


def _count_fields(typed: type[msgspec.Struct]) -> int:
    return sum(_count_fields(f.nested) if f.nested is not None else 1 for f in layout(typed))


def _datetime(v: str) -> Any:
    result = to_datetime(v)
    if result is None:
        raise ValueError(v)
    return result


class FastDecoder:
    """Decodes response bodies of one typed root Struct on the fast road, learning as it goes."""

    def __init__(self, root: type[msgspec.Struct], stripped: bool = False) -> None:
        """``stripped``: bodies arrive with every '+' removed (see the module docstring)."""
        self._root = root
        self._stripped = stripped
        self._lock = threading.Lock()
        self._plan = _Plan(root, frozenset(), stripped)
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

    def learn(self, raw: bytes | str) -> bool:
        """Demote every field this body holds unreadable; True if the plan changed.

        Raises :class:`Unfit` when the body is not JSON."""
        plan = self._plan
        return self._survey(plan, raw) is not plan

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
            except msgspec.DecodeError:
                raise Unfit from None
            try:
                plan.fix(obj)
            except (ValueError, TypeError, ArithmeticError, AttributeError):
                raise Unfit from None
            return obj
        raise Unfit

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
        return current

    def _survey(self, plan: _Plan, raw: bytes | str) -> _Plan:
        """The plan with every field demoted whose text in this body msgspec would reject."""
        try:
            data = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            raise Unfit from None
        found: set[tuple[type, str]] = set()
        blanks: set[tuple[type, str]] | None = None
        if self._stripped:
            blanks = set()
            _misfits(self._root, data, found, _READS_STRIPPED, blanks)
        else:
            _misfits(self._root, data, found, _READS)
        blanks = blanks or set()
        if found <= plan.demoted and blanks <= plan.blank:
            return plan
        with self._lock:
            current = self._plan
            if not (found <= current.demoted and blanks <= current.blank):
                current = _Plan(
                    self._root,
                    current.demoted | found,
                    self._stripped,
                    current.blank | blanks,
                )
                self._plan = current
        return current

    def _locate(self, message: str) -> tuple[type, str] | None:
        match = _AT.search(message)
        if match is None:
            return None
        typed: type[msgspec.Struct] = self._root
        names = [m.group(1) for m in _SEGMENT.finditer(match.group(1)) if m.group(1)]
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
