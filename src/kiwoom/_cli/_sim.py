"""``kiwoom sim``: serve the simulator until stopped."""

from __future__ import annotations

import time

from . import _render
from ._settings import simulator


def serve(*, bind: str, port: int, seed: int, speed: float) -> None:
    with simulator(seed=seed, speed=speed, host=bind, port=port) as sim:
        out = _render.console()
        out.print(f"Kiwoom simulator (seed {seed}, speed {speed}x)")
        out.print(f"REST       {sim.url}")
        out.print(f"WebSocket  {sim.ws_url}")
        out.print(
            f'use it with kiwoom.Kiwoom(host="{sim.url}", appkey="any", secretkey="any") '
            f"or kiwoom --host {sim.url} ...; Ctrl-C stops it",
            soft_wrap=True,
        )
        out.file.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            out.print("stopped")
