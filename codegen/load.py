"""Read every catalogue file, validate it against the JSON Schema, and decode it into models."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import yaml

from . import SCHEMA_PATH
from ._schema import ErrorsFile, GroupFile, RealtimeFile

try:
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader


class CatalogueError(Exception):
    """The catalogue is malformed or inconsistent."""


@dataclass
class Catalogue:
    groups: list[GroupFile] = field(default_factory=list)
    realtime: list[RealtimeFile] = field(default_factory=list)
    errors: ErrorsFile | None = None
    files: list[Path] = field(default_factory=list)
    spec_dir: Path = Path()


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def read_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)


def validate(path: Path, data: Any) -> None:
    """Raise CatalogueError listing every schema violation of one file."""
    problems = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if problems:
        lines = [
            f"  at {'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:200]}"
            for e in problems[:20]
        ]
        raise CatalogueError(f"{path} does not match the catalogue schema:\n" + "\n".join(lines))


def catalogue_files(spec_dir: Path) -> list[Path]:
    """Every catalogue file under spec_dir in a stable order (overrides are not catalogue files)."""
    return sorted(
        p for p in spec_dir.rglob("*.yaml") if "overrides" not in p.relative_to(spec_dir).parts
    )


def load(spec_dir: Path) -> Catalogue:
    cat = Catalogue(spec_dir=spec_dir)
    for path in catalogue_files(spec_dir):
        data = read_yaml(path)
        validate(path, data)
        cat.files.append(path)
        if "apis" in data:
            cat.groups.append(msgspec.convert(data, GroupFile))
        elif "types" in data:
            cat.realtime.append(msgspec.convert(data, RealtimeFile))
        else:
            cat.errors = msgspec.convert(data, ErrorsFile)
    check(cat)
    return cat


def check(cat: Catalogue) -> None:
    """Cross-file rules the schema cannot express."""
    seen: dict[str, str] = {}
    for group in cat.groups:
        methods: set[str] = set()
        for api in group.apis:
            if api.id in seen:
                raise CatalogueError(f"{api.id} is in both {seen[api.id]} and {group.group}")
            seen[api.id] = group.group
            if api.method in methods:
                raise CatalogueError(f"{group.group}: method name {api.method!r} is used twice")
            methods.add(api.method)
    for rt in cat.realtime:
        for t in rt.types:
            key = f"{rt.region}:{t.id}"
            if key in seen:
                raise CatalogueError(f"real-time type {t.id} is defined twice")
            seen[key] = rt.group
