"""Output: rich tables on a terminal, tab-separated lines in a pipe, JSON on request."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
from rich.console import Console
from rich.table import Table

_ENCODE = msgspec.json.Encoder().encode


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def console() -> Console:
    """A console on the current ``sys.stdout`` (tests swap it)."""
    return Console(file=sys.stdout, highlight=False)


def err_console() -> Console:
    return Console(file=sys.stderr, highlight=False)


def text(value: Any) -> str:
    """One value as a cell: ``None`` blank, numbers with thousands separators, dates ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Rows under a header: a rich table on a terminal; in a pipe, tab-separated lines (for
    grep, cut and spreadsheets): ``# title``, the header, then values unformatted."""
    if not stdout_is_terminal():
        out = sys.stdout
        if title:
            out.write(f"# {title}\n")
        if any(columns):
            out.write("\t".join(columns) + "\n")
        for row in rows:
            out.write("\t".join(_plain(v) for v in row) + "\n")
        out.flush()
        return
    t = Table(title=title, title_justify="left", header_style="bold", show_header=any(columns))
    rows = list(rows)
    for i, name in enumerate(columns):
        numeric = all(isinstance(r[i], int | float) for r in rows if r[i] is not None)
        t.add_column(name, overflow="fold", justify="right" if numeric and rows else "left")
    for row in rows:
        t.add_row(*(text(v) for v in row))
    console().print(t)


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).replace("\t", " ").replace("\n", " ")


def json_line(value: Any) -> None:
    """One JSON document on one line (typed values; structs keep their wire names)."""
    sys.stdout.write(_ENCODE(value).decode() + "\n")
    sys.stdout.flush()


def fields(struct_type: type[msgspec.Struct]) -> tuple[msgspec.structs.FieldInfo, ...]:
    return msgspec.structs.fields(struct_type)


def is_row_list(value: Any) -> bool:
    return isinstance(value, list) and (not value or isinstance(value[0], msgspec.Struct))


def response(resp: msgspec.Struct, title: str) -> None:
    """A typed response: its scalar fields as one table, then each row list as a table."""
    scalars = []
    lists = []
    for f in fields(type(resp)):
        value = getattr(resp, f.name)
        if is_row_list(value):
            lists.append((f.encode_name, value))
        elif value is not None:
            scalars.append((f.encode_name, value))
    table(title, ("field", "value"), scalars)
    for name, rows in lists:
        struct_rows(f"{name}: {len(rows)} rows", rows)


def struct_rows(title: str, rows: Sequence[msgspec.Struct]) -> None:
    """Rows of one Struct type as a table: the columns that hold a value in any row."""
    if not rows:
        table(title, ("(no rows)",), ())
        return
    infos = [f for f in fields(type(rows[0])) if any(getattr(r, f.name) is not None for r in rows)]
    table(
        title,
        [f.encode_name for f in infos],
        ([getattr(r, f.name) for f in infos] for r in rows),
    )
