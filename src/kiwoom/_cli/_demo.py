"""``kiwoom demo``: the example bot of :mod:`kiwoom.demo` against an in-process simulator."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from rich.progress import BarColumn, Progress, TaskID, TextColumn

from .. import demo as bot
from .._async import AsyncKiwoom
from .._fastdecode import fixers_road
from . import _render
from ._settings import SIM, Settings, Target, connect


def demo(settings: Settings, *, qty: int, watch: float) -> bot.Summary:
    """Run the bot; the simulator unless ``--host`` says otherwise (never the profile's host:
    the demo places an order)."""
    chosen = dataclasses.replace(settings, host=settings.host or SIM)
    with connect(chosen) as target:
        summary = asyncio.run(_run(target, qty, watch))
    show(summary)
    return summary


class _Reporter:
    """Steps as lines; paging as progress bars, which stay on screen once the next step comes."""

    def __init__(self) -> None:
        self.console = _render.console()
        self.progress: Progress | None = None
        self.tasks: dict[str, TaskID] = {}

    def step(self, text: str) -> None:
        self.close()
        self.console.print(f"[bold]>[/bold] {text}")

    def advance(self, name: str, done: int, total: int) -> None:
        if self.progress is None:
            self.progress = Progress(
                TextColumn("  {task.description:<8}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total} days"),
                console=self.console,
                disable=not self.console.is_terminal,
            )
            self.progress.start()
            self.tasks = {}
        if name not in self.tasks:
            self.tasks[name] = self.progress.add_task(name, total=total)
        self.progress.update(self.tasks[name], completed=done)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


async def _run(target: Target, qty: int, watch: float) -> bot.Summary:
    report = _Reporter()
    try:
        async with AsyncKiwoom(target.appkey, target.secretkey, host=target.host) as client:
            return await bot.run(
                client, qty=qty, watch=watch, step=report.step, progress=report.advance
            )
    finally:
        report.close()


def show(s: bot.Summary) -> None:
    filled = sum(f.qty for f in s.fills)
    avg = sum(f.price * f.qty for f in s.fills) // filled if filled else None
    facts: list[tuple[str, Any]] = [
        ("stocks listed (KOSPI)", s.listed),
        (
            "daily candles",
            ", ".join(f"{c} {n}" for c, n in s.candles.items()) + f" ({s.pages} pages)",
        ),
        ("ticks", ", ".join(f"{t} {n}" for t, n in s.ticks.items())),
        ("order", f"{s.order_no}: {filled} filled in {len(s.fills)} execution(s), avg {avg}"),
        ("04 balance events", s.balance_events),
    ]
    p = s.position
    if p is not None:
        facts.append(("position", f"{p.code} {p.name}: {p.qty} @ {p.avg_price:,}, now {p.price:,}"))
        facts.append(("position P&L", f"{p.pnl:+,} ({p.return_pct:+.2f}%)"))
    facts.append(("cash (D+2)", s.cash))
    facts.append(("P&L (unrealised)", s.pnl))
    facts.append(("seconds", s.seconds))
    facts.append(("fast decode fixers", fixers_road()))
    _render.table("demo summary", ("", ""), facts)
