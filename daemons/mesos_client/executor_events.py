"""Executor events of the Mesos v1 API (agent -> executor) as typed, frozen values. Pure.

Same rules as `events`: unknown fields ignored, a missing payload key raises `EventParseError`,
unknown event types become `UnknownEvent`. TaskInfo objects stay JSON (`raw` dicts) with their
task id lifted out, since an executor mostly hands them on to whatever runs the task.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from daemons.mesos_client import payload as p
from daemons.mesos_client.errors import EventParseError
from daemons.mesos_client.events import Error, Heartbeat, UnknownEvent
from daemons.protocols import JSON


@dataclass(frozen=True)
class Subscribed:
    executor_info: JSON = field(compare=False)
    framework_info: JSON = field(compare=False)
    agent_info: JSON = field(compare=False)
    agent_id: str | None = None
    container_id: str | None = None


@dataclass(frozen=True)
class Launch:
    task_id: str
    task: JSON = field(compare=False, repr=False)


@dataclass(frozen=True)
class LaunchGroup:
    task_ids: tuple[str, ...]
    tasks: tuple[JSON, ...] = field(compare=False, repr=False)


@dataclass(frozen=True)
class Kill:
    task_id: str
    grace_period_seconds: float | None = None


@dataclass(frozen=True)
class Acknowledged:
    task_id: str
    uuid: bytes


@dataclass(frozen=True)
class Message:
    data: bytes


@dataclass(frozen=True)
class Shutdown:
    pass


ExecutorEvent = (
    Subscribed
    | Launch
    | LaunchGroup
    | Kill
    | Acknowledged
    | Message
    | Shutdown
    | Error
    | Heartbeat
    | UnknownEvent
)


def _subscribed(body: JSON) -> Subscribed:
    agent_info = p.obj(body, "agent_info", "subscribed")
    return Subscribed(
        executor_info=p.obj(body, "executor_info", "subscribed"),
        framework_info=p.obj(body, "framework_info", "subscribed"),
        agent_info=agent_info,
        agent_id=p.opt_id_value(agent_info, "id", "subscribed.agent_info"),
        container_id=p.opt_id_value(body, "container_id", "subscribed"),
    )


def _launch(body: JSON) -> Launch:
    task = p.obj(body, "task", "launch")
    return Launch(p.id_value(task, "task_id", "launch.task"), task)


def _launch_group(body: JSON) -> LaunchGroup:
    group = p.obj(body, "task_group", "launch_group")
    tasks = p.opt_list(group, "tasks", "launch_group.task_group")
    if not all(isinstance(t, dict) for t in tasks):
        raise EventParseError("launch_group.task_group: tasks must be objects")
    ids = tuple(p.id_value(t, "task_id", "launch_group.task_group.tasks") for t in tasks)
    return LaunchGroup(ids, tuple(tasks))


def _kill(body: JSON) -> Kill:
    policy = p.opt_obj(body, "kill_policy", "kill") or {}
    grace = p.opt_obj(policy, "grace_period", "kill.kill_policy")
    nanos = p.opt_number(grace, "nanoseconds", "kill.kill_policy.grace_period") if grace else None
    return Kill(p.id_value(body, "task_id", "kill"), None if nanos is None else nanos / 1e9)


def _acknowledged(body: JSON) -> Acknowledged:
    uuid = p.opt_bytes(body, "uuid", "acknowledged")
    if uuid is None:
        raise EventParseError("acknowledged: missing field 'uuid'")
    return Acknowledged(p.id_value(body, "task_id", "acknowledged"), uuid)


_PARSERS: dict[str, Callable[[JSON], ExecutorEvent]] = {
    "SUBSCRIBED": _subscribed,
    "LAUNCH": _launch,
    "LAUNCH_GROUP": _launch_group,
    "KILL": _kill,
    "ACKNOWLEDGED": _acknowledged,
    "MESSAGE": lambda b: Message(p.opt_bytes(b, "data", "message") or b""),
    "ERROR": lambda b: Error(p.string(b, "message", "error")),
}


def parse_executor_event(raw: Any) -> ExecutorEvent:
    """Turn one decoded executor event (`{"type": X, "<x_lower>": {...}}`) into a value."""
    if not isinstance(raw, dict):
        raise EventParseError("event is not a JSON object")
    kind = p.string(raw, "type", "event")
    if kind == "HEARTBEAT":
        return Heartbeat()
    if kind == "SHUTDOWN":
        return Shutdown()
    parser = _PARSERS.get(kind)
    if parser is None:
        return UnknownEvent(kind, raw)
    return parser(p.obj(raw, kind.lower(), f"{kind} event"))
