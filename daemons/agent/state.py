"""What the agent tells about itself, as Mesos agents do: the SUBSCRIBE payload, `/state`,
`/metrics/snapshot`, `/version` and `/flags` (their endpoints are in state_api.py), and the
directories the files API serves.

The JSON builders run under the runtime's lock and only read the records.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from daemons.agent.agent import Agent
from daemons.agent.config import attributes_state_map
from daemons.agent.model import Executor, ExecutorKind, ExecutorState, Framework, Task
from daemons.agent.protocol import VERSION, framework_role, status_entry
from daemons.protocols import JSON
from daemons.protocols import resources as res
from daemons.protocols.ids import id_json

# Parts of a TaskInfo the agent reports as the framework sent them.
_TASK_EXTRAS = ("labels", "discovery", "container", "health_check", "kill_policy", "check")


# --- the SUBSCRIBE payload (docs/agent-protocol.md) ----------------------------------------


def task_v1(agent: Agent, executor: Executor, task: Task) -> JSON:
    info = task.info
    out: JSON = {
        "task_id": id_json(task.task_id),
        "framework_id": id_json(task.framework_id),
        "agent_id": id_json(agent.agent_id or ""),
        "name": info.name,
        "state": task.state,
        "resources": list(info.raw.get("resources") or []),
        "statuses": [{"task_id": id_json(task.task_id), **status_entry(s)} for s in task.statuses],
    }
    if executor.kind is not ExecutorKind.COMMAND:
        out["executor_id"] = id_json(executor.executor_id)
    for key in _TASK_EXTRAS:
        if key in info.raw:
            out[key] = info.raw[key]
    return out


def subscribe_payload(agent: Agent) -> JSON:
    frameworks: list[JSON] = []
    executors: list[JSON] = []
    tasks: list[JSON] = []
    for framework in agent.frameworks.values():
        if not framework.executors:
            continue
        frameworks.append(dict(framework.info.raw, id=id_json(framework.framework_id)))
        for executor in framework.executors.values():
            # Mesos never reports command executors: the master does not know them.
            if executor.live and executor.kind is not ExecutorKind.COMMAND:
                executors.append(executor.info.raw)
            tasks.extend(task_v1(agent, executor, t) for t in executor.tasks.values())
    return {
        "agent_info": agent.agent_info().to_json(),
        "version": VERSION,
        "boot_id": agent.boot_id,
        "frameworks": frameworks,
        "executors": executors,
        "tasks": tasks,
    }


# --- /state ------------------------------------------------------------------------------


def _role(agent: Agent, framework_id: str, allocation_role: str | None) -> str:
    """The role resources were allocated to, else the framework's."""
    if allocation_role is not None:
        return allocation_role
    framework = agent.frameworks.get(framework_id)
    return framework_role(framework.info) if framework is not None else "*"


def task_state_json(agent: Agent, executor: Executor, task: Task) -> JSON:
    info = task.info
    out: JSON = {
        "id": task.task_id,
        "name": info.name,
        "framework_id": task.framework_id,
        "executor_id": "" if executor.kind is ExecutorKind.COMMAND else executor.executor_id,
        "slave_id": agent.agent_id or "",
        "state": task.state,
        "resources": res.to_state_map(res.flatten(info.resources)),
        "role": _role(agent, task.framework_id, info.allocation_role),
        "statuses": [status_entry(s) for s in task.statuses],
    }
    for key in ("labels", "discovery", "container", "command"):
        if key in info.raw:
            out[key] = info.raw[key]
    return out


def executor_resources(executor: Executor) -> res.Resources:
    """The executor's own resources plus those of its live tasks."""
    total = res.flatten(executor.resources)
    for task in executor.tasks.values():
        if not task.terminal:
            total = total + res.flatten(task.info.resources)
    return total


def _own_allocation_role(executor: Executor) -> str | None:
    return executor.info.allocation_role if executor.resources else None


def executor_state_json(agent: Agent, executor: Executor) -> JSON:
    info = executor.info
    out: JSON = {
        "id": executor.executor_id,
        "name": info.name or "",
        "source": info.source or "",
        "container": executor.container_id,
        "directory": str(executor.directory),
        "resources": res.to_state_map(executor_resources(executor)),
        "role": _role(agent, executor.framework_id, _own_allocation_role(executor)),
        # A task killed before it reached the executor is no longer queued.
        "tasks": [
            task_state_json(agent, executor, t)
            for t in executor.tasks.values()
            if t.launched or t.terminal
        ],
        "queued_tasks": [task_state_json(agent, executor, t) for t in executor.queued()],
        "completed_tasks": [task_state_json(agent, executor, t) for t in executor.completed_tasks],
    }
    if "labels" in info.raw:
        out["labels"] = info.raw["labels"]
    if executor.kind is ExecutorKind.DEFAULT:
        out["type"] = "DEFAULT"
    return out


def framework_state_json(agent: Agent, framework: Framework) -> JSON:
    info = framework.info
    out: JSON = {
        "id": framework.framework_id,
        "name": info.name,
        "user": info.user,
        "failover_timeout": info.failover_timeout,
        "checkpoint": info.checkpoint,
        "hostname": info.hostname or "",
        "role": framework_role(info),
        "capabilities": list(info.capabilities),
        "executors": [executor_state_json(agent, e) for e in framework.executors.values()],
        "completed_executors": [
            executor_state_json(agent, e) for e in framework.completed_executors
        ],
    }
    if info.roles:
        out["roles"] = list(info.roles)
    if info.principal:
        out["principal"] = info.principal
    return out


def flags(agent: Agent) -> JSON:
    values = dataclasses.asdict(agent.config)
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in values.items()}


def version_json(agent: Agent) -> JSON:
    return {
        "version": VERSION,
        "build_date": "",
        "build_time": agent.start_time,
        "build_user": "pydcos",
        "git_sha": "",
        "git_tag": VERSION,
    }


def state_json(agent: Agent, master_info: JSON | None) -> JSON:
    """`/state`; `master_info`: the MasterInfo of the master the agent last subscribed to."""
    reserved = {r: res.to_state_map(v) for r, v in agent.resources.items() if r != res.UNRESERVED}
    unreserved = agent.resources.get(res.UNRESERVED, res.EMPTY)
    master = master_info or {}
    return {
        **version_json(agent),
        "start_time": agent.start_time,
        "id": agent.agent_id or "",
        "pid": agent.config.pid,
        "hostname": agent.config.advertised_hostname,
        "capabilities": ["MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT"],
        "resources": res.to_state_map(res.flatten(agent.resources)),
        "reserved_resources": reserved,
        "unreserved_resources": res.to_state_map(unreserved),
        "reserved_resources_full": {
            r: res.to_v1(v, r) for r, v in agent.resources.items() if r != res.UNRESERVED
        },
        "unreserved_resources_full": res.to_v1(unreserved),
        "attributes": attributes_state_map(agent.attributes),
        "master_hostname": master.get("hostname", ""),
        "flags": flags(agent),
        "frameworks": [framework_state_json(agent, f) for f in agent.frameworks.values()],
        "completed_frameworks": [
            framework_state_json(agent, f) for f in agent.completed_frameworks
        ],
    }


# --- /metrics/snapshot -------------------------------------------------------------------


def metrics(agent: Agent, now: float, registered: bool) -> JSON:
    live_tasks = [
        t for f in agent.frameworks.values() for e in f.executors.values() for t in e.tasks.values()
    ]
    executors = [e for f in agent.frameworks.values() for e in f.executors.values()]
    out: JSON = {
        "slave/registered": 1.0 if registered else 0.0,
        "slave/uptime_secs": now - agent.start_time,
        "slave/frameworks_active": float(len(agent.frameworks)),
        "slave/recovery_errors": float(agent.counters["recovery_errors"]),
        "slave/valid_status_updates": float(agent.counters["valid_status_updates"]),
        "slave/checkpoint_errors": float(agent.counters["checkpoint_errors"]),
        "slave/executors_terminated": float(agent.counters["executors_terminated"]),
        "slave/status_updates_pending": float(sum(1 for _ in agent.updates.pending())),
    }
    for state in ("STAGING", "STARTING", "RUNNING", "KILLING"):
        count = sum(1 for t in live_tasks if t.state == f"TASK_{state}")
        out[f"slave/tasks_{state.lower()}"] = float(count)
    for state in ("FINISHED", "FAILED", "KILLED", "LOST", "ERROR", "GONE", "DROPPED"):
        out[f"slave/tasks_{state.lower()}"] = float(agent.counters[f"TASK_{state}"])
    for phase in (ExecutorState.REGISTERING, ExecutorState.RUNNING, ExecutorState.TERMINATING):
        count = sum(1 for e in executors if e.state is phase)
        out[f"slave/executors_{phase.value.lower()}"] = float(count)
    total = res.flatten(agent.resources)
    used = res.total(executor_resources(e) for e in executors if e.live)
    for name in ("cpus", "mem", "disk", "gpus"):
        t, u = total.scalar(name), used.scalar(name)
        out[f"slave/{name}_total"] = t
        out[f"slave/{name}_used"] = u
        out[f"slave/{name}_percent"] = u / t if t else 0.0
    return out


# --- the files API's directories ----------------------------------------------------------


def attached(agent: Agent) -> tuple[list[Path], dict[str, Path]]:
    """Roots (the sandboxes tree) and Mesos' virtual path -> run directory of each executor."""
    virtual: dict[str, Path] = {}
    for framework in [*agent.completed_frameworks, *agent.frameworks.values()]:
        for executor in [*framework.completed_executors, *framework.executors.values()]:
            key = f"/frameworks/{framework.framework_id}/executors/{executor.executor_id}"
            virtual[f"{key}/runs/latest"] = executor.directory
    return [agent.work_dir / "slaves"], virtual
