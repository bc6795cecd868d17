"""What the agent says on the wire: the status updates it originates or passes on, its calls to
the master, and Mesos' duration text. Pure: no I/O, no clock, no randomness (timestamps and
uuids come in as arguments). What it reads is parsed in messages.py.

Every TaskStatus the agent holds carries its wire form in `raw`: the JSON it checkpoints and
sends to the master. An update the agent passes on keeps the executor's fields it does not know
(its `raw`, with the agent's fields set); one the agent originates is its `to_json()`. The
builders here set the typed fields and `raw` together, so the two never disagree.
"""

from __future__ import annotations

import dataclasses

from daemons.protocols import JSON
from daemons.protocols.ids import id_json
from daemons.protocols.models import ContainerStatus, FrameworkInfo, TaskStatus

VERSION = "1.11.0"

MEMORY_LIMITATION = "REASON_CONTAINER_LIMITATION_MEMORY"


def agent_status(
    *,
    task_id: str,
    state: str,
    agent_id: str,
    uuid: bytes,
    timestamp: float,
    executor_id: str | None = None,
    reason: str | None = None,
    message: str | None = None,
    container_id: str | None = None,
) -> TaskStatus:
    """A TaskStatus the agent itself originates (reliable: it carries a uuid)."""
    status = TaskStatus(
        task_id=task_id,
        state=state,
        reason=reason,
        message=message,
        source="SOURCE_AGENT",
        agent_id=agent_id,
        executor_id=executor_id,
        uuid=uuid,
        timestamp=timestamp,
        container_status=None
        if container_id is None
        else ContainerStatus(container_id=container_id),
    )
    return built(status)


def built(status: TaskStatus) -> TaskStatus:
    """A TaskStatus the agent built, with its wire form (`to_json()`) as its `raw`."""
    return dataclasses.replace(status, raw=status.to_json())


def forwarded(
    status: TaskStatus,
    *,
    agent_id: str,
    executor_id: str,
    container_id: str,
    executor_pid: int | None,
    timestamp: float,
) -> TaskStatus:
    """An executor's update as the agent passes it on: its agent, executor and container set
    (the executor's pid when the agent knows it), `source` and `timestamp` when it gave none."""
    container = dict(status.container_status.raw) if status.container_status else {}
    container["container_id"] = id_json(container_id)
    pid = status.container_status.executor_pid if status.container_status else None
    if executor_pid is not None:
        container["executor_pid"] = pid = executor_pid
    source = status.source or "SOURCE_EXECUTOR"
    when = timestamp if status.timestamp is None else status.timestamp
    raw = dict(status.raw)
    raw.update(
        agent_id=id_json(agent_id),
        executor_id=id_json(executor_id),
        source=source,
        timestamp=when,
        container_status=container,
    )
    return dataclasses.replace(
        status,
        agent_id=agent_id,
        executor_id=executor_id,
        source=source,
        timestamp=when,
        container_status=ContainerStatus(
            container_id=container_id, executor_pid=pid, raw=container
        ),
        raw=raw,
    )


def memory_limited(status: TaskStatus, message: str | None) -> TaskStatus:
    """A terminal update of a task whose container hit its memory limit, as Mesos rewrites it:
    TASK_FAILED with the limitation as reason, from the agent; the uuid stays."""
    text = message or "Memory limit exceeded"
    raw = dict(status.raw)
    raw.update(state="TASK_FAILED", reason=MEMORY_LIMITATION, source="SOURCE_AGENT", message=text)
    return dataclasses.replace(
        status,
        state="TASK_FAILED",
        reason=MEMORY_LIMITATION,
        source="SOURCE_AGENT",
        message=text,
        raw=raw,
    )


def status_entry(status: TaskStatus) -> JSON:
    """One entry of a task's `statuses` in SUBSCRIBE and /state: its state and time, and what
    the update said of the container, health and why."""
    entry: JSON = {"state": status.state, "timestamp": status.timestamp}
    if status.container_status is not None:
        entry["container_status"] = status.raw["container_status"]  # as the update had it
    for key in ("healthy", "reason", "message", "source"):
        if (value := getattr(status, key)) is not None:
            entry[key] = value
    return entry


def exited_executor(framework_id: str, executor_id: str, status: int) -> JSON:
    """The EXITED_EXECUTOR call (status: the raw wait status, -1 when unknown)."""
    return {
        "type": "EXITED_EXECUTOR",
        "exited_executor": {
            "framework_id": id_json(framework_id),
            "executor_id": id_json(executor_id),
            "status": status,
        },
    }


def update_call(agent_id: str, framework_id: str, status: TaskStatus) -> JSON:
    """One status update for the master (docs/agent-protocol.md)."""
    return {
        "type": "UPDATE",
        "agent_id": id_json(agent_id),
        "update": {"status": status.raw, "framework_id": id_json(framework_id)},
    }


def updates_call(agent_id: str, due: list[tuple[str, TaskStatus]]) -> JSON:
    """Several updates in one call; the master applies them in order (docs/agent-protocol.md)."""
    return {
        "type": "UPDATES",
        "agent_id": id_json(agent_id),
        "updates": {
            "updates": [
                {"status": status.raw, "framework_id": id_json(framework_id)}
                for framework_id, status in due
            ]
        },
    }


def duration_text(seconds: float) -> str:
    """Mesos' Duration printing as executors parse it: `5secs`, `250ms`, `15mins`."""
    if seconds >= 60 and seconds % 60 == 0:
        minutes = seconds / 60
        if minutes >= 60 and minutes % 60 == 0:
            return f"{int(minutes // 60)}hrs"
        return f"{int(minutes)}mins"
    if seconds == int(seconds):
        return f"{int(seconds)}secs"
    return f"{round(seconds * 1000)}ms"


def framework_role(framework: FrameworkInfo) -> str:
    """The role a framework's resources are allocated to when they do not say: its first role
    with MULTI_ROLE (and roles given), else its `role`, else "*"."""
    if framework.has_capability("MULTI_ROLE") and framework.roles:
        return framework.roles[0]
    return framework.role or "*"
