"""Task groups, launch decisions: the group's executor kind, argv and container limits. Pure."""

from __future__ import annotations

from typing import Any

import pytest

from daemons.agent import launcher
from daemons.agent.model import ExecutorKind
from daemons.protocols.models import CommandInfo, ExecutorInfo, TaskInfo
from daemons.protocols.resources import Resources, from_v1

DEFAULT_ARGV = ["/usr/bin/python3", "-I", "-S", "/opt/default.py"]


def scalars(**values: float) -> dict[str, Resources]:
    """Unreserved resources, by role."""
    return from_v1(
        [{"name": k, "type": "SCALAR", "scalar": {"value": v}} for k, v in values.items()]
    )


def task(task_id: str, cpus: float, mem: float) -> TaskInfo:
    return TaskInfo(task_id=task_id, resources=scalars(cpus=cpus, mem=mem, disk=10))


GROUP = [task("a", 0.5, 64), task("b", 0.25, 128)]


def test_group_limits_are_executor_plus_every_task() -> None:
    limits = launcher.container_limits(ExecutorKind.DEFAULT, scalars(cpus=0.1, mem=32), GROUP)
    # 0.1 + 0.5 + 0.25 cpus; 32 + 64 + 128 MB: the executor declares both, so no allowance
    assert limits == launcher.Limits(cpus=0.85, mem_mb=224.0)


def test_a_default_executor_without_resources_gets_the_command_executor_allowance() -> None:
    limits = launcher.container_limits(ExecutorKind.DEFAULT, {}, GROUP)
    # 0.75 + 0.1 cpus; 192 + 32 MB
    assert limits == launcher.Limits(cpus=0.85, mem_mb=224.0)


@pytest.mark.parametrize(
    ("executor", "expected"),
    [
        (scalars(cpus=0.2), launcher.Limits(cpus=0.95, mem_mb=224.0)),  # + 32 MB allowance
        (scalars(mem=64), launcher.Limits(cpus=0.85, mem_mb=256.0)),  # + 0.1 cpus allowance
        (scalars(disk=100), launcher.Limits(cpus=0.85, mem_mb=224.0)),  # + both
    ],
)
def test_the_allowance_is_per_resource_the_executor_leaves_out(
    executor: dict[str, Resources], expected: launcher.Limits
) -> None:
    assert launcher.container_limits(ExecutorKind.DEFAULT, executor, GROUP) == expected


def test_a_custom_group_executor_gets_no_allowance() -> None:
    limits = launcher.container_limits(ExecutorKind.CUSTOM, {}, GROUP)
    assert limits == launcher.Limits(cpus=0.75, mem_mb=192.0)


@pytest.mark.parametrize(
    ("executor_type", "kind"),
    [
        ("DEFAULT", ExecutorKind.DEFAULT),
        (None, ExecutorKind.DEFAULT),
        ("CUSTOM", ExecutorKind.CUSTOM),
    ],
)
def test_group_executor_kind(executor_type: str | None, kind: ExecutorKind) -> None:
    info: dict[str, Any] = {"executor_id": {"value": "e"}}
    if executor_type is not None:
        info["type"] = executor_type
    assert launcher.group_executor_kind(ExecutorInfo.parse(info)) is kind


def test_the_default_executor_runs_the_builtin_argv_whatever_its_info_says() -> None:
    info = ExecutorInfo(executor_id="e", type="DEFAULT", command=CommandInfo(value="ignored"))
    assert launcher.executor_argv(ExecutorKind.DEFAULT, info, DEFAULT_ARGV) == DEFAULT_ARGV
