"""What to launch for a task: executor info, argv, limits, user, sandbox path and environment.

Pure: every input (config values, agent id, the agent's own environment) comes in as an argument.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daemons.agent.model import ExecutorKind
from daemons.agent.protocol import (
    allocation_role,
    duration_text,
    has_capability,
    id_json,
    nanoseconds,
)
from daemons.protocols import JSON
from daemons.protocols import resources as res

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


def command_executor_info(task: JSON, framework_id: str, argv: Sequence[str]) -> JSON:
    """The ExecutorInfo of the built-in executor of a command task: executor id = task id."""
    task_id = str(task["task_id"]["value"])
    command = task.get("command") or {}
    shown = command.get("value") or " ".join(str(a) for a in command.get("arguments") or [])
    return {
        "executor_id": id_json(task_id),
        "framework_id": id_json(framework_id),
        "name": f"Command Executor (Task: {task_id}) (Command: sh -c '{shown[:64]}')",
        "source": task_id,
        "command": {"value": shlex.join(argv), "shell": False, "arguments": list(argv)},
        "resources": list(task.get("resources") or []),
    }


def group_executor_kind(info: JSON) -> ExecutorKind:
    """The executor of a task group: the framework's for type CUSTOM, else the built-in default
    executor (Mesos requires type DEFAULT or CUSTOM on LAUNCH_GROUP; ours accepts it unset)."""
    return ExecutorKind.CUSTOM if info.get("type") == "CUSTOM" else ExecutorKind.DEFAULT


def executor_argv(kind: ExecutorKind, info: JSON, builtin_argv: Sequence[str]) -> list[str]:
    """argv of the executor process: `builtin_argv` for our command and default executors,
    else from ExecutorInfo.command."""
    if kind is not ExecutorKind.CUSTOM:
        return list(builtin_argv)
    command = info.get("command") or {}
    value = command.get("value")
    if not isinstance(value, str) or not value:
        raise ValueError("ExecutorInfo.command.value is required")
    if command.get("shell", True):
        return ["/bin/sh", "-c", value]
    # Mesos: `value` is the program, `arguments` the whole argv (argv[0] included).
    arguments = [str(a) for a in command.get("arguments") or []]
    return [value, *arguments[1:]]


def container_limits(kind: ExecutorKind, executor_resources: Any, tasks: Sequence[JSON]) -> Limits:
    """cpus and mem the container may use: executor + tasks (+ the built-in executor allowance).

    command: tasks + 0.1 cpus + 32 MB (its ExecutorInfo is ours: only the task's resources);
    custom: executor + tasks; default: executor + tasks, plus 0.1 cpus if the executor declares
    no cpus and 32 MB if it declares no mem."""
    own = res.flatten(res.from_v1(executor_resources if kind is not ExecutorKind.COMMAND else []))
    total = own
    for task in tasks:
        total = total + res.flatten(res.from_v1(task.get("resources") or []))
    cpus, mem = total.scalar("cpus"), total.scalar("mem")
    builtin = kind is not ExecutorKind.CUSTOM
    if builtin and not own.scalar("cpus") > 0:
        cpus += COMMAND_EXECUTOR_CPUS
    if builtin and not own.scalar("mem") > 0:
        mem += COMMAND_EXECUTOR_MEM_MB
    return Limits(cpus=round(cpus, 3), mem_mb=round(mem, 3))


def run_as_user(
    task_user: str, allow_framework_user: bool, framework_info: JSON, command: JSON | None
) -> str:
    """Everything runs as `task_user` unless the operator lets frameworks choose their user."""
    if not allow_framework_user:
        return task_user
    for candidate in ((command or {}).get("user"), framework_info.get("user")):
        if isinstance(candidate, str) and candidate:
            return candidate
    return task_user


def shutdown_grace_period(info: JSON, default: float) -> float:
    value = nanoseconds(info.get("shutdown_grace_period"))
    return default if value is None else value


def _port_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name).upper()


def port_environment(resources: Any, discovery: Any) -> dict[str, str]:
    """PORT0..N and PORTS from the task's port ranges; PORT_<NAME> from named discovery ports."""
    ports: list[int] = []
    for role_resources in res.from_v1(resources or []).values():
        for begin, end in role_resources.ranges.get("ports", ()):
            ports.extend(range(begin, min(end, begin + 1024) + 1))
    env = {f"PORT{i}": str(p) for i, p in enumerate(sorted(ports))}
    if ports:
        env["PORT"] = str(sorted(ports)[0])
        env["PORTS"] = ",".join(str(p) for p in sorted(ports))
    named = ((discovery or {}).get("ports") or {}).get("ports") or []
    for entry in named:
        if isinstance(entry, dict) and entry.get("name") and isinstance(entry.get("number"), int):
            env[f"PORT_{_port_name(str(entry['name']))}"] = str(entry["number"])
    return env


def command_environment(command: JSON | None) -> dict[str, str]:
    """CommandInfo.environment VALUE variables (SECRET ones need a secret store we lack)."""
    out: dict[str, str] = {}
    variables = ((command or {}).get("environment") or {}).get("variables") or []
    for var in variables:
        if not isinstance(var, dict) or not isinstance(var.get("name"), str):
            continue
        if var.get("type", "VALUE") == "VALUE" and isinstance(var.get("value"), str):
            out[var["name"]] = var["value"]
    return out


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
    framework_info: JSON,
    executor_info: JSON,
    kind: ExecutorKind,
    directory: Path,
    task: JSON | None,
) -> dict[str, str]:
    """As a Mesos agent builds it: its own environment, task ports, CommandInfo env, MESOS_*."""
    framework_id = str(framework_info["id"]["value"])
    executor_id = str(executor_info["executor_id"]["value"])
    env = dict(base)
    env["HOST"] = agent.hostname
    resources = (task or {}).get("resources") or executor_info.get("resources") or []
    env.update(port_environment(resources, (task or executor_info).get("discovery")))
    command = (task or {}).get("command") if kind is ExecutorKind.COMMAND else None
    env.update(command_environment(command or executor_info.get("command")))
    grace = shutdown_grace_period(executor_info, agent.shutdown_grace_period)
    env.update(
        {
            "MESOS_FRAMEWORK_ID": framework_id,
            "MESOS_EXECUTOR_ID": executor_id,
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
            "MESOS_ALLOCATION_ROLE": allocation_role(resources, framework_info),
        }
    )
    if task is not None:
        env["MESOS_TASK_ID"] = str(task["task_id"]["value"])
    if has_capability(framework_info, "TASK_KILLING_STATE"):
        env["MESOS_TASK_KILLING_STATE"] = "1"
    return env
