"""Checkpoints: atomic writes and the round trip of agent, framework, executor, run and tasks."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemons.agent.checkpoint import CheckpointError, Checkpoints, read_json, write_json


def test_atomic_write_replaces_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b.info"
    write_json(path, {"v": 1})
    write_json(path, {"v": 2})
    assert read_json(path) == {"v": 2}
    assert sorted(p.name for p in path.parent.iterdir()) == ["b.info"]


def test_unreadable_checkpoint_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "torn").write_text('{"v": ')
    with pytest.raises(CheckpointError):
        read_json(tmp_path / "torn")
    with pytest.raises(CheckpointError):
        read_json(tmp_path / "missing")


def test_round_trip(tmp_path: Path) -> None:
    cps = Checkpoints(tmp_path)
    assert cps.latest_agent() is None and cps.boot_id() is None
    cps.write_boot_id("boot-1")
    cps.write_agent("A-S0", {"hostname": "h"})
    cps.write_framework("A-S0", "F", {"id": {"value": "F"}, "name": "fw"})
    cps.write_executor("A-S0", "F", "E", {"executor_id": {"value": "E"}})
    cps.write_run("A-S0", "F", "E", "C1", {"kind": "command", "pid": None, "completed": True})
    cps.write_run("A-S0", "F", "E", "C2", {"kind": "command", "pid": 42, "completed": False})
    cps.write_task("A-S0", "F", "E", "C2", {"task_id": {"value": "T"}, "name": "t"})
    cps.write_updates("A-S0", "F", "E", "C2", "T", {"pending": [{"state": "TASK_RUNNING"}]})
    assert cps.boot_id() == "boot-1"
    assert cps.latest_agent() == ("A-S0", {"hostname": "h"})
    runs, errors = cps.read_runs("A-S0")
    assert errors == []
    assert [(r.executor_id, r.container_id) for r in runs] == [("E", "C1"), ("E", "C2")]
    live = runs[1]
    assert live.framework_info["name"] == "fw"
    assert live.run["pid"] == 42
    assert [t.info["name"] for t in live.tasks] == ["t"]
    assert live.tasks[0].updates == {"pending": [{"state": "TASK_RUNNING"}]}
    assert (cps.executor_dir("A-S0", "F", "E") / "runs" / "latest").readlink() == Path("C2")


def test_a_corrupt_run_is_an_error_that_names_the_file(tmp_path: Path) -> None:
    cps = Checkpoints(tmp_path)
    cps.write_framework("A", "F", {"id": {"value": "F"}})
    cps.write_executor("A", "F", "E", {"executor_id": {"value": "E"}})
    cps.write_run("A", "F", "E", "good", {"kind": "command"})
    bad = cps.run_dir("A", "F", "E", "bad")
    bad.mkdir(parents=True)
    (bad / "run.info").write_text("{")
    with pytest.raises(CheckpointError, match=r"bad/run.info: not JSON"):
        cps.read_runs("A")


def test_a_run_whose_first_write_never_completed_is_skipped(tmp_path: Path) -> None:
    """A missing file means the agent stopped (or the disk filled) before the atomic rename:
    nothing of that run or task was ever launched or acknowledged."""
    cps = Checkpoints(tmp_path)
    cps.write_framework("A", "F", {"id": {"value": "F"}})
    cps.write_executor("A", "F", "E", {"executor_id": {"value": "E"}})
    cps.write_run("A", "F", "E", "good", {"kind": "command"})
    cps.run_dir("A", "F", "E", "half").mkdir(parents=True)
    cps.task_dir("A", "F", "E", "good", "T").mkdir(parents=True)  # no task.info
    (cps.framework_dir("A", "G")).mkdir(parents=True)  # no framework.info
    runs, skipped = cps.read_runs("A")
    assert [(r.container_id, r.tasks) for r in runs] == [("good", [])]
    assert len(skipped) == 2
    assert any("half" in s for s in skipped) and any("/G" in s for s in skipped)


def test_a_failed_write_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "d" / "x.info"
    path.mkdir(parents=True)  # a directory where the file should go: the rename fails
    with pytest.raises(CheckpointError, match="cannot checkpoint"):
        write_json(path, {"v": 1})
    assert sorted(p.name for p in path.parent.iterdir()) == ["x.info"]


def test_boot_id_missing_is_none_and_unreadable_is_an_error(tmp_path: Path) -> None:
    cps = Checkpoints(tmp_path)
    assert cps.boot_id() is None
    (tmp_path / "meta" / "boot_id").mkdir(parents=True)
    with pytest.raises(CheckpointError, match="boot_id"):
        cps.boot_id()


def test_forget_latest_removes_only_the_link(tmp_path: Path) -> None:
    cps = Checkpoints(tmp_path)
    cps.write_agent("A-S0", {"hostname": "h"})
    cps.forget_latest()
    assert cps.latest_agent() is None
    assert (cps.agent_dir("A-S0") / "slave.info").exists()
    cps.forget_latest()  # nothing to forget: fine
