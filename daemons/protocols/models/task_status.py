"""TaskStatus: one status update of a task. Pure.

Built by executors, the agent (`source` SOURCE_AGENT) and the master (SOURCE_MASTER:
reconciliation, lost agents); parsed by the agent, the master and every scheduler. `state` is
any string here: whether it is a task state this side knows (`states.TASK_STATES`), and whether
the sender may send it, is the receiver's judgement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from daemons.protocols import JSON
from daemons.protocols import fields as f
from daemons.protocols.ids import id_json, id_value, opt_id_value
from daemons.protocols.models.discovery import ContainerStatus
from daemons.protocols.models.parts import Label, labels_json, read_labels
from daemons.protocols.states import TERMINAL_STATES


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskStatus:
    task_id: str
    state: str
    reason: str | None = None
    message: str | None = None
    source: str | None = None  # SOURCE_MASTER, SOURCE_AGENT or SOURCE_EXECUTOR
    agent_id: str | None = None
    executor_id: str | None = None
    uuid: bytes | None = None  # only on updates delivered reliably: they must be acknowledged
    healthy: bool | None = None
    timestamp: float | None = None  # seconds since the epoch
    data: bytes | None = None
    labels: tuple[Label, ...] = ()
    container_status: ContainerStatus | None = None
    raw: JSON = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    @classmethod
    def parse(cls, raw: Any, where: str = "status") -> TaskStatus:
        if not isinstance(raw, dict):
            raise f.ProtocolError(f"{where}: not an object", where)
        return cls(
            task_id=id_value(raw, "task_id", where),
            state=f.string(raw, "state", where),
            reason=f.opt_string(raw, "reason", where),
            message=f.opt_string(raw, "message", where),
            source=f.opt_string(raw, "source", where),
            agent_id=opt_id_value(raw, "agent_id", where),
            executor_id=opt_id_value(raw, "executor_id", where),
            uuid=f.opt_bytes(raw, "uuid", where),
            healthy=f.opt_bool(raw, "healthy", where),
            timestamp=f.opt_number(raw, "timestamp", where),
            data=f.opt_bytes(raw, "data", where),
            labels=read_labels(raw, "labels", where),
            container_status=f.opt_message(raw, "container_status", where, ContainerStatus.parse),
            raw=raw,
        )

    def to_json(self) -> JSON:
        out: JSON = {"task_id": id_json(self.task_id), "state": self.state}
        f.put_values(out, self, ("reason", "message", "source"))
        if self.agent_id is not None:
            out["agent_id"] = id_json(self.agent_id)
        if self.executor_id is not None:
            out["executor_id"] = id_json(self.executor_id)
        if self.uuid is not None:
            out["uuid"] = f.b64(self.uuid)
        f.put_values(out, self, ("healthy", "timestamp"))
        if self.data is not None:
            out["data"] = f.b64(self.data)
        if self.labels:
            out["labels"] = labels_json(self.labels)
        f.put_messages(out, self, ("container_status",))
        return out
