"""The master's in-memory records: agents, frameworks, tasks, offers, executors.

Plain mutable records, owned by `Master` and only touched under its lock. Wire JSON (TaskInfo,
FrameworkInfo, agent_info) is kept as received so that renderers can echo what clients sent.
Pure: imports only the wire layer and the event stream type the records hold.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from daemons.kit.streams import EventStream
from daemons.protocols import JSON
from daemons.protocols.resources import EMPTY, Resources, total
from daemons.protocols.states import is_terminal

# The Mesos release whose APIs this master speaks (MasterInfo, /version, /master/state).
VERSION = "1.11.0"


def id_json(value: str) -> JSON:
    """An id as v1 JSON writes it: `{"value": ...}`."""
    return {"value": value}


def held(tasks: Iterable[Task], executors: Iterable[Executor]) -> Resources:
    """What live tasks and their executors hold (a framework's or an agent's used resources)."""
    return total([t.resources for t in tasks if not t.terminal] + [e.resources for e in executors])


@dataclass
class Task:
    task_id: str
    framework_id: str
    agent_id: str
    executor_id: str  # "" for command tasks (their executor id equals the task id on the agent)
    name: str
    role: str
    resources: Resources
    info: JSON
    state: str = "TASK_STAGING"
    statuses: list[JSON] = field(default_factory=list)
    latest_status: JSON | None = None
    unreachable_time: float | None = None
    # The rendered state-JSON of this task; dropped whenever the task changes.
    json_cache: JSON | None = field(default=None, repr=False, compare=False)
    json_bytes: bytes | None = field(default=None, repr=False, compare=False)

    def changed(self) -> None:
        """Drop the cached renderings (call after any change to the task)."""
        self.json_cache = None
        self.json_bytes = None

    @property
    def terminal(self) -> bool:
        return is_terminal(self.state)


@dataclass
class Executor:
    executor_id: str
    framework_id: str
    agent_id: str
    role: str
    resources: Resources
    info: JSON


@dataclass
class Offer:
    offer_id: str
    framework_id: str
    agent_id: str
    role: str
    resources: Resources  # all reservations together
    created: float
    by_role: dict[str, Resources] = field(default_factory=dict)  # "*" = unreserved part


@dataclass
class Framework:
    framework_id: str
    info: JSON
    roles: tuple[str, ...]
    capabilities: frozenset[str]
    registered_time: float
    stream: EventStream | None = None
    active: bool = False
    connected: bool = False
    recovered: bool = False  # known from an agent's tasks, not (yet) subscribed to this master
    reregistered_time: float | None = None
    unregistered_time: float | None = None
    disconnected_at: float | None = None
    suppressed_roles: set[str] = field(default_factory=set)
    tasks: dict[str, Task] = field(default_factory=dict)
    completed_tasks: deque[Task] = field(default_factory=deque)
    offers: dict[str, Offer] = field(default_factory=dict)
    executors: dict[tuple[str, str], Executor] = field(default_factory=dict)

    @property
    def failover_timeout(self) -> float:
        value = self.info.get("failover_timeout", 0.0)
        return float(value) if isinstance(value, (int, float)) else 0.0

    @property
    def partition_aware(self) -> bool:
        return "PARTITION_AWARE" in self.capabilities

    def used(self) -> Resources:
        return held(self.tasks.values(), self.executors.values())

    def offered(self) -> Resources:
        return total(o.resources for o in self.offers.values())


@dataclass
class Agent:
    agent_id: str
    info: JSON  # agent_info as sent, with id filled in
    hostname: str
    port: int
    total: dict[str, Resources]  # role -> reserved (or "*" unreserved) quantities
    registered_time: float
    version: str = ""
    boot_id: str = ""
    stream: EventStream | None = None
    active: bool = True
    disconnected_at: float | None = None
    unreachable_since: float | None = None
    reregistered_time: float | None = None
    # Health checks (agent_health.py): when we last heard of it and last sent it a PING.
    last_heard: float = 0.0
    ping_sent: float = 0.0
    pings_missed: int = 0
    tasks: dict[tuple[str, str], Task] = field(default_factory=dict)  # (framework, task) -> Task
    executors: dict[tuple[str, str], Executor] = field(default_factory=dict)
    offers: set[str] = field(default_factory=set)
    # Kills asked for while the agent may not have heard them: sent again on re-registration
    # (Mesos' `killedTasks`), dropped when the task ends.
    killed_tasks: set[tuple[str, str]] = field(default_factory=set)

    @property
    def pid(self) -> str:
        return f"slave(1)@{self.ip}:{self.port}"

    @property
    def ip(self) -> str:
        address = self.info.get("address") or {}
        ip = address.get("ip") if isinstance(address, dict) else None
        return str(ip or self.hostname)

    def used(self) -> Resources:
        return held(self.tasks.values(), self.executors.values())

    def allocation(self) -> dict[str, dict[str, Resources]]:
        """framework -> role -> resources held on this agent (live tasks and executors)."""
        out: dict[str, dict[str, Resources]] = {}
        for task in self.tasks.values():
            if task.terminal:
                continue
            roles = out.setdefault(task.framework_id, {})
            roles[task.role] = roles.get(task.role, EMPTY) + task.resources
        for executor in self.executors.values():
            roles = out.setdefault(executor.framework_id, {})
            roles[executor.role] = roles.get(executor.role, EMPTY) + executor.resources
        return out
