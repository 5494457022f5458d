"""The tick: one real-time item, as consumers receive it.

Each real-time type has its own ``Tick`` subclass, tagged by ``type`` on the wire, whose class
attributes carry the type id and Korean name. The frame decoder reads a ``REAL`` frame's items
straight into those classes (:class:`~kiwoom._realtime._frames.StrippedFrames`), so the item
decoded is the tick handed over: no copy per item.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar, Generic, TypeVar

import msgspec

__all__ = ["Tick", "V", "tick_class"]

V = TypeVar("V")
"""The values Struct a tick carries (``Real0B`` for ``0B``)."""


class Tick(msgspec.Struct, Generic[V], gc=False, tag_field="type", repr_omit_defaults=True):
    """One real-time item: its type (``0B``), item (``005930``), typed values and Korean name.

    ``item`` is the frame's item; when the frame names none (orders, condition events), the
    stock code of the values (FID 9001) stands in.

    ``values`` is the type's typed Struct (``Real0B`` for ``0B``: ``values.cur_prc`` is FID 10).
    Condition-search events (type ``02``) carry ``Ka10173DataValues`` (seq, code, I/D, time).

    ``type`` and ``name`` belong to the tick's class (one per real-time type, see
    :func:`tick_class`); msgspec encodes a tick with its ``type``, as Kiwoom sends it.
    """

    values: V
    item: str = ""
    type: ClassVar[str] = ""
    """The real-time type id (``0B``)."""
    name: ClassVar[str] = ""
    """The type's Korean name (``주식체결``)."""
    _route: ClassVar[Any] = None
    # The dispatcher's bookkeeping of this type, on the classes a dispatcher makes (one
    # attribute read per tick instead of a lookup by type).

    def __repr__(self) -> str:
        return f"Tick(type={self.type!r}, item={self.item!r}, values={self.values!r})"

    def __eq__(self, other: object) -> bool:
        # Equal by type, item and values, whichever of the type's Tick classes made them.
        if not isinstance(other, Tick):
            return NotImplemented
        return (self.type, self.item, self.values) == (other.type, other.item, other.values)

    __hash__ = None  # type: ignore[assignment]  # mutable, like every Struct

    def __reduce__(self) -> tuple[Any, ...]:
        # Tick classes are made at run time: pickle rebuilds one by its type and name.
        return (_rebuild, (self.type, self.name, self.values, self.item))


def _rebuild(type_id: str, name: str, values: Any, item: str) -> Tick[Any]:
    return tick_class(type_id, name)(values, item)


def subclass(type_id: str, name: str, values: Any = Any) -> type[Tick[Any]]:
    """A new Tick class for one real-time type, its ``values`` decoded as ``values``."""
    cls: type[Tick[Any]] = msgspec.defstruct(  # type: ignore[assignment]
        "Tick",
        [("values", values)],
        bases=(Tick,),
        tag=type_id,
        namespace={"type": type_id, "name": name, "__module__": __name__},
        gc=False,
    )
    return cls


@functools.cache
def tick_class(type_id: str, name: str = "") -> type[Tick[Any]]:
    """The Tick class of a real-time type: ``tick_class("0B", "주식체결")(values, "005930")``."""
    return subclass(type_id, name)
