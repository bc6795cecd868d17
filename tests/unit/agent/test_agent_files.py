"""/files path resolution and reads: confinement, no symlink followed, no check-then-open race,
numbers, paging, Content-Disposition."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from daemons.agent import beneath, files
from daemons.kit.errors import BadRequest, NotFound
from tests.unit.agent.symlink_swap import swapping

Resolver = Callable[[int, str, int], int]
RESOLVERS = [
    pytest.param(beneath.openat2_beneath, id="openat2"),
    pytest.param(beneath.walk_beneath, id="nofollow-walk"),
]


@pytest.fixture
def sandbox(tmp_path: Path) -> tuple[Path, Path]:
    """(roots dir, one run directory with stdout and symlinks pointing out and in)."""
    root = tmp_path / "slaves"
    run = root / "A" / "frameworks" / "F" / "executors" / "E" / "runs" / "C"
    run.mkdir(parents=True)
    (run / "stdout").write_text("hello world\n")
    (run / "sub").mkdir()
    (run / "sub" / "log").write_text("deep\n")
    (tmp_path / "secret").write_text("no")
    os.symlink(tmp_path / "secret", run / "escape")
    os.symlink(run / "stdout", run / "inside")
    os.symlink("sub", run / "subdir-link")
    return root, run


VIRTUAL = "/frameworks/F/executors/E/runs/latest"


def read(
    path: str | None, root: Path, run: Path, resolver: Resolver | None = None
) -> dict[str, object]:
    with files.opened(path, [root], {VIRTUAL: run}, resolver) as fd:
        return files.read_chunk(fd, 0, -1)


def test_host_sandbox_paths_and_the_virtual_form_locate_the_same_file(
    sandbox: tuple[Path, Path],
) -> None:
    root, run = sandbox
    virtual = {VIRTUAL: run}
    tail = str(run.relative_to(root))
    assert files.locate(str(run / "stdout"), [root], virtual) == (root, f"{tail}/stdout")
    assert files.locate(f"{VIRTUAL}/stdout", [root], virtual) == (run, "stdout")
    assert files.locate(VIRTUAL, [root], virtual) == (run, "")
    assert files.locate(f"/{run}//./stdout", [root], virtual) == (root, f"{tail}/stdout")
    assert read(str(run / "stdout"), root, run)["data"] == "hello world\n"
    assert read(f"{VIRTUAL}/sub/log", root, run)["data"] == "deep\n"


def test_a_root_reached_through_a_symlink_is_located_under_either_spelling(
    sandbox: tuple[Path, Path], tmp_path: Path
) -> None:
    root, run = sandbox
    alias = tmp_path / "work-alias"
    os.symlink(root, alias)
    assert files.locate(str(run / "stdout"), [alias], {}) == (
        root,
        f"{run.relative_to(root)}/stdout",
    )


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
        # No symlink is followed, even one that stays inside the sandbox.
        ("{run}/inside", NotFound),
        ("{run}/subdir-link/log", NotFound),
        (VIRTUAL + "/escape", NotFound),
    ],
)
def test_bad_paths_are_refused(sandbox: tuple[Path, Path], path: str | None, error: type) -> None:
    root, run = sandbox
    text = path.format(run=run) if path is not None else None
    with pytest.raises(error):
        read(text, root, run)


@pytest.mark.parametrize("resolver", RESOLVERS)
def test_both_resolvers_open_plain_paths_and_refuse_every_symlink(
    sandbox: tuple[Path, Path], resolver: Resolver
) -> None:
    root, run = sandbox
    assert read(str(run / "sub" / "log"), root, run, resolver)["data"] == "deep\n"
    assert read(str(run / "stdout"), root, run, resolver)["offset"] == 0
    for name in ("escape", "inside", "subdir-link/log"):
        with pytest.raises(NotFound):
            read(str(run / name), root, run, resolver)
    fd = os.open(run, os.O_PATH | os.O_DIRECTORY)
    try:
        with pytest.raises(ValueError):
            resolver(fd, "sub/../../C/stdout", beneath.FLAGS)
        # The directory itself: "" and "." name it.
        opened = resolver(fd, ".", beneath.FLAGS)
        os.close(opened)
    finally:
        os.close(fd)


@pytest.mark.parametrize("resolver", RESOLVERS)
def test_a_fifo_in_a_sandbox_opens_without_waiting(
    sandbox: tuple[Path, Path], resolver: Resolver
) -> None:
    root, run = sandbox
    os.mkfifo(run / "pipe")
    assert read(str(run / "pipe"), root, run, resolver) == {"data": "", "offset": 0}


def test_a_symlink_to_another_sandbox_is_not_found(sandbox: tuple[Path, Path]) -> None:
    """Inside the sandboxes tree, but out of this sandbox: a resolve-then-check of the real
    path approves it, an open that refuses symlinks does not."""
    root, run = sandbox
    other = root / "A" / "frameworks" / "G" / "executors" / "X" / "runs" / "D"
    other.mkdir(parents=True)
    (other / "private").write_text("another framework's secret")
    os.symlink(other / "private", run / "peer")
    os.symlink(other, run / "peer-dir")
    with pytest.raises(NotFound):
        read(str(run / "peer"), root, run)
    with pytest.raises(NotFound), files.opened(str(run / "peer-dir"), [root], {}) as fd:
        files.browse_dir(fd, "x")


@pytest.fixture
def outside(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A directory elsewhere holding a file named like the sandbox's, with other content."""
    directory = tmp_path_factory.mktemp("outside")
    (directory / "log").write_text("OUTSIDE THE SANDBOX\n")
    (directory / "outside-only").write_text("")
    yield directory


@pytest.mark.parametrize("resolver", RESOLVERS)
def test_a_directory_swapped_for_a_symlink_never_leads_out(
    sandbox: tuple[Path, Path], outside: Path, resolver: Resolver
) -> None:
    """Another process trades `sub` and a symlink to `outside` atomically and endlessly while
    `sub/log` is read and `sub` browsed; what is served is the sandbox's file or "not found"."""
    root, run = sandbox
    served = {"inside": 0, "not found": 0}
    deadline = time.monotonic() + 5.0
    with swapping(run / "sub", outside):
        for _ in range(2000):
            if time.monotonic() > deadline:
                break
            try:
                data = read(str(run / "sub" / "log"), root, run, resolver)["data"]
                with files.opened(str(run / "sub"), [root], {}, resolver) as fd:
                    names = {e["path"].rsplit("/", 1)[1] for e in files.browse_dir(fd, "s")}
            except NotFound:
                served["not found"] += 1
                continue
            assert data == "deep\n"
            assert names == {"log"}
            served["inside"] += 1
    assert served["inside"] + served["not found"] > 0


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
    (tmp_path / "log").write_bytes(b"x" * 100_000)
    fd = os.open(tmp_path / "log", os.O_RDONLY)
    directory = os.open(tmp_path, os.O_RDONLY)
    try:
        assert files.read_chunk(fd, -1, -1) == {"data": "", "offset": 100_000}
        whole = files.read_chunk(fd, 0, -1)
        assert len(whole["data"]) == files.MAX_READ and whole["offset"] == 0
        assert len(files.read_chunk(fd, 0, 10**9)["data"]) == files.MAX_READ
        assert files.read_chunk(fd, 99_990, 50) == {"data": "x" * 10, "offset": 99_990}
        assert files.read_chunk(fd, 200_000, 5) == {"data": "", "offset": 200_000}
        with pytest.raises(BadRequest):
            files.read_chunk(directory, 0, -1)
    finally:
        os.close(fd)
        os.close(directory)


def test_browse_lists_entries_with_mesos_fields(sandbox: tuple[Path, Path]) -> None:
    root, run = sandbox
    with files.opened(str(run), [root], {}) as fd:
        entries = files.browse_dir(fd, str(run) + "/")
    by_name = {e["path"].rsplit("/", 1)[1]: e for e in entries}
    assert set(by_name) == {"stdout", "sub", "escape", "inside", "subdir-link"}
    assert by_name["escape"]["mode"].startswith("l")  # listed as a link, never followed
    assert by_name["stdout"]["size"] == 12
    assert by_name["stdout"]["mode"].startswith("-rw")
    assert by_name["sub"]["mode"].startswith("d")
    assert by_name["stdout"]["path"] == f"{run}/stdout"
    assert by_name["stdout"]["uid"] == "root"
    with pytest.raises(BadRequest), files.opened(str(run / "stdout"), [root], {}) as fd:
        files.browse_dir(fd, "x")


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
