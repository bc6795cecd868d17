"""Launch decisions: command executor info, argv, limits, user and the executor environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemons.agent import launcher
from daemons.agent.model import ExecutorKind
from daemons.protocols.models import CommandInfo, ExecutorInfo, FrameworkInfo, TaskInfo
from daemons.protocols.resources import from_v1

ARGV = ["/usr/bin/python3", "-I", "-S", "/opt/command.py"]


def cpus_mem_ports(cpus: float, mem: float, ports: list[tuple[int, int]] | None = None) -> list:
    items: list[dict[str, object]] = [
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus}},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": mem}},
    ]
    if ports:
        rng = [{"begin": b, "end": e} for b, e in ports]
        items.append({"name": "ports", "type": "RANGES", "ranges": {"range": rng}})
    return items


TASK_JSON = {
    "task_id": {"value": "web.1"},
    "name": "web",
    "resources": cpus_mem_ports(0.5, 64, [(31000, 31001), (31005, 31005)]),
    "command": {
        "value": "sleep 10",
        "environment": {
            "variables": [
                {"name": "GREETING", "value": "hi"},
                {"name": "TOKEN", "type": "SECRET", "secret": {}},
                {"name": "MESOS_FRAMEWORK_ID", "value": "spoofed"},
            ]
        },
    },
    "discovery": {"ports": {"ports": [{"number": 31000, "name": "http-api"}]}},
}
TASK = TaskInfo.parse(TASK_JSON)
FRAMEWORK_JSON = {"id": {"value": "fw"}, "user": "alice", "name": "marathon", "role": "web"}
FRAMEWORK = FrameworkInfo.parse(FRAMEWORK_JSON)
FACTS = launcher.AgentFacts(
    agent_id="a-S0",
    ip="127.0.0.1",
    port=5051,
    hostname="agent1",
    shutdown_grace_period=5.0,
    recovery_timeout=900.0,
)


def test_command_executor_id_is_the_task_id_and_resources_are_the_tasks() -> None:
    info = launcher.command_executor_info(TASK, "fw", ARGV)
    assert (info.executor_id, info.framework_id) == ("web.1", "fw")
    assert info.raw["executor_id"] == {"value": "web.1"}
    assert info.raw["resources"] == TASK_JSON["resources"]  # as the master sent them
    assert info.resources == TASK.resources
    assert info.command is not None and list(info.command.arguments) == ARGV
    assert info.name == "Command Executor (Task: web.1) (Command: sh -c 'sleep 10')"


def test_command_container_limits_add_mesos_executor_allowance() -> None:
    limits = launcher.container_limits(ExecutorKind.COMMAND, {}, [TASK])
    assert limits == launcher.Limits(cpus=0.6, mem_mb=96.0)


def test_custom_container_limits_are_executor_plus_tasks() -> None:
    own = from_v1(cpus_mem_ports(0.1, 32))
    limits = launcher.container_limits(ExecutorKind.CUSTOM, own, [TASK])
    assert limits == launcher.Limits(cpus=0.6, mem_mb=96.0)


@pytest.mark.parametrize(
    ("command", "argv"),
    [
        ({"value": "./run.sh --fast"}, ["/bin/sh", "-c", "./run.sh --fast"]),
        (
            {"value": "/bin/echo", "shell": False, "arguments": ["echo", "a", "b"]},
            ["/bin/echo", "a", "b"],
        ),
        ({"value": "/bin/true", "shell": False}, ["/bin/true"]),
    ],
)
def test_custom_executor_argv(command: dict[str, object], argv: list[str]) -> None:
    info = ExecutorInfo.parse({"executor_id": {"value": "e"}, "command": command})
    assert launcher.executor_argv(ExecutorKind.CUSTOM, info, ARGV) == argv


def test_command_tasks_run_our_executor() -> None:
    info = launcher.command_executor_info(TASK, "fw", ["/elsewhere"])
    assert launcher.executor_argv(ExecutorKind.COMMAND, info, ARGV) == ARGV


def test_custom_executor_without_a_command_is_refused() -> None:
    info = ExecutorInfo.parse({"executor_id": {"value": "e"}, "command": {}})
    with pytest.raises(ValueError):
        launcher.executor_argv(ExecutorKind.CUSTOM, info, ARGV)


def test_tasks_run_as_the_task_user_unless_frameworks_may_choose() -> None:
    root, bob = CommandInfo(user="root"), CommandInfo(user="bob")
    assert launcher.run_as_user("nobody", False, FRAMEWORK, root) == "nobody"
    assert launcher.run_as_user("nobody", True, FRAMEWORK, bob) == "bob"
    assert launcher.run_as_user("nobody", True, FRAMEWORK, CommandInfo()) == "alice"
    nameless = FrameworkInfo(user="", name="fw")
    assert launcher.run_as_user("nobody", True, nameless, None) == "nobody"


def test_executor_environment_for_a_command_task() -> None:
    framework_json = {**FRAMEWORK_JSON, "capabilities": [{"type": "TASK_KILLING_STATE"}]}
    info = launcher.command_executor_info(TASK, "fw", ARGV)
    env = launcher.executor_environment(
        base={"PATH": "/usr/bin", "MESOS_CHECKPOINT": "0"},
        agent=FACTS,
        framework=FrameworkInfo.parse(framework_json),
        executor=info,
        kind=ExecutorKind.COMMAND,
        directory=Path("/sandbox"),
        task=TASK,
    )
    assert env["PATH"] == "/usr/bin"
    assert env["MESOS_FRAMEWORK_ID"] == "fw"
    assert env["MESOS_EXECUTOR_ID"] == "web.1"
    assert env["MESOS_AGENT_ENDPOINT"] == "127.0.0.1:5051"
    assert env["MESOS_DIRECTORY"] == env["MESOS_SANDBOX"] == "/sandbox"
    assert env["MESOS_CHECKPOINT"] == "1"
    assert env["MESOS_SLAVE_ID"] == "a-S0"
    assert env["MESOS_SLAVE_PID"] == "slave(1)@127.0.0.1:5051"
    assert env["MESOS_TASK_ID"] == "web.1"
    assert env["MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"] == "5secs"
    assert env["MESOS_RECOVERY_TIMEOUT"] == "15mins"
    assert env["MESOS_TASK_KILLING_STATE"] == "1"
    assert env["MESOS_ALLOCATION_ROLE"] == "web"
    assert env["HOST"] == "agent1"
    assert (env["PORT0"], env["PORT1"], env["PORT2"]) == ("31000", "31001", "31005")
    assert env["PORTS"] == "31000,31001,31005"
    assert env["PORT_HTTP_API"] == "31000"
    assert env["GREETING"] == "hi"
    assert "TOKEN" not in env


def test_executor_environment_without_killing_capability_or_ports() -> None:
    info = {
        "executor_id": {"value": "e"},
        "framework_id": {"value": "fw"},
        "command": {"value": "x"},
        "shutdown_grace_period": {"nanoseconds": 250_000_000},
    }
    env = launcher.executor_environment(
        base={},
        agent=FACTS,
        framework=FRAMEWORK,
        executor=ExecutorInfo.parse(info),
        kind=ExecutorKind.CUSTOM,
        directory=Path("/s"),
        task=None,
    )
    assert "MESOS_TASK_KILLING_STATE" not in env
    assert "PORT0" not in env and "MESOS_TASK_ID" not in env
    assert env["MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"] == "250ms"


def test_sandbox_path_layout() -> None:
    path = launcher.sandbox_path(Path("/w"), "A", "F", "E", "C")
    assert path == Path("/w/slaves/A/frameworks/F/executors/E/runs/C")
