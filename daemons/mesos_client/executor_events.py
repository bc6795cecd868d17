"""Executor events of the Mesos v1 API (agent -> executor) as typed, frozen values. Pure.

Same rules as `events`: unknown fields ignored, a missing payload key raises `EventParseError`,
unknown event types become `UnknownEvent`. The messages they carry are the protocols layer's
models: LAUNCH holds a `TaskInfo` (`.task` is the JSON the agent sent, which an executor hands
back unchanged when it re-subscribes), SUBSCRIBED the executor's, framework's and agent's infos.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from daemons.mesos_client.errors import EventParseError
from daemons.mesos_client.events import Error, Heartbeat, UnknownEvent, dispatch
from daemons.protocols import JSON
from daemons.protocols import fields as p
from daemons.protocols.ids import id_value, opt_id_value
from daemons.protocols.models import AgentInfo, ExecutorInfo, FrameworkInfo, KillPolicy, TaskInfo


@dataclass(frozen=True, slots=True)
class Subscribed:
    executor: ExecutorInfo
    framework: FrameworkInfo
    agent: AgentInfo
    container_id: str | None = None

    @property
    def agent_id(self) -> str | None:
        return self.agent.id

    @property
    def executor_info(self) -> JSON:
        return self.executor.raw

    @property
    def framework_info(self) -> JSON:
        return self.framework.raw

    @property
    def agent_info(self) -> JSON:
        return self.agent.raw


@dataclass(frozen=True, slots=True)
class Launch:
    task_info: TaskInfo

    @property
    def task_id(self) -> str:
        return self.task_info.task_id

    @property
    def task(self) -> JSON:
        """The TaskInfo as the agent sent it."""
        return self.task_info.raw


@dataclass(frozen=True, slots=True)
class LaunchGroup:
    task_infos: tuple[TaskInfo, ...]

    @property
    def task_ids(self) -> tuple[str, ...]:
        return tuple(t.task_id for t in self.task_infos)

    @property
    def tasks(self) -> tuple[JSON, ...]:
        return tuple(t.raw for t in self.task_infos)


@dataclass(frozen=True, slots=True)
class Kill:
    task_id: str
    grace_period_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Acknowledged:
    task_id: str
    uuid: bytes


@dataclass(frozen=True, slots=True)
class Message:
    data: bytes


@dataclass(frozen=True, slots=True)
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
    return Subscribed(
        executor=ExecutorInfo.parse(
            p.obj(body, "executor_info", "subscribed"), "subscribed.executor_info"
        ),
        framework=FrameworkInfo.parse(
            p.obj(body, "framework_info", "subscribed"), "subscribed.framework_info"
        ),
        agent=AgentInfo.parse(p.obj(body, "agent_info", "subscribed"), "subscribed.agent_info"),
        container_id=opt_id_value(body, "container_id", "subscribed"),
    )


def _launch_group(body: JSON) -> LaunchGroup:
    group = p.obj(body, "task_group", "launch_group")
    tasks = p.objects(group, "tasks", "launch_group.task_group")
    return LaunchGroup(tuple(TaskInfo.parse(t, "launch_group.task_group.tasks[]") for t in tasks))


def _kill(body: JSON) -> Kill:
    policy = p.opt_message(body, "kill_policy", "kill", KillPolicy.parse)
    return Kill(id_value(body, "task_id", "kill"), None if policy is None else policy.grace_period)


def _acknowledged(body: JSON) -> Acknowledged:
    uuid = p.opt_bytes(body, "uuid", "acknowledged")
    if uuid is None:
        raise EventParseError("acknowledged: missing field 'uuid'", "acknowledged.uuid")
    return Acknowledged(id_value(body, "task_id", "acknowledged"), uuid)


_PARSERS: dict[str, Callable[[JSON], ExecutorEvent]] = {
    "SUBSCRIBED": _subscribed,
    "LAUNCH": lambda b: Launch(TaskInfo.parse(p.obj(b, "task", "launch"), "launch.task")),
    "LAUNCH_GROUP": _launch_group,
    "KILL": _kill,
    "ACKNOWLEDGED": _acknowledged,
    "MESSAGE": lambda b: Message(p.opt_bytes(b, "data", "message") or b""),
    "ERROR": lambda b: Error(p.string(b, "message", "error")),
}


def parse_executor_event(raw: Any) -> ExecutorEvent:
    """Turn one decoded executor event (`{"type": X, "<x_lower>": {...}}`) into a value."""
    return dispatch(raw, _PARSERS, {"HEARTBEAT": Heartbeat, "SHUTDOWN": Shutdown})
