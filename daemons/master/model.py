"""The master's in-memory records: agents, frameworks, tasks, offers, executors.

Plain mutable records, owned by `Master` and only touched under its lock. Each holds the typed
wire value it was made from (`daemons.protocols.models`: a Framework its FrameworkInfo, an Agent
its AgentInfo, a Task its TaskInfo and typed statuses, an Executor its ExecutorInfo), parsed once
where the message entered; renderers echo the value's `raw` where Mesos shows what the client
sent. Pure: imports only the wire layer; the event streams the records hold are
`daemons.kit.streams.EventStream`s, seen here through the `Stream` protocol.
"""

from __future__ import annotations

import dataclasses
import operator
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

from daemons.protocols import JSON
from daemons.protocols.ids import id_json
from daemons.protocols.models import AgentInfo, ExecutorInfo, FrameworkInfo, TaskInfo, TaskStatus
from daemons.protocols.models import Task as ReportedTask
from daemons.protocols.resources import EMPTY, Resources, total
from daemons.protocols.states import is_terminal


class Stream(Protocol):
    """A subscriber's outgoing event stream, as the records use it."""

    stream_id: str
    closed: bool

    def send(self, event: JSON) -> None: ...

    def close(self) -> None: ...


# The Mesos release whose APIs this master speaks (MasterInfo, /version, /master/state).
VERSION = "1.11.0"


class _Wire(Protocol):
    """A wire model: a dataclass with the JSON it was parsed from."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def raw(self) -> JSON: ...


_W = TypeVar("_W", bound=_Wire)


def with_field(value: _W, name: str, typed: Any, wire: Any) -> _W:
    """`value` with its field `name` set to `typed`, and to `wire` in its `raw` (so the copy
    still echoes what the client sent, with that one field changed)."""
    return dataclasses.replace(value, **{name: typed, "raw": dict(value.raw, **{name: wire})})


def with_id(value: _W, name: str, id_value: str) -> _W:
    """`value` with its id field `name` set to `id_value` (no copy when it already says so)."""
    if getattr(value, name) == id_value and value.raw.get(name) == {"value": id_value}:
        return value
    return with_field(value, name, id_value, id_json(id_value))


def flat(by_role: Mapping[str, Resources]) -> Resources:
    """All reservations' quantities together. A task's resources are nearly always of one
    role: then that very value (no copy: a re-registration storm adopts 100,000 tasks)."""
    if len(by_role) == 1:
        (only,) = by_role.values()
        return only
    return total(by_role.values())


# (the very Resources values summed, in order; their sum)
HeldMemo = tuple[tuple[Resources, ...], Resources]


def held_again(
    memo: HeldMemo | None, tasks: Iterable[Task], executors: Iterable[Executor]
) -> HeldMemo:
    """What live tasks and their executors hold (a framework's or an agent's used resources),
    reusing the last sum when it was of the very same (immutable) values in the same order:
    `/master/state` asks every agent and framework each render, and at 10,000 agents the sums
    were most of the time its build held the master's lock."""
    parts = tuple([t.resources for t in tasks if not t.terminal] + [e.resources for e in executors])
    if memo is not None and len(memo[0]) == len(parts) and all(map(operator.is_, memo[0], parts)):
        return memo
    return parts, total(parts)


@dataclass(slots=True)
class Task:
    task_id: str
    framework_id: str
    agent_id: str
    executor_id: str  # "" for command tasks (their executor id equals the task id on the agent)
    name: str
    role: str
    resources: Resources
    # What it was launched with through this master, or what its agent reported of it when it
    # re-registered (a task launched before a failover).
    info: TaskInfo | ReportedTask
    state: str = "TASK_STAGING"
    # Oldest first; a repeated state replaces the last entry. Each has a timestamp.
    statuses: list[TaskStatus] = field(default_factory=list)
    latest_status: TaskStatus | None = None  # the last update as received (uuid included)
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


@dataclass(slots=True)
class Executor:
    executor_id: str
    framework_id: str
    agent_id: str
    role: str
    resources: Resources
    info: ExecutorInfo  # framework_id filled in


@dataclass(slots=True)
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
    info: FrameworkInfo  # its id filled in
    registered_time: float
    stream: Stream | None = None
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
    used_memo: HeldMemo | None = field(default=None, repr=False, compare=False)

    @property
    def roles(self) -> tuple[str, ...]:
        return self.info.subscribed_roles

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset(self.info.capabilities)

    @property
    def failover_timeout(self) -> float:
        return self.info.failover_timeout

    @property
    def partition_aware(self) -> bool:
        return self.info.has_capability("PARTITION_AWARE")

    def used(self) -> Resources:
        self.used_memo = held_again(self.used_memo, self.tasks.values(), self.executors.values())
        return self.used_memo[1]

    def offered(self) -> Resources:
        return total(o.resources for o in self.offers.values())


@dataclass
class Agent:
    agent_id: str
    info: AgentInfo  # as sent, its id filled in
    registered_time: float
    address_ip: str | None = None  # `agent_info.address.ip`, if it gave one
    version: str = ""
    boot_id: str = ""
    stream: Stream | None = None
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
    used_memo: HeldMemo | None = field(default=None, repr=False, compare=False)
    # Its `/master/state` entry, serialised, with what it was rendered from (state_json).
    json_memo: tuple[tuple[object, ...], tuple[object, ...], bytes] | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def hostname(self) -> str:
        return self.info.hostname

    @property
    def port(self) -> int:
        return self.info.port

    @property
    def total(self) -> Mapping[str, Resources]:
        """Reservation role (or "*" unreserved) -> quantities."""
        return self.info.resources

    @property
    def ip(self) -> str:
        """Where it serves: the address it gave, else its hostname (DC/OS advertises the IP)."""
        return self.address_ip or self.hostname

    @property
    def pid(self) -> str:
        return f"slave(1)@{self.ip}:{self.port}"

    def used(self) -> Resources:
        self.used_memo = held_again(self.used_memo, self.tasks.values(), self.executors.values())
        return self.used_memo[1]

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
