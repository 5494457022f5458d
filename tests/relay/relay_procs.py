"""The relay tests' helpers: the REG/REMOVE log, and relay and consumer processes."""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from kiwoom.sim import Simulator

HERE = Path(__file__).parent


class Requests:
    """REG and REMOVE requests the simulator received, per connection."""

    def __init__(self) -> None:
        self.log: list[tuple[int, str, Any]] = []

    def pairs(self, trnm: str, session: int | None = None) -> list[tuple[str, str]]:
        """(type, item) of every ``trnm`` request, repeats kept."""
        out = []
        for sid, name, msg in self.log:
            if name != trnm or (session is not None and sid != session):
                continue
            for d in msg.get("data") or []:
                for t in d.get("type") or []:
                    out += [(t, i) for i in d.get("item") or [""]]
        return out

    def sessions(self) -> list[int]:
        seen: list[int] = []
        for sid, _, _ in self.log:
            if sid not in seen:
                seen.append(sid)
        return seen


def _env() -> dict[str, str]:
    env = dict(os.environ, KIWOOM_APPKEY="relay-appkey", KIWOOM_SECRETKEY="relay-secret")
    src = str(HERE.parent.parent / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


class Processes:
    """Relay and consumer processes of one test, killed at its end whatever happens."""

    def __init__(self, tmp: Path, redis_url: str, namespace: str) -> None:
        self.tmp = tmp
        self.redis_url = redis_url
        self.namespace = namespace
        self.procs: list[subprocess.Popen[str]] = []

    def relay(self, sim: Simulator, *, maxlen: int = 100_000, lease: float = 1.0) -> Any:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kiwoom.relay", "--redis", self.redis_url, "--host", sim.url,
             "--namespace", self.namespace, "--maxlen", str(maxlen), "--lease", str(lease)],
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=open(self.tmp / f"relay-{len(self.procs)}.log", "w"),  # noqa: SIM115
            text=True,
        )  # fmt: skip
        self.procs.append(proc)
        return proc

    def consumer(
        self, name: str, items: list[str], types: list[str], *, stall: float = 0, lease: float = 2
    ) -> Consumer:
        c = Consumer(self, name, items, types, stall, lease)
        self.procs.append(c.proc)
        return c

    def kill_all(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            with contextlib.suppress(Exception):
                p.wait(10)


class Consumer:
    """A RelayClient in a process of its own (tests/relay/relay_consumer.py)."""

    def __init__(
        self, procs: Processes, name: str, items: list[str], types: list[str], stall: float,
        lease: float,
    ) -> None:  # fmt: skip
        self.stop_file = procs.tmp / f"{name}.stop"
        self.out = procs.tmp / f"{name}.json"
        self.log = procs.tmp / f"{name}.log"
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "relay_consumer.py"), procs.redis_url, procs.namespace,
             ",".join(items), ",".join(types), str(self.stop_file), str(self.out), str(stall),
             str(lease)],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=open(self.log, "w"),  # noqa: SIM115
            text=True,
        )  # fmt: skip

    def ready(self, timeout: float = 30) -> None:
        """Wait until its registration returned."""
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else "(no answer)"
        assert line.strip() == "ready", f"consumer failed: {line!r}, {self.log.read_text()}"

    def finish(self, timeout: float = 30, *, drain: bool = False) -> dict[str, Any]:
        """Stop it cleanly (it releases its registrations); its ticks and stats. ``drain``:
        the feed was stopped, and it reads what the streams hold before it stops."""
        import json

        self.stop_file.write_text("drain" if drain else "")
        self.proc.wait(timeout)
        assert self.proc.returncode == 0, self.log.read_text()
        return dict(json.loads(self.out.read_text()))


def wait_for(predicate: Any, timeout: float = 20, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.05)
