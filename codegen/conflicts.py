"""Where Kiwoom's catalogue contradicts itself: its tables against its formats, its code lists
and its own examples, and one wire name against itself across APIs.

The importer runs :func:`find` twice: on the tables as Kiwoom wrote them (every conflict
*found*) and after ``spec/overrides/`` (what is left). A conflict is resolved by a field
correction in ``fields.yaml`` (each with a ``reason``) or, where no field changes, by an entry
of ``conflicts.yaml`` saying why; anything else is *unresolved* and fails the import test.
Nothing is ever bent to fit an example.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import infer

if TYPE_CHECKING:
    from .importer import Api, Node
    from .overrides import Overrides

__all__ = ["CLASSES", "Conflict", "find"]

# The classes, in report order, with what each means.
CLASSES = {
    "length<code": "a request length shorter than one of the field's documented codes",
    "length<format": "a request length shorter than the field's format (a date is 8)",
    "length<example": "a request length shorter than Kiwoom's own request example value",
    "required-absent": "required in the table, yet absent or blank in Kiwoom's request example",
    "example-misfit": "an example value that does not fit the field's documented type",
    "unknown-key": "a key of a response example that the table lacks",
    "absent-key": "a table field absent from a response example that has its parent",
    "list-name": "a response example naming a list otherwise than the table",
    "typed-differently": "one wire name typed differently across APIs (int vs decimal, magnitude"
    " vs signed)",
}

_FORMAT_LENGTH = {
    "YYYYMMDDHHmmss": 14,
    "YYYYMMDD": 8,
    "YYYYMM": 6,
    "YYYY": 4,
    "MMDD": 4,
    "HHmmss": 6,
    "HHmm": 4,
    "HH:mm:ss": 8,
    "HH:mm": 5,
}


@dataclass(frozen=True, order=True)
class Conflict:
    kind: str
    api_id: str  # "" for a conflict across APIs
    path: str  # field path ("request.base_dt"), or the wire name across APIs
    detail: str

    def __str__(self) -> str:
        where = f"{self.api_id} {self.path}" if self.api_id else self.path
        return f"[{self.kind}] {where}: {self.detail}"


def _leaves(nodes: Iterable[Node]) -> Iterator[Node]:
    for top in nodes:
        for node in top.walk():
            if node.container is None:
                yield node


def _length(node: Node, corrected: bool) -> int | None:
    if corrected and "length" in node.overrides:
        return node.overrides["length"]  # type: ignore[no-any-return]
    return node.length


def _required(node: Node, corrected: bool) -> bool:
    if corrected and "required" in node.overrides:
        return bool(node.overrides["required"])
    return node.required


def _request(api: Api, corrected: bool) -> Iterator[Conflict]:
    has_example = any(n.in_example for n in _leaves(api.request))
    for node in _leaves(api.request):
        t = node.typing
        length = _length(node, corrected)
        if t is not None and length:
            codes = t.codes if t.type == "code" and t.codes else {}
            longest = max(codes, key=len, default="")
            if len(longest) > length:
                yield Conflict(
                    "length<code", api.id, node.path, f"length {length}, code {longest!r}"
                )
            need = _FORMAT_LENGTH.get(t.format or "")
            if need and need > length and t.type != "string":
                yield Conflict(
                    "length<format", api.id, node.path, f"length {length}, {t.type} {t.format}"
                )
            long = max(node.examples, key=len, default="")
            if len(long) > length:
                yield Conflict(
                    "length<example", api.id, node.path, f"length {length}, example {long!r}"
                )
        explicit = corrected and "required" in node.overrides
        if has_example and _required(node, corrected) and not explicit and not any(node.examples):
            what = "blank" if node.in_example else "absent"
            yield Conflict("required-absent", api.id, node.path, f"{what} in the example")


def _misfits(api: Api, nodes: Iterable[Node], corrected: bool) -> Iterator[Conflict]:
    for node in nodes:
        t = node.typing
        if t is None:
            continue
        bad = [v for v in node.examples if not infer.fits(t, v)]
        if not bad:
            continue
        if corrected and node.overrides.get("example") == "wrong":
            continue
        what = t.type + (f" {t.format}" if t.format else "")
        if t.type == "code" and t.codes is not None:
            if corrected and node.overrides.get("codes_open"):
                continue
            what = f"code of {sorted(t.codes)}"
        yield Conflict("example-misfit", api.id, node.path, f"{what}, example {bad[:3]}")


def _response_keys(api: Api, ov: Overrides | None) -> Iterator[Conflict]:
    accepted = ov.unknown_keys.get(api.id, {}) if ov else {}
    for key in sorted(api.unknown_keys):
        if ov is not None and key in accepted:
            continue
        yield Conflict("unknown-key", api.id, key, "in the example, not in the table")
    absent_ok = ov is not None and api.id in ov.absent_keys
    for top in api.response:
        for node in top.walk():
            if node.example_names:
                aliases = node.overrides.get("aliases") or [] if ov else []
                for name in sorted(node.example_names - set(aliases)):
                    yield Conflict("list-name", api.id, node.path, f"the example names it {name!r}")
    if absent_ok or not api.raw.get("response_example"):
        return
    for parent in [api.response, *(n.children for t in api.response for n in t.walk())]:
        shown = [n for n in parent if n.in_example]
        if not shown:
            continue
        for node in parent:
            if not node.in_example:
                yield Conflict("absent-key", api.id, node.path, "in the table, not in the example")


def _typed_differently(apis: Iterable[Api], ov: Overrides | None) -> Iterator[Conflict]:
    """Numbers of one wire name typed differently: int vs decimal, or a magnitude (a price
    whose sign is a direction) vs a signed number. Scales and units may differ."""
    seen: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    kinds: dict[tuple[str, str], set[str]] = defaultdict(set)  # int/decimal, magnitude or not
    for api in apis:
        if api.kind != "rest" or api.region not in ("domestic", "us"):
            continue
        for node in _leaves(api.response):
            t = node.typing
            if t is None or t.type not in infer.NUMERIC_TYPES:
                continue
            kind = ("magnitude " if t.sign == "direction" else "") + t.type
            shape = kind + (f"/10^{t.scale}" if t.scale else "") + (f" {t.unit}" if t.unit else "")
            seen[(api.region, node.name)][shape].append(api.id)
            kinds[(api.region, node.name)].add(kind)
    accepted = ov.typed_differently if ov else {}
    for (region, name), shapes in sorted(seen.items()):
        if len(kinds[(region, name)]) < 2 or (ov is not None and f"{region}.{name}" in accepted):
            continue
        detail = "; ".join(
            f"{shape} in {len(ids)} ({', '.join(sorted(ids)[:4])}{', ...' if len(ids) > 4 else ''})"
            for shape, ids in sorted(shapes.items())
        )
        yield Conflict("typed-differently", "", f"{region}.{name}", detail)


def find(apis: list[Api], ov: Overrides | None) -> list[Conflict]:
    """Every conflict of ``apis``; with ``ov``, those its corrections and listings leave."""
    corrected = ov is not None
    out: list[Conflict] = []
    for api in apis:
        if api.kind in ("rest", "oauth", "condition"):
            out.extend(_request(api, corrected))
            out.extend(_misfits(api, _leaves(api.request), corrected))
        out.extend(_misfits(api, _leaves(api.response), corrected))
        out.extend(_response_keys(api, ov))
    out.extend(_typed_differently(apis, ov))
    return sorted(set(out))
