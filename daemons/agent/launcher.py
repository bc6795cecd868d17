"""What to launch for a task: executor info, argv, limits, user, sandbox path and environment.

Pure: every input (config values, agent id, the agent's own environment) comes in as an argument.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from daemons.agent.model import ExecutorKind
from daemons.agent.protocol import duration_text, framework_role
from daemons.protocols import resources as res
from daemons.protocols.ids import id_json
from daemons.protocols.models import (
    CommandInfo,
    DiscoveryInfo,
    ExecutorInfo,
    FrameworkInfo,
    TaskInfo,
)

# Mesos' allowance for the built-in command executor itself: in the container's limits, never
# accounted to the master (slave/constants.hpp DEFAULT_EXECUTOR_CPUS / DEFAULT_EXECUTOR_MEM). A
# default executor gets it too for each of cpus and mem its ExecutorInfo does not declare.
COMMAND_EXECUTOR_CPUS = 0.1
COMMAND_EXECUTOR_MEM_MB = 32.0


@dataclass(frozen=True)
class Limits:
    cpus: float
    mem_mb: float


def sandbox_path(work_dir: Path, agent_id: str, fid: str, eid: str, cid: str) -> Path:
    """`<work_dir>/slaves/<aid>/frameworks/<fid>/executors/<eid>/runs/<cid>` (Mesos' layout)."""
    return work_dir / "slaves" / agent_id / "frameworks" / fid / "executors" / eid / "runs" / cid


def command_executor_info(task: TaskInfo, framework_id: str, argv: Sequence[str]) -> ExecutorInfo:
    """The ExecutorInfo of the built-in executor of a command task: executor id = task id, the
    task's resources (echoed as the master sent them)."""
    command = task.command or CommandInfo()
    shown = command.value or " ".join(command.arguments)
    info = {
        "executor_id": id_json(task.task_id),
        "framework_id": id_json(framework_id),
        "name": f"Command Executor (Task: {task.task_id}) (Command: sh -c '{shown[:64]}')",
        "source": task.task_id,
        "command": {"value": shlex.join(argv), "shell": False, "arguments": list(argv)},
        "resources": list(task.raw.get("resources") or []),
    }
    return ExecutorInfo.parse(info, "command_executor")


def with_framework_id(info: ExecutorInfo, framework_id: str) -> ExecutorInfo:
    """A framework's ExecutorInfo with its framework id set (typed, and in what is echoed)."""
    raw = dict(info.raw, framework_id=id_json(framework_id))
    return dataclasses.replace(info, framework_id=framework_id, raw=raw)


def group_executor_kind(info: ExecutorInfo) -> ExecutorKind:
    """The executor of a task group: the framework's for type CUSTOM, else the built-in default
    executor (Mesos requires type DEFAULT or CUSTOM on LAUNCH_GROUP; ours accepts it unset)."""
    return ExecutorKind.CUSTOM if info.type == "CUSTOM" else ExecutorKind.DEFAULT


def executor_argv(kind: ExecutorKind, info: ExecutorInfo, builtin_argv: Sequence[str]) -> list[str]:
    """argv of the executor process: `builtin_argv` for our command and default executors,
    else from ExecutorInfo.command."""
    if kind is not ExecutorKind.CUSTOM:
        return list(builtin_argv)
    command = info.command
    if command is None or not command.value:
        raise ValueError("ExecutorInfo.command.value is required")
    if command.shell:
        return ["/bin/sh", "-c", command.value]
    # Mesos: `value` is the program, `arguments` the whole argv (argv[0] included).
    return [command.value, *command.arguments[1:]]


def container_limits(
    kind: ExecutorKind, executor_resources: Mapping[str, res.Resources], tasks: Sequence[TaskInfo]
) -> Limits:
    """cpus and mem the container may use: executor + tasks (+ the built-in executor allowance).

    command: tasks + 0.1 cpus + 32 MB (its ExecutorInfo is ours: only the task's resources);
    custom: executor + tasks; default: executor + tasks, plus 0.1 cpus if the executor declares
    no cpus and 32 MB if it declares no mem."""
    own = res.flatten(executor_resources if kind is not ExecutorKind.COMMAND else {})
    total = own
    for task in tasks:
        total = total + res.flatten(task.resources)
    cpus, mem = total.scalar("cpus"), total.scalar("mem")
    builtin = kind is not ExecutorKind.CUSTOM
    if builtin and not own.scalar("cpus") > 0:
        cpus += COMMAND_EXECUTOR_CPUS
    if builtin and not own.scalar("mem") > 0:
        mem += COMMAND_EXECUTOR_MEM_MB
    return Limits(cpus=round(cpus, 3), mem_mb=round(mem, 3))


def run_as_user(
    task_user: str,
    allow_framework_user: bool,
    framework: FrameworkInfo,
    command: CommandInfo | None,
) -> str:
    """Everything runs as `task_user` unless the operator lets frameworks choose their user."""
    if not allow_framework_user:
        return task_user
    return (command.user if command is not None else None) or framework.user or task_user


def shutdown_grace_period(info: ExecutorInfo, default: float) -> float:
    value = info.shutdown_grace_period
    return default if value is None or value < 0 else value


def _port_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name).upper()


def port_environment(
    resources: Mapping[str, res.Resources], discovery: DiscoveryInfo | None
) -> dict[str, str]:
    """PORT0..N and PORTS from the task's port ranges; PORT_<NAME> from named discovery ports."""
    ports: list[int] = []
    for role_resources in resources.values():
        for begin, end in role_resources.ranges.get("ports", ()):
            ports.extend(range(begin, min(end, begin + 1024) + 1))
    env = {f"PORT{i}": str(p) for i, p in enumerate(sorted(ports))}
    if ports:
        env["PORT"] = str(sorted(ports)[0])
        env["PORTS"] = ",".join(str(p) for p in sorted(ports))
    for port in discovery.ports if discovery is not None else ():
        if port.name:
            env[f"PORT_{_port_name(port.name)}"] = str(port.number)
    return env


@dataclass(frozen=True)
class AgentFacts:
    """What the environment needs to know about the agent itself."""

    agent_id: str
    ip: str
    port: int
    hostname: str
    shutdown_grace_period: float
    recovery_timeout: float


def executor_environment(
    *,
    base: Mapping[str, str],
    agent: AgentFacts,
    framework: FrameworkInfo,
    executor: ExecutorInfo,
    kind: ExecutorKind,
    directory: Path,
    task: TaskInfo | None,
) -> dict[str, str]:
    """As a Mesos agent builds it: its own environment, task ports, CommandInfo env, MESOS_*.
    `framework` and `executor` have their ids set."""
    env = dict(base)
    env["HOST"] = agent.hostname
    # The task's resources (a command task) when it has any, else the executor's.
    holder: TaskInfo | ExecutorInfo = task if task is not None and task.resources else executor
    env.update(port_environment(holder.resources, (task or executor).discovery))
    command = task.command if task is not None and kind is ExecutorKind.COMMAND else None
    command = command or executor.command
    env.update(command.environment_values() if command is not None else {})
    grace = shutdown_grace_period(executor, agent.shutdown_grace_period)
    env.update(
        {
            "MESOS_FRAMEWORK_ID": framework.id or "",
            "MESOS_EXECUTOR_ID": executor.executor_id,
            "MESOS_AGENT_ENDPOINT": f"{agent.ip}:{agent.port}",
            "MESOS_DIRECTORY": str(directory),
            "MESOS_SANDBOX": str(directory),
            "MESOS_CHECKPOINT": "1",
            "MESOS_SLAVE_ID": agent.agent_id,
            "MESOS_SLAVE_PID": f"slave(1)@{agent.ip}:{agent.port}",
            "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD": duration_text(grace),
            "MESOS_RECOVERY_TIMEOUT": duration_text(agent.recovery_timeout),
            "MESOS_SUBSCRIPTION_BACKOFF_MAX": "2secs",
            "MESOS_HTTP_COMMAND_EXECUTOR": "1" if kind is ExecutorKind.COMMAND else "0",
            "MESOS_ALLOCATION_ROLE": holder.allocation_role or framework_role(framework),
        }
    )
    if task is not None:
        env["MESOS_TASK_ID"] = task.task_id
    if framework.has_capability("TASK_KILLING_STATE"):
        env["MESOS_TASK_KILLING_STATE"] = "1"
    return env
