"""The built-in executors are copied where an unprivileged task user can read and run them."""

from __future__ import annotations

import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import daemons
from daemons.agent import builtin_executors
from tests.unit.agent.public_copy import AS_NOBODY, public_copy


def test_install_copies_compiles_and_is_idempotent(tmp_path):
    dest = builtin_executors.install(tmp_path / "libexec")
    assert dest.parent == tmp_path / "libexec"
    for name in builtin_executors.FILES:
        mode = (dest / name).stat().st_mode
        assert stat.S_IMODE(mode) == 0o644
        assert (dest / name).read_bytes() == (builtin_executors.SOURCE / name).read_bytes()
    assert stat.S_IMODE(dest.stat().st_mode) == 0o755
    assert list((dest / "__pycache__").glob("command_executor.*.pyc"))
    assert builtin_executors.install(tmp_path / "libexec") == dest
    assert [p.name for p in (tmp_path / "libexec").iterdir()] == [dest.name]


def test_the_copy_holds_the_protocols_files_the_executors_import(tmp_path):
    """`daemons.protocols` with its states and RecordIO framing, as a package of its own, each
    module compiled, all of it readable by anyone."""
    dest = builtin_executors.install(tmp_path / "libexec")
    shared = {
        "daemons/__init__.py",
        "daemons/protocols/__init__.py",
        "daemons/protocols/recordio.py",
        "daemons/protocols/states.py",
    }
    assert set(builtin_executors.SHARED) == shared
    project = Path(daemons.__file__).parent.parent
    for name in shared:
        copy = dest / name
        assert copy.read_bytes() == (project / name).read_bytes()
        assert stat.S_IMODE(copy.stat().st_mode) == 0o644
        (compiled,) = (copy.parent / "__pycache__").glob(f"{copy.stem}.*.pyc")
        assert stat.S_IMODE(compiled.stat().st_mode) == 0o644
    for directory in (dest / "daemons", dest / "daemons" / "protocols"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o755
    # Nothing else of the project: not the rest of the protocols layer, not the agent.
    copied = {str(p.relative_to(dest)) for p in (dest / "daemons").rglob("*.py")}
    assert copied == shared


def test_a_new_version_of_what_is_shared_is_a_new_copy(tmp_path, monkeypatch):
    """The copy's name is the hash of everything in it, the shared files included: an upgrade
    never rewrites a file a running executor may still import."""
    first = builtin_executors.install(tmp_path / "libexec")
    changed = tmp_path / "project"
    for name in builtin_executors.SHARED:
        (changed / name).parent.mkdir(parents=True, exist_ok=True)
        (changed / name).write_bytes(Path(builtin_executors.PROJECT, name).read_bytes())
    (changed / "daemons/protocols/states.py").write_text("TERMINAL_STATES = frozenset()\n")
    monkeypatch.setattr(builtin_executors, "PROJECT", changed)
    second = builtin_executors.install(tmp_path / "libexec")
    assert second != first and (first / "daemons/protocols/states.py").exists()
    assert (second / "daemons/protocols/states.py").read_text() == "TERMINAL_STATES = frozenset()\n"


def test_unwritable_target_falls_back_to_the_source(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert builtin_executors.install(blocker / "libexec") == builtin_executors.SOURCE


NOT_ROOT = subprocess.run(["id", "-u"], capture_output=True).stdout != b"0\n"


@pytest.fixture
def copy(tmp_path: Path) -> Iterator[Path]:
    with public_copy(tmp_path) as dest:
        yield dest


@pytest.mark.skipif(NOT_ROOT, reason="needs root to switch to nobody")
def test_an_unprivileged_user_can_run_the_copy_from_a_private_tree(copy: Path) -> None:
    result = subprocess.run(
        [
            *AS_NOBODY,
            "/usr/bin/python3",
            "-I",
            "-S",
            "-c",
            f"open({str(copy / 'command.py')!r}).read(); print('ok')",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.stdout.strip() == "ok", result.stderr


@pytest.mark.skipif(NOT_ROOT, reason="needs root to switch to nobody")
def test_the_executor_imports_the_protocols_from_its_copy(copy: Path) -> None:
    """What command.py does before it runs the executor: its directory first on sys.path."""
    script = (
        f"import sys; sys.path.insert(0, {str(copy)!r}); import command_executor; "
        "import daemons.protocols.states as s, daemons.protocols.recordio as r; "
        "print(s.__file__); print(r.__file__); print(sorted(s.TERMINAL_STATES))"
    )
    result = subprocess.run(
        [*AS_NOBODY, "/usr/bin/python3", "-I", "-S", "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
    )
    states_file, recordio_file, terminal = result.stdout.splitlines()
    assert states_file == str(copy / "daemons/protocols/states.py"), result.stderr
    assert recordio_file == str(copy / "daemons/protocols/recordio.py")
    assert "TASK_FINISHED" in terminal
