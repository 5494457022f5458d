"""``kiwoom catalog`` and the lookup of an API by id or method name (case-insensitive)."""

from __future__ import annotations

import ast
import inspect
import itertools
import typing
from functools import cache

import msgspec

from .. import catalog
from . import _render
from ._settings import CommandError


def _method_name(entry: catalog.Entry) -> str:
    """``chart.daily``, ``us.chart.daily``, ``realtime.trade``: the name docs/api.md uses."""
    group = entry.group.removeprefix("domestic.")
    return f"{group}.{entry.method}"


@cache
def _index() -> dict[str, catalog.Entry]:
    out: dict[str, catalog.Entry] = {}
    for e in catalog.entries():
        out[_method_name(e).lower()] = e
    for e in catalog.entries():
        out[e.api_id.lower()] = e
    return out


def find(name: str) -> catalog.Entry | None:
    """The entry of an API id (``KA10081``) or method name (``chart.daily``), any case."""
    return _index().get(name.strip().lower())


def lookup(name: str, kind: str | None = None) -> catalog.Entry:
    """Like :func:`find`, raising a one-line error naming what was asked for."""
    entry = find(name)
    if entry is None or (kind is not None and entry.kind != kind):
        what = "a REST API" if kind == "rest" else "a real-time type" if kind else "an API"
        raise CommandError(
            f"{name!r} is not {what} id or method name of the catalogue (see `kiwoom catalog`)"
        )
    return entry


def search(term: str) -> list[catalog.Entry]:
    """Entries whose id, Korean name, group or method name contains ``term`` (any case)."""
    t = term.strip().lower()
    return [
        e
        for e in catalog.entries()
        if t in e.api_id.lower() or t in e.name.lower() or t in _method_name(e).lower()
    ]


def list_entries(entries: list[catalog.Entry]) -> None:
    _render.table(
        f"{len(entries)} entries",
        ("id", "kind", "method", "name", "flags"),
        ((e.api_id, e.kind, _method_name(e), e.name, _flags(e)) for e in entries),
    )


def _flags(e: catalog.Entry) -> str:
    flags = ["order"] if e.is_order else []
    if e.pages:
        flags.append("paging")
    if not e.mock:
        flags.append("no mock")
    return ", ".join(flags)


@cache
def labels(struct_type: type) -> dict[str, str]:
    """Field name -> the first line of its docstring (Korean label, unit, format)."""
    try:
        tree = ast.parse(inspect.getsource(struct_type))
    except (OSError, TypeError, SyntaxError):
        return {}
    out: dict[str, str] = {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    for stmt, after in itertools.pairwise(body):
        if (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            out[stmt.target.id] = after.value.value.strip().splitlines()[0]
    return out


def _type_text(tp: object) -> str:
    text = str(tp).replace("datetime.", "").replace("typing.", "")
    return text.removeprefix("<class '").removesuffix("'>")


def _row_type(tp: object) -> type[msgspec.Struct] | None:
    if typing.get_origin(tp) is list:
        (arg,) = typing.get_args(tp)
        if isinstance(arg, type) and issubclass(arg, msgspec.Struct):
            return arg
    return None


def _field_rows(struct_type: type[msgspec.Struct], indent: str = "") -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    names = labels(struct_type)
    for f in msgspec.structs.fields(struct_type):
        row_type = _row_type(f.type)
        shown = "list of rows" if row_type is not None else _type_text(f.type)
        required = "yes" if f.required else ""
        rows.append((indent + f.encode_name, shown, required, names.get(f.name, "")))
        if row_type is not None:
            rows.extend(_field_rows(row_type, indent + "  "))
    return rows


def describe(e: catalog.Entry) -> None:
    """One entry: what it is, where it goes, and its request and response fields."""
    call = f"rt.stream({e.api_id!r})" if e.kind == "realtime" else f"client.{_method_name(e)}(...)"
    facts = [
        ("id", e.api_id),
        ("name", e.name),
        ("kind", e.kind),
        ("group", e.group),
        ("path", e.path),
        ("python", call),
        ("flags", _flags(e)),
    ]
    _render.table(f"{e.api_id} {e.name}", ("", ""), facts)
    head = ("field", "type", "required", "label")
    if e.request_type is not None:
        req = e.request_type
        _render.table(f"request {req.__name__}", head, _field_rows(req))
    resp = e.response_type
    what = "values (wire names are FIDs)" if e.kind == "realtime" else "response"
    _render.table(f"{what} {resp.__name__}", head, _field_rows(resp))
