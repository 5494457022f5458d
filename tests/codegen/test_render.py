from pathlib import Path

from codegen import SPEC_DIR
from codegen.load import catalogue_files, load, read_yaml, validate
from codegen.render import render


def test_every_catalogue_file_matches_the_schema():
    files = catalogue_files(SPEC_DIR)
    assert len(files) > 20
    for path in files:
        validate(path, read_yaml(path))


def test_rendering_is_deterministic(tmp_path: Path):
    cat = load(SPEC_DIR)
    first = render(cat, tmp_path / "a")
    second = render(cat, tmp_path / "b")
    assert [p.relative_to(tmp_path / "a") for p in first] == [
        p.relative_to(tmp_path / "b") for p in second
    ]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_every_generated_file_says_do_not_edit():
    root = Path(__file__).resolve().parents[2] / "src" / "kiwoom" / "_generated"
    for path in root.rglob("*.py"):
        assert "Do not edit" in path.read_text(encoding="utf-8").splitlines()[0], path
