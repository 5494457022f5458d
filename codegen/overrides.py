"""The hand corrections under ``spec/overrides/`` (read by the importer, never written).

``methods.yaml``  api id or real-time type id -> Python method name
``fids.yaml``     real-time FID -> Python name
``fields.yaml``   api / real-time type id -> field path -> field keys to set
                  (``response.<list>.<field>``, ``request.<field>``, or for a real-time
                  type the FID); a key set to null is removed.
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
)


@dataclass
class Overrides:
    methods: dict[str, str] = field(default_factory=dict)
    fids: dict[str, str] = field(default_factory=dict)
    fields: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


def _read(path: Path) -> Any:
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


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
            if isinstance(keys.get("codes"), dict):
                keys = {**keys, "codes": {str(k): str(v) for k, v in keys["codes"].items()}}
            entry[str(path)] = keys
        fields[str(api_id)] = entry
    return Overrides(
        methods=_flat_names(_read(overrides_dir / "methods.yaml"), "methods.yaml"),
        fids=_flat_names(_read(overrides_dir / "fids.yaml"), "fids.yaml"),
        fields=fields,
    )
