"""Debug logging of each exchange (logger ``kiwoom``), with keys and tokens masked.

A client made with ``debug=True`` (or ``KIWOOM_DEBUG=1``) logs whatever the ``kiwoom``
logger's level, since the flag is the request. Where the application has configured no
handler (on ``kiwoom`` or any ancestor, root included) the lines go to stderr, so the flag
never prints nothing; with a handler they go there only.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from ._constants import ENV_DEBUG, LOG_BODY_LIMIT, LOGGER_NAME

__all__ = ["debug_enabled", "emit", "log_extra", "log_request", "log_response", "logger", "mask"]

logger = logging.getLogger(LOGGER_NAME)

# Patterns compiled on first use (re caches them): a client that logs nothing and meets no
# error never masks a text.
_SECRET_JSON = r'(?i)("(?:token|appkey|secretkey)"\s*:\s*")[^"]*(")'
_BEARER = r"(?i)(Bearer\s+)\S+"
_SECRET_HEADERS = frozenset({"authorization", "appkey", "secretkey", "token"})
MASK = "***"
_STDERR_FORMAT = logging.Formatter("%(asctime)s kiwoom DEBUG %(message)s")


def debug_enabled(flag: bool | None) -> bool:
    """The ``debug=`` argument, else ``KIWOOM_DEBUG`` set to anything but ``""``/``0``."""
    if flag is not None:
        return flag
    return os.environ.get(ENV_DEBUG, "") not in ("", "0", "false", "False")


def emit(msg: str, *args: Any) -> None:
    """Log one debug line of a ``debug=True`` client: to the configured handlers, or stderr."""
    record = logger.makeRecord(logger.name, logging.DEBUG, __file__, 0, msg, args, None)
    if logger.hasHandlers():
        # handle(), not debug(): the client's flag is the level; filters and handlers still apply.
        logger.handle(record)
    else:
        sys.stderr.write(_STDERR_FORMAT.format(record) + "\n")


def mask(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret value, JSON secret field and bearer token masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    text = re.sub(_SECRET_JSON, rf"\1{MASK}\2", text)
    return re.sub(_BEARER, rf"\1{MASK}", text)


def _body(content: bytes, secrets: Iterable[str]) -> str:
    text = content.decode("utf-8", "replace")
    if len(text) > LOG_BODY_LIMIT:
        text = text[:LOG_BODY_LIMIT] + f"... ({len(text)} characters)"
    return mask(text, secrets)


def _headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> str:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return ", ".join(f"{k}: {MASK if k.lower() in _SECRET_HEADERS else v}" for k, v in items)


def log_request(
    api_id: str,
    url: str,
    headers: Iterable[tuple[str, str]],
    content: bytes,
    secrets: Iterable[str],
) -> None:
    emit(
        "%s -> POST %s [%s] %s", api_id, url, mask(_headers(headers), secrets),
        _body(content, secrets),
    )  # fmt: skip


def log_response(
    api_id: str,
    status: int,
    ms: float,
    cont_yn: str | None,
    next_key: str | None,
    content: bytes,
    secrets: Iterable[str],
) -> None:
    emit(
        "%s <- %d in %.1f ms cont-yn=%s next-key=%s %s", api_id, status, ms, cont_yn or "",
        next_key or "", _body(content, secrets),
    )  # fmt: skip


def log_extra(api_id: str, counts: Mapping[str, int]) -> None:
    """Count the response keys the catalogue lacks (names only: values may be anything)."""
    listed = ", ".join(f"{path} ({n})" for path, n in counts.items())
    emit(
        "%s: %d key(s) not in the catalogue, kept in RawResponse.extra: %s",
        api_id, len(counts), listed,
    )  # fmt: skip
