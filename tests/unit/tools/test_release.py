"""The release wheelhouse: its id follows the sources, and a complete release is recognised."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from tools.release import current, release_id, source_hash, version_of

ROOT = Path(__file__).resolve().parents[3]


def make_source(root: Path, body: str = "x = 1\n") -> Path:
    (root / "daemons" / "master").mkdir(parents=True)
    (root / "daemons" / "master" / "m.py").write_text(body)
    (root / "pyproject.toml").write_text('[project]\nname = "pydcos"\nversion = "9.8.7"\n')
    (root / "requirements.txt").write_text("flask==1\n")
    (root / "README.md").write_text("not part of a release\n")
    return root


def test_hash_changes_with_sources_only(tmp_path: Path) -> None:
    a = make_source(tmp_path / "a")
    b = make_source(tmp_path / "b")
    assert source_hash(a) == source_hash(b)
    (b / "README.md").write_text("docs change nothing\n")
    assert source_hash(a) == source_hash(b)
    (b / "daemons" / "master" / "m.py").write_text("x = 2\n")
    assert source_hash(a) != source_hash(b)


def test_hash_covers_exhibitor_and_its_ui(tmp_path: Path) -> None:
    src = make_source(tmp_path)
    (src / "exhibitor" / "static").mkdir(parents=True)
    (src / "exhibitor" / "api.py").write_text("x = 1\n")
    (src / "exhibitor" / "static" / "index.html").write_text("<p>1</p>\n")
    before = source_hash(src)
    (src / "exhibitor" / "api.py").write_text("x = 2\n")
    after_code = source_hash(src)
    (src / "exhibitor" / "static" / "index.html").write_text("<p>2</p>\n")
    assert len({before, after_code, source_hash(src)}) == 3


def test_hash_covers_every_package_the_wheel_ships(tmp_path: Path) -> None:
    """A change to any package of pyproject's `packages.find` makes a new release id (a
    Minuteman-only change once did not: an upgrade would not have rolled it out)."""
    shipped = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    src = make_source(tmp_path)
    for pattern in shipped:
        package = pattern.rstrip("*")
        (src / package).mkdir(exist_ok=True)
        (src / package / "probe.py").write_text("x = 1\n")
        before = source_hash(src)
        (src / package / "probe.py").write_text("x = 2\n")
        assert source_hash(src) != before, package


def test_version_and_id(tmp_path: Path) -> None:
    src = make_source(tmp_path)
    assert version_of(src) == "9.8.7"
    assert release_id("9.8.7", "abc") == "9.8.7-abc"


def test_current_needs_metadata_and_wheels(tmp_path: Path) -> None:
    assert current(tmp_path) is None
    (tmp_path / "release.json").write_text(json.dumps({"id": "1-a", "version": "1", "build": "a"}))
    assert current(tmp_path) is None  # no wheels/ yet: an interrupted build
    (tmp_path / "wheels").mkdir()
    assert current(tmp_path) == {"id": "1-a", "version": "1", "build": "a"}
    (tmp_path / "release.json").write_text("{not json")
    assert current(tmp_path) is None
