"""Where a command connects: the host, the keys (env vars or a 0600 profile file), a simulator.

The profile file is ``$XDG_CONFIG_HOME/kiwoom/profile.toml`` (``~/.config/kiwoom/profile.toml``),
one table per profile, ``[default]`` unless ``--profile`` names another::

    [default]
    host = "mock"                 # sim | mock | real | a base URL
    appkey = "..."
    secretkey = "..."

It holds secrets, so it must be readable by its owner only (``chmod 600``): the command refuses
to read it otherwise.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._constants import ENV_APPKEY, ENV_SECRETKEY, MOCK, REAL
from ..errors import KiwoomError

HOSTS = {"mock": MOCK, "real": REAL}
SIM = "sim"
SIM_KEY = "sim"
"""The simulator takes any app key and secret key."""


class CommandError(KiwoomError):
    """A one-line error of the command line itself (bad option, unreadable profile, ...)."""


def profile_path() -> Path:
    """``$XDG_CONFIG_HOME/kiwoom/profile.toml``, or ``~/.config/kiwoom/profile.toml``."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "kiwoom" / "profile.toml"


def read_profile(name: str | None) -> dict[str, Any]:
    """The table ``name`` (``default`` when None) of the profile file; {} if there is none.

    Refuses a file others may read or write, and an explicitly named profile that is missing.
    """
    path = profile_path()
    try:
        st = path.stat()
    except FileNotFoundError:
        if name is not None:
            raise CommandError(f"profile {name!r} asked for, but {path} does not exist") from None
        return {}
    if sys.platform != "win32" and stat.S_IMODE(st.st_mode) & 0o077:
        mode = oct(stat.S_IMODE(st.st_mode))[2:]
        raise CommandError(f"{path} holds secrets and is mode {mode}: run `chmod 600 {path}` first")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CommandError(f"{path}: {exc}") from None
    table = data.get(name or "default")
    if table is None:
        if name is not None:
            raise CommandError(f"{path} has no [{name}] profile")
        return {}
    if not isinstance(table, dict):
        raise CommandError(f"{path}: [{name or 'default'}] must be a table")
    return table


def resolve_host(host: str) -> str:
    """``mock``/``real`` as Kiwoom's base URLs, a URL as is; ``sim`` stays ``sim``."""
    key = host.strip().lower()
    if key == SIM:
        return SIM
    if key in HOSTS:
        return HOSTS[key]
    if key.startswith(("http://", "https://")):
        return host.strip().rstrip("/")
    raise CommandError(f"--host must be sim, mock, real or an http(s):// URL, got {host!r}")


@dataclass
class Settings:
    """The global options of one invocation."""

    host: str | None = None
    profile: str | None = None
    seed: int = 7
    """Seed of an in-process simulator (``--host sim``)."""


@dataclass
class Target:
    """Where to connect: a base URL and the keys for it (sim: the simulator's own URL)."""

    host: str
    appkey: str
    secretkey: str


def _keys(profile: dict[str, Any], host: str) -> tuple[str, str]:
    appkey = os.environ.get(ENV_APPKEY) or profile.get("appkey")
    secretkey = os.environ.get(ENV_SECRETKEY) or profile.get("secretkey")
    if not appkey or not secretkey:
        raise CommandError(
            f"no keys for {host}: set {ENV_APPKEY} and {ENV_SECRETKEY}, or write them into "
            f"{profile_path()} (mode 0600); or try --host sim"
        )
    return str(appkey), str(secretkey)


def host_of(settings: Settings, default: str = "real") -> str:
    """The resolved host of an invocation: --host, else the profile's, else ``default``."""
    if settings.host is not None:
        return resolve_host(settings.host)
    profile = read_profile(settings.profile)
    return resolve_host(str(profile.get("host", default)))


@contextlib.contextmanager
def connect(settings: Settings, default: str = "real") -> Iterator[Target]:
    """The target of a command, for its duration; ``sim`` runs a simulator in this process."""
    host = host_of(settings, default)
    if host != SIM:
        profile = read_profile(settings.profile)
        yield Target(host, *_keys(profile, host))
        return
    with simulator(seed=settings.seed) as sim:
        yield Target(sim.url, SIM_KEY, SIM_KEY)


@contextlib.contextmanager
def simulator(**options: Any) -> Iterator[Any]:
    """A :class:`kiwoom.sim.Simulator` for the block, or a one-line error if it can't run."""
    try:
        from ..sim import Simulator
    except ImportError as exc:
        raise CommandError(
            f"the simulator needs its extra: pip install 'kiwoom[sim]' ({exc})"
        ) from None
    with Simulator(**options) as sim:
        yield sim
