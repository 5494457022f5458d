"""Render the intermediate model into src/kiwoom/_generated/ and docs/api.md."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import jinja2

from . import DOCS_PATH, OUTPUT_DIR, TEMPLATES_DIR
from .load import Catalogue
from .model import ModuleM, build


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    env.filters["pyrepr"] = repr
    return env


def spec_hash(cat: Catalogue) -> str:
    h = hashlib.sha256()
    for path in cat.files:
        h.update(path.relative_to(cat.spec_dir).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _module_path(out: Path, mod: ModuleM) -> Path:
    """An API group is a package (its namespace classes in ``__init__``, a module per API);
    a real-time group one module."""
    path = out.joinpath(*mod.name.split("."))
    return path / "__init__.py" if mod.apis else path.with_suffix(".py")


def render(cat: Catalogue, out: Path) -> list[Path]:
    """Write every generated file under ``out`` (an empty folder); return their paths."""
    env = _env()
    modules = build(cat)
    written: list[Path] = []

    def write(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)

    package = env.get_template("package.py.j2")
    write(
        out / "__init__.py",
        package.render(doc="Generated typed models. Import them from `kiwoom`."),
    )
    for mod in modules:
        path = _module_path(out, mod)
        folder = path.parent.parent if mod.apis else path.parent
        init = folder / "__init__.py"
        if init not in written:
            write(init, package.render(doc=f"Generated models: {folder.name}."))
        if not mod.apis:
            write(path, env.get_template("realtime.py.j2").render(module=mod))
            continue
        write(path, env.get_template("group.py.j2").render(module=mod))
        api_template = env.get_template("api.py.j2")
        for api in mod.apis:
            write(path.parent / f"{api.id}.py", api_template.render(api=api, module=mod))

    apis = sorted((a for mod in modules for a in mod.apis), key=lambda a: a.id)
    realtime = [rt for mod in modules for rt in mod.realtime]
    names = sorted(pair for mod in modules for pair in mod.name_modules())
    errors = sorted(cat.errors.errors, key=lambda e: e.code) if cat.errors else []
    write(
        out / "_registry.py",
        env.get_template("registry.py.j2").render(
            apis=apis, realtime=realtime, errors=errors, spec_hash=spec_hash(cat)
        ),
    )
    write(out / "_names.py", env.get_template("names.py.j2").render(names=names))
    write(out / "_exports.py", env.get_template("exports.py.j2").render(modules=modules))
    write(out / "_clients.py", env.get_template("clients.py.j2").render(groups=_groups(modules)))
    write(
        out / "_realtime_typing.py",
        env.get_template("realtime_typing.py.j2").render(realtime=realtime),
    )
    docs = env.get_template("api.md.j2").render(modules=modules, apis=apis, realtime=realtime)
    write(out / "_api.md", docs)
    return written


def _groups(modules: list[ModuleM]) -> list[dict[str, object]]:
    """The REST API groups the clients expose (``client.chart``, ``client.us.chart``)."""
    out: list[dict[str, object]] = []
    for mod in modules:
        rest = [a for a in mod.apis if a.kind == "rest"]
        if not rest or mod.region not in ("domestic", "us"):
            continue
        short = mod.name.split(".")[-1]
        cls = "".join(p.capitalize() for p in short.split("_")) + "API"
        prefix = "US" if mod.region == "us" else ""
        out.append(
            {
                "name": mod.name,
                "short": short,
                "region": mod.region,
                "title": mod.title,
                "path": mod.path,
                "count": len(rest),
                "module": mod.qualname,
                "cls": cls,
                "alias": prefix + cls,
            }
        )
    return out


def _ruff(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "ruff", *args], check=True, capture_output=True)


def generate(cat: Catalogue) -> int:
    """Wipe and rewrite the generated package and docs/api.md. Returns the number of files."""
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp) / "_generated"
        files = render(cat, staging)
        docs = staging / "_api.md"
        py_files = [str(p) for p in files if p.suffix == ".py"]
        # Formatting is part of generation so the output is stable and lint-clean.
        _ruff(
            "check",
            "--quiet",
            "--fix",
            "--select",
            "I,F401",
            "--isolated",
            "--line-length",
            "100",
            *py_files,
        )
        _ruff("format", "--quiet", "--isolated", "--line-length", "100", *py_files)
        DOCS_PATH.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(docs, DOCS_PATH)
        if OUTPUT_DIR.exists():
            shutil.rmtree(OUTPUT_DIR)
        shutil.copytree(staging, OUTPUT_DIR)
    return len(files)
