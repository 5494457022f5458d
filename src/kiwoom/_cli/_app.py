"""The ``kiwoom`` command: sub-commands, global options, and one-line errors."""

# No ``from __future__ import annotations``: typer reads the annotations at run time.

import datetime as dt
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .. import catalog
from ..errors import KiwoomError
from . import _catalog
from ._settings import CommandError, Settings, profile_path, resolve_host

app = typer.Typer(
    name="kiwoom",
    help=(
        "Kiwoom Securities (키움증권) REST and WebSocket API from the shell. "
        "Try `kiwoom demo`: a bot trading against an in-process simulator."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
order_app = typer.Typer(
    help="Place, modify or cancel a domestic order (a dry run unless --confirm).",
    no_args_is_help=True,
)
app.add_typer(order_app, name="order")


def _settings(ctx: typer.Context) -> Settings:
    obj = ctx.find_object(Settings)
    return obj if obj is not None else Settings()


@app.callback()
def _options(
    ctx: typer.Context,
    host: Annotated[
        str | None,
        typer.Option(
            help="sim (an in-process simulator), mock, real, or a base URL. "
            "Default: the profile's host, else real.",
            show_default=False,
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(help=f"Profile (table) of {profile_path()} to use; default: 'default'."),
    ] = None,
) -> None:
    if host is not None:
        resolve_host(host)  # a bad --host is an error before anything runs
    ctx.obj = Settings(host=host, profile=profile)


# --- the catalogue -------------------------------------------------------------------------


@app.command("catalog")
def catalog_command(
    search: Annotated[
        str | None, typer.Argument(help="An id or method name to describe, or text to search.")
    ] = None,
) -> None:
    """List the catalogue, describe one entry (fields, types, labels), or search it."""
    if search is None:
        _catalog.list_entries(list(catalog.entries()))
        return
    entry = _catalog.find(search)
    if entry is not None:
        _catalog.describe(entry)
        return
    found = _catalog.search(search)
    if not found:
        raise CommandError(f"nothing in the catalogue matches {search!r}")
    if len(found) == 1:
        _catalog.describe(found[0])
    else:
        _catalog.list_entries(found)


@app.command()
def decode(
    api_id: Annotated[str, typer.Argument(help="API id or real-time type (ka10081, 0B).")],
    file: Annotated[
        Path | None, typer.Argument(help="A response body (or real-time values) file; else stdin.")
    ] = None,
) -> None:
    """Decode a response body (or one real-time `values` object) into typed values."""
    entry = _catalog.lookup(api_id)
    if file is not None and not file.is_file():
        raise CommandError(f"{file}: no such file")
    raw = file.read_bytes() if file is not None else sys.stdin.buffer.read()
    print(entry.decode(raw))


# --- calls ---------------------------------------------------------------------------------


@app.command(context_settings={"ignore_unknown_options": True})
def call(
    ctx: typer.Context,
    api: Annotated[str, typer.Argument(help="API id (ka10081) or method name (chart.daily).")],
    fields: Annotated[
        list[str] | None, typer.Argument(help="Request fields as key=value (wire names).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the typed response as JSON.")
    ] = False,
    all_pages: Annotated[
        bool, typer.Option("--all-pages", help="Follow cont-yn/next-key; merge every page.")
    ] = False,
    confirm: Annotated[
        bool, typer.Option("--confirm", help="Send an order API (otherwise a dry run).")
    ] = False,
) -> None:
    """Call any REST API by id or method name with key=value request fields (wire names).

    kiwoom call chart.daily stk_cd=005930 base_dt=20250908 upd_stkpc_tp=1"""
    from ._call import call as run_call

    run_call(
        _settings(ctx), api, fields or [], as_json=as_json, all_pages=all_pages, confirm=confirm
    )


_DATE_FORMATS = ["%Y-%m-%d", "%Y%m%d"]


def _date(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


@app.command()
def candles(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Stock code (005930).")],
    period: Annotated[
        str, typer.Option("--period", "-p", help="tick | min | day | week | month | year")
    ] = "day",
    start: Annotated[
        dt.datetime | None,
        typer.Option(formats=_DATE_FORMATS, help="First day (default: as far back as served)."),
    ] = None,
    end: Annotated[
        dt.datetime | None, typer.Option(formats=_DATE_FORMATS, help="Last day (default: today).")
    ] = None,
    interval: Annotated[
        int, typer.Option(help="Ticks per candle (tick) or minutes per candle (min).")
    ] = 1,
    adjusted: Annotated[bool, typer.Option(help="Prices adjusted for splits and rights.")] = True,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to a .csv or .parquet file.")
    ] = None,
) -> None:
    """Candles of a stock over a date range, paged with a progress bar (ka10079-ka10094).

    Columns: time, open, high, low, close, volume, amount (거래대금 in 백만원, day and longer)."""
    from ._candles import candles as run_candles

    run_candles(
        _settings(ctx), code, period=period, start=_date(start), end=_date(end),
        interval=interval, adjusted=adjusted, output=output,
    )  # fmt: skip


@app.command()
def stream(
    ctx: typer.Context,
    type_: Annotated[str, typer.Argument(metavar="TYPE", help="Real-time type (0B, 0D, 00, ...).")],
    codes: Annotated[list[str] | None, typer.Argument(help="Stock codes.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per tick.")] = False,
    count: Annotated[int | None, typer.Option(help="Stop after this many ticks.")] = None,
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
) -> None:
    """Real-time ticks as a live table (latest per stock), or NDJSON with --json."""
    from ._stream import stream as run_stream

    run_stream(_settings(ctx), type_, codes or [], as_json=as_json, count=count, duration=duration)


# --- orders --------------------------------------------------------------------------------

Confirm = Annotated[bool, typer.Option("--confirm", help="Send it (otherwise a dry run).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the typed response as JSON.")]
Exchange = Annotated[str, typer.Option(help="KRX, NXT or SOR.")]


def _order(ctx: typer.Context, action: str, confirm: bool, as_json: bool, **fields: Any) -> None:
    from ._call import order_request, send

    entry, body = order_request(action, **fields)
    send(_settings(ctx), entry, body, as_json=as_json, confirm=confirm)


@order_app.command()
def buy(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Stock code.")],
    qty: Annotated[int, typer.Argument(help="Shares.")],
    price: Annotated[
        int | None, typer.Option(help="Limit price (원); none: at the market.")
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option("--type", help="limit, market, best, first, or a 매매구분 code (trde_tp)."),
    ] = None,
    exchange: Exchange = "KRX",
    confirm: Confirm = False,
    as_json: AsJson = False,
) -> None:
    """Buy (kt10000)."""
    _order(
        ctx, "buy", confirm, as_json, code=code, qty=qty, price=price, kind=kind, exchange=exchange
    )


@order_app.command()
def sell(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Stock code.")],
    qty: Annotated[int, typer.Argument(help="Shares.")],
    price: Annotated[
        int | None, typer.Option(help="Limit price (원); none: at the market.")
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option("--type", help="limit, market, best, first, or a 매매구분 code (trde_tp)."),
    ] = None,
    exchange: Exchange = "KRX",
    confirm: Confirm = False,
    as_json: AsJson = False,
) -> None:
    """Sell (kt10001)."""
    _order(
        ctx, "sell", confirm, as_json, code=code, qty=qty, price=price, kind=kind, exchange=exchange
    )


@order_app.command()
def modify(
    ctx: typer.Context,
    order_no: Annotated[str, typer.Argument(help="The order's 주문번호.")],
    code: Annotated[str, typer.Argument(help="Stock code.")],
    qty: Annotated[int, typer.Argument(help="Shares to modify.")],
    price: Annotated[int, typer.Option(help="New price (원).")],
    exchange: Exchange = "KRX",
    confirm: Confirm = False,
    as_json: AsJson = False,
) -> None:
    """Modify an open order's price (kt10002)."""
    _order(
        ctx, "modify", confirm, as_json, code=code, qty=qty, price=price, order_no=order_no,
        exchange=exchange,
    )  # fmt: skip


@order_app.command()
def cancel(
    ctx: typer.Context,
    order_no: Annotated[str, typer.Argument(help="The order's 주문번호.")],
    code: Annotated[str, typer.Argument(help="Stock code.")],
    qty: Annotated[int, typer.Argument(help="Shares to cancel; 0: all that is open.")] = 0,
    exchange: Exchange = "KRX",
    confirm: Confirm = False,
    as_json: AsJson = False,
) -> None:
    """Cancel an open order (kt10003)."""
    _order(
        ctx, "cancel", confirm, as_json, code=code, qty=qty, order_no=order_no, exchange=exchange
    )


# --- the simulator and the demo ------------------------------------------------------------


@app.command()
def sim(
    port: Annotated[int, typer.Option(help="Port; 0 picks a free one.")] = 8000,
    seed: Annotated[int, typer.Option(help="Seed of the market model: a run repeats.")] = 7,
    speed: Annotated[float, typer.Option(help="Simulated seconds per real second.")] = 1.0,
    bind: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Serve the Kiwoom simulator (REST and WebSocket) until stopped."""
    from ._sim import serve

    serve(bind=bind, port=port, seed=seed, speed=speed)


@app.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
def relay(ctx: typer.Context) -> None:
    """Hold the real-time socket and share it through Redis (the redis extra); --help: options."""
    from ..relay import main as relay_main

    relay_main(ctx.args)


@app.command()
def demo(
    ctx: typer.Context,
    qty: Annotated[int, typer.Option(help="Shares the bot buys.")] = 10,
    watch: Annotated[float, typer.Option(help="Seconds of ticks before it buys.")] = 2.0,
) -> None:
    """A bot trading end to end against an in-process simulator (or --host mock, with keys)."""
    from ._demo import demo as run_demo

    run_demo(_settings(ctx), qty=qty, watch=watch)


# --- running -------------------------------------------------------------------------------


def _error(message: str) -> None:
    sys.stderr.write(f"kiwoom: {message}\n")
    sys.stderr.flush()


def _silence_stdout() -> None:
    """After a closed pipe (``kiwoom catalog | head``): nothing more reaches stdout, and
    Python's flush at exit must not fail on it."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def run(argv: list[str] | None = None) -> int:
    """Run the command; every failure is one line on stderr and an exit status, never a trace."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="kiwoom", standalone_mode=False)
    except BrokenPipeError:
        _silence_stdout()
        return 1
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except KiwoomError as exc:
        _error(str(exc))
        return 1
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        _error(f"{exc.strerror or exc}{where}")
        return 1
    except Exception as exc:
        usage = _usage_error(exc)
        if usage is None:
            raise
        return usage
    return result if isinstance(result, int) else 0


def _usage_error(exc: Exception) -> int | None:
    """The exit status of typer's (or click's, in older typers) usage errors and aborts, after
    saying what went wrong in one line; None for anything else."""
    name = type(exc).__name__
    if name == "Abort":
        _error("aborted")
        return 1
    code = getattr(exc, "exit_code", None)
    if not isinstance(code, int) or not hasattr(exc, "format_message"):
        return None
    message = exc.format_message()
    if name == "NoArgsIsHelpError":  # a command group without a sub-command: its help
        sys.stdout.write(message + "\n")
        return 0
    _error(message)
    return code
