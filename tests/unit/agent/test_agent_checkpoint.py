"""Checkpoints: atomic writes and the round trip of agent, framework, executor, run and tasks."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemons.agent.checkpoint import (
    CheckpointError,
    Checkpoints,
    RunInfo,
    read_json,
    write_json,
)
from daemons.agent.model import ExecutorKind
from daemons.agent.protocol import built
from daemons.agent.status_updates import TaskStream
from daemons.protocols.models import AgentInfo, ExecutorInfo, FrameworkInfo, TaskInfo, TaskStatus

AGENT = AgentInfo(hostname="h")
FRAMEWORK = FrameworkInfo.parse({"id": {"value": "F"}, "user": "u", "name": "fw"})
EXECUTOR = ExecutorInfo.parse({"executor_id": {"value": "E"}})


def run(pid: int | None = None, completed: bool = False) -> RunInfo:
    return RunInfo(
        kind=ExecutorKind.COMMAND,
        directory=Path("/sandbox"),
        user="nobody",
        resources={},
        pid=pid,
        completed=completed,
    )


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
    cps.write_agent("A-S0", AGENT)
    cps.write_framework("A-S0", "F", FRAMEWORK)
    cps.write_executor("A-S0", "F", "E", EXECUTOR)
    cps.write_run("A-S0", "F", "E", "C1", run(completed=True))
    cps.write_run("A-S0", "F", "E", "C2", run(pid=42))
    cps.write_task("A-S0", "F", "E", "C2", TaskInfo.parse({"task_id": {"value": "T"}, "name": "t"}))
    running = built(TaskStatus(task_id="T", state="TASK_RUNNING", uuid=bytes(16)))
    stream = TaskStream("F", "T", pending=[running], seen=[bytes(16)], latest_state="TASK_RUNNING")
    cps.write_updates("A-S0", "F", "E", "C2", stream)
    assert cps.boot_id() == "boot-1"
    assert cps.latest_agent() == ("A-S0", AGENT)
    runs, errors = cps.read_runs("A-S0")
    assert errors == []
    assert [(r.executor_id, r.container_id) for r in runs] == [("E", "C1"), ("E", "C2")]
    live = runs[1]
    assert live.framework_info == FRAMEWORK and live.executor_info == EXECUTOR
    assert live.run == run(pid=42)
    assert [t.info.name for t in live.tasks] == ["t"]
    assert live.tasks[0].updates == stream
    assert (cps.executor_dir("A-S0", "F", "E") / "runs" / "latest").readlink() == Path("C2")


def test_a_corrupt_run_is_an_error_that_names_the_file(tmp_path: Path) -> None:
    cps = Checkpoints(tmp_path)
    cps.write_framework("A", "F", FRAMEWORK)
    cps.write_executor("A", "F", "E", EXECUTOR)
    cps.write_run("A", "F", "E", "good", run())
    bad = cps.run_dir("A", "F", "E", "bad")
    bad.mkdir(parents=True)
    (bad / "run.info").write_text("{")
    with pytest.raises(CheckpointError, match=r"bad/run.info: not JSON"):
        cps.read_runs("A")


def test_a_run_whose_first_write_never_completed_is_skipped(tmp_path: Path) -> None:
    """A missing file means the agent stopped (or the disk filled) before the atomic rename:
    nothing of that run or task was ever launched or acknowledged."""
    cps = Checkpoints(tmp_path)
    cps.write_framework("A", "F", FRAMEWORK)
    cps.write_executor("A", "F", "E", EXECUTOR)
    cps.write_run("A", "F", "E", "good", run())
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
    cps.write_agent("A-S0", AGENT)
    cps.forget_latest()
    assert cps.latest_agent() is None
    assert (cps.agent_dir("A-S0") / "slave.info").exists()
    cps.forget_latest()  # nothing to forget: fine


@pytest.mark.parametrize(
    ("name", "content", "complaint"),
    [
        (
            "framework.info",
            {"id": {"value": "F"}, "name": "fw"},
            "missing or non-string field 'user'",
        ),
        ("executor.info", {"executor_id": {}}, "field 'executor_id' must be an object"),
        ("run.info", {"kind": "docker", "directory": "/s", "user": "u"}, "field 'kind'"),
        ("run.info", {"kind": "command", "directory": "/s", "user": "u", "pid": "42"}, "'pid'"),
    ],
)
def test_a_checkpoint_that_is_json_but_not_its_message_is_an_error_naming_file_and_field(
    tmp_path: Path, name: str, content: dict[str, object], complaint: str
) -> None:
    cps = Checkpoints(tmp_path)
    cps.write_framework("A", "F", FRAMEWORK)
    cps.write_executor("A", "F", "E", EXECUTOR)
    cps.write_run("A", "F", "E", "C", run())
    path = {
        "framework.info": cps.framework_dir("A", "F"),
        "executor.info": cps.executor_dir("A", "F", "E"),
        "run.info": cps.run_dir("A", "F", "E", "C"),
    }[name] / name
    write_json(path, content)
    with pytest.raises(CheckpointError, match="cannot read checkpoint") as refused:
        cps.read_runs("A")
    assert str(path) in str(refused.value) and complaint in str(refused.value)
