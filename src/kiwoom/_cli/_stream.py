"""``kiwoom stream``: real-time ticks of one type as a live table or NDJSON."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import msgspec
from rich.live import Live
from rich.table import Table

from .. import catalog
from .._async import AsyncKiwoom
from . import _render
from ._catalog import lookup
from ._settings import CommandError, Settings, connect

MAX_COLUMNS = 10
"""Fields shown in the live table: the first ones a tick of the type carries."""

EVENT_TYPES = ("00", "04")
"""Types registered without items (own orders, balance)."""


def _values(tick: Any) -> dict[str, Any]:
    return {k: v for k, v in msgspec.structs.asdict(tick.values).items() if v is not None}


def stream(
    settings: Settings,
    type_name: str,
    codes: list[str],
    *,
    as_json: bool,
    count: int | None,
    duration: float | None,
) -> None:
    entry = lookup(type_name, "realtime")
    if not codes and entry.api_id not in EVENT_TYPES:
        raise CommandError(f"{entry.api_id} ({entry.name}) needs at least one stock code")
    if len(codes) > 100:
        raise CommandError(f"at most 100 codes per stream, got {len(codes)}")
    with connect(settings) as target:
        asyncio.run(_run(target, entry, codes, as_json, count, duration))


async def _run(
    target: Any,
    entry: catalog.Entry,
    codes: list[str],
    as_json: bool,
    count: int | None,
    duration: float | None,
) -> None:
    started = time.monotonic()
    seen = 0
    latest: dict[str, dict[str, Any]] = {}
    columns: list[str] = []
    live: Live | None = None
    async with (
        AsyncKiwoom(target.appkey, target.secretkey, host=target.host) as client,
        client.realtime(region=entry.region) as rt,
        rt.stream(entry.api_id, codes or None) as ticks,
    ):
        await rt.register(codes, [entry.api_id], group="1")
        if not as_json:
            live = Live(_table(entry, latest, columns, 0, 0.0), console=_render.console())
            live.start()
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(duration):
                    async for tick in ticks:
                        seen += 1
                        values = _values(tick)
                        if as_json:
                            _render.json_line(
                                {
                                    "type": tick.type,
                                    "name": tick.name,
                                    "item": tick.item,
                                    "values": values,
                                }
                            )
                        else:
                            assert live is not None
                            if not columns:
                                columns.extend(list(values)[:MAX_COLUMNS])
                            latest[tick.item] = values
                            elapsed = time.monotonic() - started
                            live.update(_table(entry, latest, columns, seen, elapsed))
                        if count is not None and seen >= count:
                            break
        finally:
            if live is not None:
                live.stop()


def _table(
    entry: catalog.Entry,
    latest: dict[str, dict[str, Any]],
    columns: list[str],
    seen: int,
    elapsed: float,
) -> Table:
    t = Table(
        title=f"{entry.api_id} {entry.name}: {seen} ticks in {elapsed:.1f} s",
        title_justify="left",
        header_style="bold",
    )
    t.add_column("item")
    for name in columns:
        t.add_column(name, justify="right")
    for item, values in sorted(latest.items()):
        t.add_row(item, *(_render.text(values.get(c)) for c in columns))
    return t
