"""Task groups, the default executor's pure parts: task sandboxes, environment, outcomes and
Mesos' kill-the-group policy. (Its flow against a fake agent is in
tests/integration/agent/test_default_executor_flow.py.)"""

from __future__ import annotations

import signal

import pytest

from daemons.agent.executors import default_executor as de


def group_task(task_id: str, group: int, state: str = "TASK_RUNNING") -> de.GroupTask:
    task = de.GroupTask({"task_id": {"value": task_id}, "command": {"value": "true"}}, group)
    task.state = state
    return task


def test_task_sandbox_is_under_tasks_of_the_executor_sandbox() -> None:
    assert de.task_sandbox("/w/runs/c1", "web.1") == "/w/runs/c1/tasks/web.1"


def test_task_environment_points_at_the_task_sandbox_and_the_command_wins() -> None:
    task = {
        "task_id": {"value": "t"},
        "command": {
            "value": "true",
            "environment": {"variables": [{"name": "GREETING", "value": "hi"}]},
        },
    }
    base = {"PATH": "/bin", "MESOS_SANDBOX": "/executor", "GREETING": "old"}
    env = de.task_process_environment(base, task, "/executor/tasks/t")
    assert env == {
        "PATH": "/bin",
        "MESOS_SANDBOX": "/executor/tasks/t",
        "MESOS_TASK_ID": "t",
        "GREETING": "hi",
    }
    assert base["MESOS_SANDBOX"] == "/executor"  # not modified


@pytest.mark.parametrize(
    ("status", "killing", "state"),
    [
        (0, False, "TASK_FINISHED"),
        (2 << 8, False, "TASK_FAILED"),
        (signal.SIGKILL, False, "TASK_FAILED"),  # killed by someone else: a failure
        (signal.SIGTERM, True, "TASK_KILLED"),
        (0, True, "TASK_KILLED"),  # exited cleanly on the SIGTERM: still killed
    ],
)
def test_outcome(status: int, killing: bool, state: str) -> None:
    assert de.outcome(status, killing) == state


def test_a_failed_task_takes_the_live_rest_of_its_group_only() -> None:
    failed = group_task("a", 1, "TASK_FAILED")
    mate = group_task("b", 1)
    done = group_task("c", 1, "TASK_FINISHED")
    stranger = group_task("d", 2)
    tasks = [failed, mate, done, stranger]
    assert de.group_to_kill(tasks, failed) == [mate]


def test_a_killed_task_takes_its_group_too() -> None:
    killed, mate = group_task("a", 1, "TASK_KILLED"), group_task("b", 1)
    assert de.group_to_kill([killed, mate], killed) == [mate]


def test_a_finished_task_takes_nothing() -> None:
    finished, mate = group_task("a", 1, "TASK_FINISHED"), group_task("b", 1)
    assert de.group_to_kill([finished, mate], finished) == []
