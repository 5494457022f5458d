"""Bases of the generated API-group namespaces (``client.chart``, ``client.us.chart``).

Each generated group module defines ``<Group>API`` (sync) and ``Async<Group>API`` on these
bases; their methods build the request and hand it to the client's request loop. This module
imports no HTTP library, so loading a model module stays light.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, TypeVar

from ._model import Request

__all__ = ["AsyncCaller", "AsyncGroup", "Caller", "Group"]

R = TypeVar("R")


class Caller(Protocol):
    """What a sync group needs of its client: one typed request."""

    def _request(
        self,
        api_id: str,
        body: Request,
        response_type: type[R],
        next_key: str | None,
        timeout: float | None,
        headers: Mapping[str, str] | None,
    ) -> R: ...


class AsyncCaller(Protocol):
    """What an async group needs of its client: one typed request."""

    async def _request(
        self,
        api_id: str,
        body: Request,
        response_type: type[R],
        next_key: str | None,
        timeout: float | None,
        headers: Mapping[str, str] | None,
    ) -> R: ...


class Group:
    """Base of the sync group namespaces: holds the client."""

    __slots__ = ("_c",)

    def __init__(self, client: Caller) -> None:
        self._c = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class AsyncGroup:
    """Base of the async group namespaces: holds the client."""

    __slots__ = ("_c",)

    def __init__(self, client: AsyncCaller) -> None:
        self._c = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
