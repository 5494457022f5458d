"""The kiwoom code generator: catalogue (spec/) -> typed SDK (src/kiwoom/_generated/).

Stages: ``load`` (read and validate spec/) -> ``model`` (an intermediate model of structs,
fields and conversions) -> ``render`` (Jinja templates). ``importer`` writes spec/ from
Kiwoom's official catalogue. Run ``python -m codegen --help``.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC_DIR = ROOT / "spec"
SCHEMA_PATH = SPEC_DIR / "catalogue.schema.json"
OUTPUT_DIR = ROOT / "src" / "kiwoom" / "_generated"
DOCS_PATH = ROOT / "docs" / "api.md"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
