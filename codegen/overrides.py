"""The hand corrections under ``spec/overrides/`` (read by the importer, never written).

``methods.yaml``  api id or real-time type id -> Python method name
``fids.yaml``     real-time FID -> Python name
``fields.yaml``   api / real-time type id -> field path -> field keys to set
                  (``response.<list>.<field>``, ``request.<field>``, or for a real-time
                  type the FID); a key set to null is removed. An entry that resolves a
                  conflict of the catalogue (see ``codegen.conflicts``) carries a ``reason``.
``conflicts.yaml`` conflicts resolved without a field correction, each with a reason:
                  ``unknown_keys`` (api id -> {keys: [key path, ...], reason}), ``absent_keys``
                  (api id -> reason), ``typed_differently`` (region.wire name -> reason).
Every file is optional.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["FIELD_KEYS", "Overrides", "load"]

# Field keys a correction may set (name and fields are structure, not corrections).
FIELD_KEYS = (
    "py",
    "label",
    "type",
    "required",
    "length",
    "unit",
    "sign",
    "scale",
    "format",
    "codes",
    "array_like",
    "codes_open",
    "aliases",
    "example",  # "wrong": Kiwoom's example value contradicts the table, which is kept
    "reason",
)
# Keys that resolve a conflict, so the entry must say why.
_RESOLVING = ("length", "required", "codes_open", "aliases", "example")


@dataclass
class Overrides:
    methods: dict[str, str] = field(default_factory=dict)
    fids: dict[str, str] = field(default_factory=dict)
    fields: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    unknown_keys: dict[str, dict[str, str]] = field(default_factory=dict)
    absent_keys: dict[str, str] = field(default_factory=dict)
    typed_differently: dict[str, str] = field(default_factory=dict)


class _UniqueKeys(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice (plain YAML keeps the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [self.construct_object(k, deep=deep) for k, _ in node.value]
        twice = sorted({str(k) for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(f"{node.start_mark}: keys given twice: {', '.join(twice)}")
        return super().construct_mapping(node, deep=deep)


def _read(path: Path) -> Any:
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as f:
        return yaml.load(f, Loader=_UniqueKeys)


def _flat_names(data: Any, what: str) -> dict[str, str]:
    """A flat ``{id: name}``; a nested ``{group: {id: name}}`` is flattened."""
    out: dict[str, str] = {}
    if data is None:
        return out
    if not isinstance(data, dict):
        raise ValueError(f"{what}: expected a mapping")
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flat_names(value, what))
        elif isinstance(value, str):
            out[str(key)] = value
        elif value is not None:
            raise ValueError(f"{what}: {key!r} -> {value!r} is not a name")
    return out


def load(overrides_dir: Path) -> Overrides:
    fields_data = _read(overrides_dir / "fields.yaml") or {}
    if not isinstance(fields_data, dict):
        raise ValueError("fields.yaml: expected a mapping")
    fields: dict[str, dict[str, dict[str, Any]]] = {}
    for api_id, paths in fields_data.items():
        if not isinstance(paths, dict):
            raise ValueError(f"fields.yaml: {api_id!r} must map field paths to corrections")
        entry: dict[str, dict[str, Any]] = {}
        for path, keys in paths.items():
            if not isinstance(keys, dict):
                raise ValueError(f"fields.yaml: {api_id}.{path} must be a mapping")
            unknown = set(keys) - set(FIELD_KEYS)
            if unknown:
                raise ValueError(f"fields.yaml: {api_id}.{path}: unknown keys {sorted(unknown)}")
            if any(k in keys for k in _RESOLVING) and not keys.get("reason"):
                raise ValueError(f"fields.yaml: {api_id}.{path}: a correction needs a reason")
            if isinstance(keys.get("codes"), dict):
                keys = {**keys, "codes": {str(k): str(v) for k, v in keys["codes"].items()}}
            entry[str(path)] = keys
        fields[str(api_id)] = entry
    conflicts = _read(overrides_dir / "conflicts.yaml") or {}
    unknown: dict[str, dict[str, str]] = {}
    for api_id, entry in (conflicts.get("unknown_keys") or {}).items():
        what = f"conflicts.yaml: unknown_keys.{api_id}"
        if not isinstance(entry, dict) or not isinstance(entry.get("keys"), list):
            raise ValueError(f"{what}: expected {{keys: [...], reason: ...}}")
        reason = _reasons({"reason": entry.get("reason")}, what)["reason"]
        unknown[str(api_id)] = {str(key): reason for key in entry["keys"]}
    return Overrides(
        unknown_keys=unknown,
        absent_keys=_reasons(conflicts.get("absent_keys"), "conflicts.yaml: absent_keys"),
        typed_differently=_reasons(
            conflicts.get("typed_differently"), "conflicts.yaml: typed_differently"
        ),
        methods=_flat_names(_read(overrides_dir / "methods.yaml"), "methods.yaml"),
        fids=_flat_names(_read(overrides_dir / "fids.yaml"), "fids.yaml"),
        fields=fields,
    )


def _reasons(data: Any, what: str) -> dict[str, str]:
    """A ``{key: reason}`` mapping where every reason is a non-empty line."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{what}: expected a mapping of keys to reasons")
    out = {}
    for key, reason in data.items():
        if not isinstance(reason, str) or not reason.strip() or "\n" in reason.strip():
            raise ValueError(f"{what}: {key!r} needs a one-line reason")
        out[str(key)] = reason.strip()
    return out
