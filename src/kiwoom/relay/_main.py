"""``python -m kiwoom.relay``: run the relay in the foreground until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Sequence

from .._constants import REAL
from . import _keys

__all__ = ["main"]

ENV_REDIS_URL = "KIWOOM_REDIS_URL"
DEFAULT_REDIS_URL = "redis://localhost:6379/0"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kiwoom relay",
        description="Hold Kiwoom's real-time socket and share it through Redis. The app key "
        "and secret come from KIWOOM_APPKEY and KIWOOM_SECRETKEY.",
    )
    p.add_argument(
        "--redis",
        default=os.environ.get(ENV_REDIS_URL, DEFAULT_REDIS_URL),
        help=f"Redis URL (default ${ENV_REDIS_URL} or {DEFAULT_REDIS_URL})",
    )
    p.add_argument("--host", default=REAL, help="Kiwoom host (or a simulator's URL)")
    p.add_argument("--region", default="domestic", choices=["domestic", "us"])
    p.add_argument("--namespace", default=_keys.NAMESPACE, help="Redis key prefix")
    p.add_argument("--maxlen", type=int, default=_keys.MAXLEN, help="entries kept per type")
    p.add_argument(
        "--lease", type=float, default=_keys.RELAY_LEASE, help="seconds the relay lock outlives it"
    )
    return p


async def serve(args: argparse.Namespace) -> None:
    from .._async import AsyncKiwoom
    from ._relay import Relay

    async with AsyncKiwoom(host=args.host) as client:
        relay = Relay(
            client.realtime(args.region),
            args.redis,
            namespace=args.namespace,
            maxlen=args.maxlen,
            lease=args.lease,
        )
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        if task is not None:
            with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
                loop.add_signal_handler(signal.SIGTERM, task.cancel)
        logging.getLogger("kiwoom.relay").info("relay serving namespace %s", args.namespace)
        await relay.run()


def main(argv: Sequence[str] | None = None) -> None:
    """The relay's command line (``kiwoom relay``, ``python -m kiwoom.relay``)."""
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        asyncio.run(serve(args))
