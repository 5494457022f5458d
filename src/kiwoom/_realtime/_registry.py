"""What the user registered (wanted) and what the server acknowledged, by group, type and item.

Kept as (group -> type -> items) so any mix of REG and REMOVE calls has one exact meaning, and
so every registration can be sent again, in chunks of at most 100 items, after a reconnect.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import msgspec

from ._defaults import MAX_ITEMS_PER_REGISTRATION

__all__ = ["Registration", "Registry"]


class Registration(msgspec.Struct, frozen=True):
    """One registered type in one group: the items wanted and those the server acknowledged."""

    group: str
    """그룹번호 (grp_no)."""
    type: str
    """Real-time type (``0B``)."""
    items: tuple[str, ...]
    """Items (codes) the user wants, in registration order."""
    acknowledged: tuple[str, ...]
    """Items the server accepted on the current connection (empty while reconnecting)."""


class Registry:
    """Wanted and acknowledged (type, item) pairs per group."""

    def __init__(self) -> None:
        self._wanted: dict[str, dict[str, dict[str, None]]] = {}
        self._acked: dict[str, set[tuple[str, str]]] = {}

    def __bool__(self) -> bool:
        return any(self._wanted.values())

    def want(self, group: str, items: Iterable[str], types: Iterable[str], replace: bool) -> None:
        if replace:
            self._wanted.pop(group, None)
            self._acked.pop(group, None)
        by_type = self._wanted.setdefault(group, {})
        for t in types:
            wanted = by_type.setdefault(t, {})
            for item in items:
                wanted[item] = None

    def ack(self, group: str, items: Iterable[str], types: Iterable[str]) -> None:
        acked = self._acked.setdefault(group, set())
        by_type = self._wanted.get(group, {})
        for t in types:
            for item in items:
                if item in by_type.get(t, ()):
                    acked.add((t, item))

    def drop(self, group: str, items: Iterable[str] | None, types: Iterable[str] | None) -> None:
        """Forget a whole group, or the given items (of the given types, default all)."""
        by_type = self._wanted.get(group)
        if by_type is None:
            return
        if items is None and types is None:
            del self._wanted[group]
            self._acked.pop(group, None)
            return
        acked = self._acked.get(group, set())
        for t in list(types if types is not None else by_type):
            wanted = by_type.get(t)
            if wanted is None:
                continue
            for item in list(items if items is not None else wanted):
                wanted.pop(item, None)
                acked.discard((t, item))
            if not wanted:
                del by_type[t]
        if not by_type:
            del self._wanted[group]
            self._acked.pop(group, None)

    def unacknowledge_all(self) -> None:
        """The connection is gone: nothing is registered on the server any more."""
        self._acked.clear()

    def group(self, group: str) -> dict[str, list[str]]:
        """type -> wanted items of one group."""
        return {t: list(items) for t, items in self._wanted.get(group, {}).items()}

    def groups(self) -> list[str]:
        return list(self._wanted)

    def snapshot(self) -> list[Registration]:
        out = []
        for group, by_type in self._wanted.items():
            acked = self._acked.get(group, set())
            for t, items in by_type.items():
                out.append(
                    Registration(group, t, tuple(items), tuple(i for i in items if (t, i) in acked))
                )
        return out

    def batches(self, group: str) -> Iterator[tuple[list[str], list[str]]]:
        """(items, types) requests that register the whole group again, each <= 100 items.

        Items wanted with the same set of types travel together, so the fewest requests are sent.
        """
        types_of: dict[str, list[str]] = {}
        for t, wanted in self._wanted.get(group, {}).items():
            for item in wanted:
                types_of.setdefault(item, []).append(t)
        by_types: dict[tuple[str, ...], list[str]] = {}
        for item, types in types_of.items():
            by_types.setdefault(tuple(types), []).append(item)
        for types_key, batch in by_types.items():
            for i in range(0, len(batch), MAX_ITEMS_PER_REGISTRATION):
                yield batch[i : i + MAX_ITEMS_PER_REGISTRATION], list(types_key)
