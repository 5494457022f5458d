"""Counters of what the simulator did, and the switches that make it misbehave on demand."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Faults", "Stats"]


@dataclass
class Stats:
    """What the simulator served since it started. The server's threads count; read any time."""

    requests: Counter[str] = field(default_factory=Counter)
    """REST requests by api id (rejected ones included)."""
    rejections: Counter[int] = field(default_factory=Counter)
    """Rate-limit rejections by error code (1700, 1701, 1702)."""
    errors: Counter[int] = field(default_factory=Counter)
    """Every other error answer by error code (1511, 8005, ...)."""
    tokens_issued: int = 0
    tokens_revoked: int = 0
    connections: int = 0
    logins: int = 0
    frames_sent: int = 0
    """REAL frames pushed over every socket."""
    items_sent: int = 0
    """Items in those frames."""
    pings_sent: int = 0
    pings_missed: int = 0
    """PINGs the client did not echo before the next one."""

    @property
    def rate_limited(self) -> int:
        """Rate-limit rejections of every code."""
        return sum(self.rejections.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "rejections": {str(k): v for k, v in self.rejections.items()},
            "errors": {str(k): v for k, v in self.errors.items()},
            "tokens_issued": self.tokens_issued,
            "tokens_revoked": self.tokens_revoked,
            "connections": self.connections,
            "logins": self.logins,
            "frames_sent": self.frames_sent,
            "items_sent": self.items_sent,
            "pings_sent": self.pings_sent,
            "pings_missed": self.pings_missed,
        }


class Faults:
    """Switches for tests and users; also reachable as ``POST /sim/faults``.

    >>> sim.faults.fail_next(2, status=503)   # the next two REST calls answer 503
    >>> sim.faults.delay = 0.5                # every REST answer and socket frame waits 0.5 s
    >>> sim.faults.expire_tokens()            # every issued token answers 8005 from now on
    >>> sim.faults.drop()                     # every socket is cut (close code 1011)
    >>> sim.faults.silent = True              # sockets stay open and send nothing
    >>> sim.faults.malformed(3)               # the next three socket frames are garbage
    >>> sim.faults.reconnect_limit = (3, 10)  # >3 connections in 10 s: closed with 1000
    >>> sim.faults.system("점검 예정")         # a SYSTEM frame on every socket
    >>> sim.faults.reset()
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.delay = 0.0
        """Seconds every REST answer and socket frame waits."""
        self.silent = False
        """True: sockets send nothing at all (no PING, no answers, no data)."""
        self.reconnect_limit: tuple[int, float] | None = None
        """(connections, seconds): a connection past that many in that window is closed
        with code 1000 right after it opens, as Kiwoom does to rapid reconnects."""
        self._fail: list[int] = []
        self._malformed = 0
        self._drops = 0
        self._system: list[str] = []
        self._expire = 0

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """The next ``n`` REST requests answer HTTP ``status`` (5xx)."""
        with self._lock:
            self._fail += [status] * n

    def malformed(self, n: int = 1) -> None:
        """The next ``n`` frames the sockets send are not JSON."""
        with self._lock:
            self._malformed += n

    def drop(self) -> None:
        """Cut every open socket (close code 1011, as a server failure)."""
        with self._lock:
            self._drops += 1

    def expire_tokens(self) -> None:
        """Every token issued so far is expired: REST answers 8005, LOGIN is rejected."""
        with self._lock:
            self._expire += 1

    def system(self, message: str, code: str = "R10001") -> None:
        """Send a SYSTEM frame with this message on every open socket."""
        with self._lock:
            self._system.append(f"{code}\x00{message}")

    def reset(self) -> None:
        """Every switch off."""
        with self._lock:
            self.delay = 0.0
            self.silent = False
            self.reconnect_limit = None
            self._fail.clear()
            self._malformed = 0
            self._system.clear()

    def apply(self, action: str, args: dict[str, Any]) -> None:
        """One switch by name (the HTTP form): ``fail_next``, ``malformed``, ``drop``,
        ``expire_tokens``, ``system``, ``reset``, ``delay``, ``silent``, ``reconnect_limit``."""
        if action in ("delay", "silent"):
            setattr(self, action, args["value"])
        elif action == "reconnect_limit":
            value = args.get("value")
            self.reconnect_limit = None if value is None else (int(value[0]), float(value[1]))
        elif action in ("fail_next", "malformed", "drop", "expire_tokens", "system", "reset"):
            getattr(self, action)(**args)
        else:
            raise ValueError(f"unknown fault {action!r}")

    # -- read by the server ----------------------------------------------------------------

    def take_failure(self) -> int | None:
        with self._lock:
            return self._fail.pop(0) if self._fail else None

    def take_malformed(self) -> bool:
        with self._lock:
            if self._malformed:
                self._malformed -= 1
                return True
            return False

    @property
    def drops(self) -> int:
        return self._drops

    @property
    def expirations(self) -> int:
        return self._expire

    def system_messages(self) -> list[str]:
        with self._lock:
            return list(self._system)
