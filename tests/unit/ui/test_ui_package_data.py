"""Every file of the web UI ships in the wheel: pyproject's package data for `daemons.ui`
matches each file under daemons/ui/static (a file in a new folder, or of a new kind, fails
here instead of going missing on the nodes), and the release's build id covers them."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

from daemons.ui.main import static_dir
from tools.release import SOURCE_GLOBS

REPO = Path(__file__).resolve().parents[3]
PACKAGE = REPO / "daemons" / "ui"


def ui_files() -> list[Path]:
    return sorted(p for p in (PACKAGE / "static").rglob("*") if p.is_file())


def test_every_ui_file_is_package_data() -> None:
    with (REPO / "pyproject.toml").open("rb") as fh:
        globs = tomllib.load(fh)["tool"]["setuptools"]["package-data"]["daemons.ui"]
    files = ui_files()
    assert {p.name for p in files} >= {"index.html", "ui.css", "main.js", "dashboard.js"}
    for path in files:
        relative = path.relative_to(PACKAGE).as_posix()
        # setuptools' globs do not cross folders: match one path segment per `*`.
        matched = [g for g in globs if fnmatch(relative, g) and relative.count("/") == g.count("/")]
        assert matched, f"{relative} is not in pyproject's package-data for daemons.ui"


def test_release_hash_covers_the_ui_and_static_dir_points_at_it() -> None:
    covered = {p for glob in SOURCE_GLOBS for p in REPO.glob(glob) if p.is_file()}
    assert set(ui_files()) <= covered
    assert Path(static_dir()).resolve() == (PACKAGE / "static").resolve()
    assert (Path(static_dir()) / "index.html").is_file()
