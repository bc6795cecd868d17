"""/files path resolution and reads: confinement, numbers, paging, Content-Disposition."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from daemons.agent import files
from daemons.kit.errors import BadRequest, NotFound


@pytest.fixture
def sandbox(tmp_path: Path) -> tuple[Path, Path]:
    """(roots dir, one run directory with stdout and a symlink pointing out)."""
    root = tmp_path / "slaves"
    run = root / "A" / "frameworks" / "F" / "executors" / "E" / "runs" / "C"
    run.mkdir(parents=True)
    (run / "stdout").write_text("hello world\n")
    (run / "sub").mkdir()
    (tmp_path / "secret").write_text("no")
    os.symlink(tmp_path / "secret", run / "escape")
    os.symlink(run / "stdout", run / "inside")
    return root, run


VIRTUAL = "/frameworks/F/executors/E/runs/latest"


def test_host_sandbox_paths_and_the_virtual_form_resolve(sandbox: tuple[Path, Path]) -> None:
    root, run = sandbox
    virtual = {VIRTUAL: run}
    assert files.resolve(str(run / "stdout"), [root], virtual) == run / "stdout"
    assert files.resolve(f"{VIRTUAL}/stdout", [root], virtual) == run / "stdout"
    assert files.resolve(VIRTUAL, [root], virtual) == run
    assert files.resolve(str(run / "inside"), [root], virtual) == run / "stdout"


@pytest.mark.parametrize(
    ("path", "error"),
    [
        (None, BadRequest),
        ("", BadRequest),
        ("{run}/../C/stdout", BadRequest),
        ("{run}/..", BadRequest),
        ("{run}/std\x00out", BadRequest),
        (VIRTUAL + "/../../x", BadRequest),
        ("/etc/passwd", NotFound),
        ("{run}/escape", NotFound),
        ("{run}/missing", NotFound),
        ("relative/stdout", NotFound),
        ("{run}/%2e%2e/stdout", NotFound),  # decoded once by the web layer, never twice
    ],
)
def test_bad_paths_are_refused(sandbox: tuple[Path, Path], path: str | None, error: type) -> None:
    root, run = sandbox
    text = path.format(run=run) if path is not None else None
    with pytest.raises(error):
        files.resolve(text, [root], {VIRTUAL: run})


@pytest.mark.parametrize(
    ("value", "expected"), [(None, -1), ("-1", -1), ("0", 0), ("65536", 65536)]
)
def test_numbers(value: str | None, expected: int) -> None:
    assert files.parse_number(value, "offset") == expected


@pytest.mark.parametrize("value", ["hello", "-2", "1.5", "", " 1", "1e3", "9" * 30])
def test_bad_numbers(value: str) -> None:
    with pytest.raises(BadRequest):
        files.parse_number(value, "length")


def test_read_semantics(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_bytes(b"x" * 100_000)
    assert files.read_chunk(path, -1, -1) == {"data": "", "offset": 100_000}
    whole = files.read_chunk(path, 0, -1)
    assert len(whole["data"]) == files.MAX_READ and whole["offset"] == 0
    assert len(files.read_chunk(path, 0, 10**9)["data"]) == files.MAX_READ
    assert files.read_chunk(path, 99_990, 50) == {"data": "x" * 10, "offset": 99_990}
    assert files.read_chunk(path, 200_000, 5) == {"data": "", "offset": 200_000}
    with pytest.raises(BadRequest):
        files.read_chunk(tmp_path, 0, -1)


def test_browse_lists_entries_with_mesos_fields(sandbox: tuple[Path, Path]) -> None:
    _, run = sandbox
    entries = files.browse_dir(run, str(run) + "/")
    by_name = {e["path"].rsplit("/", 1)[1]: e for e in entries}
    assert set(by_name) == {"stdout", "sub", "escape", "inside"}
    assert by_name["stdout"]["size"] == 12
    assert by_name["stdout"]["mode"].startswith("-rw")
    assert by_name["sub"]["mode"].startswith("d")
    assert by_name["stdout"]["path"] == f"{run}/stdout"
    assert by_name["stdout"]["uid"] == "root"
    with pytest.raises(BadRequest):
        files.browse_dir(run / "stdout", "x")


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("stdout", "stdout"),
        ('evil"\r\nSet-Cookie: a=b', "evil___Set-Cookie: a=b"),
        ("a\\b;c", "a_b_c"),
        ("caf\u00e9.txt", "caf_.txt"),
        ("", "download"),
    ],
)
def test_attachment_names_cannot_split_headers(name: str, safe: str) -> None:
    assert files.attachment_name(name) == safe
