"""TaskInfo (what a framework launches) and ExecutorInfo (what runs its tasks). Pure.

`parse` checks the shape (types, required fields); whether a task may run — command xor
executor, resources that fit an offer, a valid id (`ids.id_problem`) — is the master's and the
agent's judgement, and becomes a TASK_ERROR rather than a refused call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from daemons.protocols import JSON
from daemons.protocols import fields as f
from daemons.protocols.ids import id_json, id_value, opt_id_value
from daemons.protocols.models.checks import HealthCheck, KillPolicy
from daemons.protocols.models.command import CommandInfo
from daemons.protocols.models.discovery import ContainerInfo, DiscoveryInfo
from daemons.protocols.models.parts import (
    Label,
    labels_json,
    read_labels,
    read_resources,
    resources_json,
)
from daemons.protocols.resources import Resources


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutorInfo:
    executor_id: str
    framework_id: str | None = None
    type: str | None = None  # "DEFAULT" (the built-in default executor) or "CUSTOM"
    name: str | None = None
    source: str | None = None
    command: CommandInfo | None = None
    resources: Mapping[str, Resources] = field(default_factory=dict)  # reservation role ->
    allocation_role: str | None = None
    container: ContainerInfo | None = None
    discovery: DiscoveryInfo | None = None
    labels: tuple[Label, ...] = ()
    shutdown_grace_period: float | None = None  # seconds
    data: bytes | None = None
    raw: JSON = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def parse(cls, raw: Any, where: str = "executor") -> ExecutorInfo:
        if not isinstance(raw, dict):
            raise f.ProtocolError(f"{where}: not an object", where)
        resources, allocation_role = read_resources(raw, "resources", where)
        return cls(
            executor_id=id_value(raw, "executor_id", where),
            framework_id=opt_id_value(raw, "framework_id", where),
            type=f.opt_string(raw, "type", where),
            name=f.opt_string(raw, "name", where),
            source=f.opt_string(raw, "source", where),
            command=f.opt_message(raw, "command", where, CommandInfo.parse),
            resources=resources,
            allocation_role=allocation_role,
            container=f.opt_message(raw, "container", where, ContainerInfo.parse),
            discovery=f.opt_message(raw, "discovery", where, DiscoveryInfo.parse),
            labels=read_labels(raw, "labels", where),
            shutdown_grace_period=f.opt_seconds(raw, "shutdown_grace_period", where),
            data=f.opt_bytes(raw, "data", where),
            raw=raw,
        )

    def to_json(self) -> JSON:
        out: JSON = {"executor_id": id_json(self.executor_id)}
        if self.framework_id is not None:
            out["framework_id"] = id_json(self.framework_id)
        f.put_values(out, self, ("type", "name", "source"))
        f.put_messages(out, self, ("command",))
        if self.resources:
            out["resources"] = resources_json(self.resources, self.allocation_role)
        _optional_parts(self, out)
        if self.shutdown_grace_period is not None:
            out["shutdown_grace_period"] = f.duration(self.shutdown_grace_period)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskInfo:
    task_id: str
    name: str = ""  # Mesos requires it; PyDCOS' master takes a task without one
    agent_id: str | None = None  # set by the master before the task reaches an agent
    resources: Mapping[str, Resources] = field(default_factory=dict)  # reservation role ->
    allocation_role: str | None = None  # the role the resources were allocated to
    command: CommandInfo | None = None  # a command task (the agent's command executor runs it)
    executor: ExecutorInfo | None = None  # ... or the framework's executor runs it
    container: ContainerInfo | None = None
    health_check: HealthCheck | None = None
    kill_policy: KillPolicy | None = None
    discovery: DiscoveryInfo | None = None
    labels: tuple[Label, ...] = ()
    data: bytes | None = None
    raw: JSON = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def parse(cls, raw: Any, where: str = "task") -> TaskInfo:
        """`agent_id`, or `slave_id` as older clients (mesoshttp) write it."""
        if not isinstance(raw, dict):
            raise f.ProtocolError(f"{where}: not an object", where)
        agent_id = opt_id_value(raw, "agent_id", where)
        if agent_id is None:
            agent_id = opt_id_value(raw, "slave_id", where)
        resources, allocation_role = read_resources(raw, "resources", where)
        return cls(
            task_id=id_value(raw, "task_id", where),
            name=f.opt_string(raw, "name", where) or "",
            agent_id=agent_id,
            resources=resources,
            allocation_role=allocation_role,
            command=f.opt_message(raw, "command", where, CommandInfo.parse),
            executor=f.opt_message(raw, "executor", where, ExecutorInfo.parse),
            container=f.opt_message(raw, "container", where, ContainerInfo.parse),
            health_check=f.opt_message(raw, "health_check", where, HealthCheck.parse),
            kill_policy=f.opt_message(raw, "kill_policy", where, KillPolicy.parse),
            discovery=f.opt_message(raw, "discovery", where, DiscoveryInfo.parse),
            labels=read_labels(raw, "labels", where),
            data=f.opt_bytes(raw, "data", where),
            raw=raw,
        )

    def to_json(self) -> JSON:
        out: JSON = {"name": self.name, "task_id": id_json(self.task_id)}
        if self.agent_id is not None:
            out["agent_id"] = id_json(self.agent_id)
        if self.resources:
            out["resources"] = resources_json(self.resources, self.allocation_role)
        f.put_messages(out, self, ("command", "executor", "health_check", "kill_policy"))
        _optional_parts(self, out)
        return out


def _optional_parts(info: ExecutorInfo | TaskInfo, out: JSON) -> None:
    """The parts a TaskInfo and an ExecutorInfo share."""
    f.put_messages(out, info, ("container", "discovery"))
    if info.labels:
        out["labels"] = labels_json(info.labels)
    if info.data is not None:
        out["data"] = f.b64(info.data)
