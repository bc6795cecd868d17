"""Task: what an agent (and the master's operator API) reports of a task it runs. Pure.

Not a TaskInfo: it is the launched task as its agent knows it — whose it is (`framework_id`),
which executor runs it (`executor_id`, none for a command task), its `state` and the updates it
has had (`statuses`, oldest first) — plus the parts of its TaskInfo that renderers echo. An
agent re-registering with a new master sends one per task; after a master failover that is
every task of the cluster, so this is one of the master's hot paths (bench/protocols_parse.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from daemons.protocols import JSON
from daemons.protocols import fields as f
from daemons.protocols.ids import id_json, id_value, opt_id_value
from daemons.protocols.models.checks import HealthCheck, KillPolicy
from daemons.protocols.models.discovery import ContainerInfo, DiscoveryInfo
from daemons.protocols.models.parts import (
    Label,
    labels_json,
    read_labels,
    read_resources,
    resources_json,
)
from daemons.protocols.models.task_status import TaskStatus
from daemons.protocols.resources import Resources


@dataclass(frozen=True, slots=True, kw_only=True)
class Task:
    task_id: str
    framework_id: str
    state: str
    name: str = ""
    agent_id: str | None = None
    executor_id: str | None = None  # None: a command task (the agent's command executor)
    resources: Mapping[str, Resources] = field(default_factory=dict)  # reservation role ->
    allocation_role: str | None = None
    statuses: tuple[TaskStatus, ...] = ()  # oldest first
    labels: tuple[Label, ...] = ()
    discovery: DiscoveryInfo | None = None
    container: ContainerInfo | None = None
    health_check: HealthCheck | None = None
    kill_policy: KillPolicy | None = None
    user: str | None = None
    raw: JSON = field(default_factory=dict, compare=False, repr=False)

    @property
    def latest_status(self) -> TaskStatus | None:
        return self.statuses[-1] if self.statuses else None

    @classmethod
    def parse(cls, raw: Any, where: str = "task") -> Task:
        if not isinstance(raw, dict):
            raise f.ProtocolError(f"{where}: not an object", where)
        resources, allocation_role = read_resources(raw, "resources", where)
        statuses = f"{where}.statuses[]"
        return cls(
            task_id=id_value(raw, "task_id", where),
            framework_id=id_value(raw, "framework_id", where),
            state=f.string(raw, "state", where),
            name=f.opt_string(raw, "name", where) or "",
            agent_id=opt_id_value(raw, "agent_id", where),
            executor_id=opt_id_value(raw, "executor_id", where),
            resources=resources,
            allocation_role=allocation_role,
            statuses=tuple(
                TaskStatus.parse(s, statuses) for s in f.objects(raw, "statuses", where)
            ),
            labels=read_labels(raw, "labels", where),
            discovery=f.opt_message(raw, "discovery", where, DiscoveryInfo.parse),
            container=f.opt_message(raw, "container", where, ContainerInfo.parse),
            health_check=f.opt_message(raw, "health_check", where, HealthCheck.parse),
            kill_policy=f.opt_message(raw, "kill_policy", where, KillPolicy.parse),
            user=f.opt_string(raw, "user", where),
            raw=raw,
        )

    def to_json(self) -> JSON:
        out: JSON = {
            "name": self.name,
            "task_id": id_json(self.task_id),
            "framework_id": id_json(self.framework_id),
            "state": self.state,
        }
        if self.agent_id is not None:
            out["agent_id"] = id_json(self.agent_id)
        if self.executor_id is not None:
            out["executor_id"] = id_json(self.executor_id)
        out["resources"] = resources_json(self.resources, self.allocation_role)
        out["statuses"] = [s.to_json() for s in self.statuses]
        if self.labels:
            out["labels"] = labels_json(self.labels)
        f.put_messages(out, self, ("discovery", "container", "health_check", "kill_policy"))
        f.put_values(out, self, ("user",))
        return out
