"""Iterating the pages of a paging call (``cont-yn``/``next-key``), sync and async."""

from __future__ import annotations

import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Generic, TypeVar

import msgspec

if TYPE_CHECKING:
    from ._client import RawResponse

__all__ = ["AsyncPages", "Pages", "list_fields", "merge"]

R = TypeVar("R")

Fetch = Callable[[str | None], tuple[R, "RawResponse | None"]]
AsyncFetch = Callable[[str | None], Awaitable[tuple[R, "RawResponse | None"]]]


@cache
def list_fields(response_type: type[msgspec.Struct]) -> tuple[str, ...]:
    """The row-list fields of a response type (usually exactly one)."""
    return tuple(
        f.name for f in msgspec.structs.fields(response_type) if typing.get_origin(f.type) is list
    )


def merge(pages: list[R]) -> R:
    """One response: the first page's scalar fields, every page's rows concatenated."""
    if not pages:
        raise ValueError("no pages to merge")
    first = pages[0]
    if len(pages) == 1:
        return first
    names = list_fields(type(first))  # type: ignore[arg-type]
    rows = {name: [row for page in pages for row in getattr(page, name)] for name in names}
    return msgspec.structs.replace(first, **rows)  # type: ignore[type-var]


def _next_key(raw: RawResponse | None) -> str | None:
    if raw is None or not raw.cont_yn:
        return None
    return raw.next_key


class Pages(Generic[R]):
    """The pages of one call, fetched lazily as you iterate; made by ``client.pages(...)``.

    ``until(predicate)`` stops after the first page for which ``predicate(page)`` is true
    (that page is still yielded), e.g. once rows get older than a start date;
    ``max_pages`` caps the count. ``collect()`` returns one response holding every row.
    A "no data" answer (``return_code`` 20) is an empty last page.
    """

    def __init__(
        self,
        fetch: Fetch[R],
        until: Callable[[R], bool] | None = None,
        max_pages: int | None = None,
    ) -> None:
        self._fetch = fetch
        self._until = until
        self._max = max_pages

    def until(self, predicate: Callable[[R], bool]) -> Pages[R]:
        """These pages, stopping after the first one ``predicate`` accepts."""
        return Pages(self._fetch, predicate, self._max)

    def limit(self, max_pages: int) -> Pages[R]:
        """These pages, at most ``max_pages`` of them."""
        return Pages(self._fetch, self._until, max_pages)

    def __iter__(self) -> Iterator[R]:
        key: str | None = None
        count = 0
        while True:
            page, raw = self._fetch(key)
            count += 1
            yield page
            key = _next_key(raw)
            if key is None or (self._until is not None and self._until(page)):
                return
            if self._max is not None and count >= self._max:
                return

    def collect(self) -> R:
        """Every page merged into one response: the rows of its list field concatenated."""
        return merge(list(self))


class AsyncPages(Generic[R]):
    """The async twin of :class:`Pages`: ``async for page in client.pages(...)``."""

    def __init__(
        self,
        fetch: AsyncFetch[R],
        until: Callable[[R], bool] | None = None,
        max_pages: int | None = None,
    ) -> None:
        self._fetch = fetch
        self._until = until
        self._max = max_pages

    def until(self, predicate: Callable[[R], bool]) -> AsyncPages[R]:
        """These pages, stopping after the first one ``predicate`` accepts."""
        return AsyncPages(self._fetch, predicate, self._max)

    def limit(self, max_pages: int) -> AsyncPages[R]:
        """These pages, at most ``max_pages`` of them."""
        return AsyncPages(self._fetch, self._until, max_pages)

    async def __aiter__(self) -> AsyncIterator[R]:
        key: str | None = None
        count = 0
        while True:
            page, raw = await self._fetch(key)
            count += 1
            yield page
            key = _next_key(raw)
            if key is None or (self._until is not None and self._until(page)):
                return
            if self._max is not None and count >= self._max:
                return

    async def collect(self) -> R:
        """Every page merged into one response: the rows of its list field concatenated."""
        return merge([page async for page in self])
