"""The leading master's state as a follower keeps it (`daemons.mesos_client.master_follower`):
`/master/state` as last read, with the operator API's events since then applied. Pure: events
and states come in as parsed JSON; no clock, no I/O.

`MasterState.apply(event)` keeps a `/master/state`-shaped view up to date from the v1 events of
the operator `SUBSCRIBE` stream, turning each v1 object into the fields of the state JSON that
its consumers read (Mesos-DNS's records, the DNS proxy's task names, Minuteman's VIPs). An
event answers `Change.RECORDS` when it may change what they show: a task in or out of a state
one of them shows it in (running; for Minuteman also killing and unreachable), an agent, a
framework:

- `TASK_ADDED` (a v1 Task) adds or replaces the task under its framework;
- `TASK_UPDATED` sets the task's state and appends the status (a repeated state replaces the
  last status, as the master records it); a terminal task is dropped (it has no records, and
  the view stays as large as the running tasks);
- `AGENT_ADDED` adds or replaces an agent (its id, pid, hostname and port) and answers
  `RESYNC`: an agent that registers again (after a master failover, say) brings back the tasks
  it runs without a `TASK_ADDED` for any of them, so only a state read shows them;
  `AGENT_REMOVED` drops the agent (its tasks stay, and lose their records until it is back);
- `FRAMEWORK_ADDED`/`FRAMEWORK_UPDATED` add or update a framework (name and hostname: a v1
  framework carries no pid, so a pid read from the state is kept); `FRAMEWORK_REMOVED` drops it
  with its tasks;
- anything else (`SUBSCRIBED`, `HEARTBEAT`, events of later Mesos versions) changes nothing.

Replaying an event the state already reflects leaves it as it was, and a run of events applied
in the order they were sent ends where the master ended: so the events received since just
before a state was read can all be applied to it (the follower does, to lose none that came
while the read was in flight). An event the view cannot place (an update of a task or a task of
a framework it does not know) answers `RESYNC`: read the state again.

An agent the view knew and a newer state read lacks, with no `AGENT_REMOVED` seen, is carried
over (`carry`): a new leader knows an agent, and its tasks, only once the agent has registered
with it again, and until then those tasks still run. The agent, its running tasks and their
frameworks stay in the view until it is in a read again, `AGENT_REMOVED` says it went, or the
grace the caller gives has passed (the clock comes in as `now`).

Nothing held is changed in place: an update makes new dicts, so `snapshot()` is a shallow copy
that a consumer can read on its own thread while the next events are applied. A view made with
`previous` (the one it replaces) holds `previous`'s dict of each task that is the same.

What changed since it was last asked is kept too (`take_changes`): the tasks that task events
touched, by framework, so that a consumer can look again at those alone (Minuteman: one
change ≤ 5 ms at 10,000 VIPs, where walking the whole state takes 30+). Anything else (a new
view, an agent or a framework event, an event that asks for a read) makes it "everything".
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

JSON = dict[str, Any]

RUNNING = "TASK_RUNNING"
# The states a consumer shows a task in: Mesos-DNS and the DNS proxy name running tasks,
# Minuteman also balances to killing (weight 0) and unreachable ones.
SHOWN = frozenset({RUNNING, "TASK_KILLING", "TASK_UNREACHABLE"})
# Mesos' terminal task states (as daemons/protocols/states.py lists them; not imported: the
# view stays free of the wire models, on the JSON as the master sends it).
TERMINAL = frozenset(
    {
        "TASK_FINISHED",
        "TASK_FAILED",
        "TASK_KILLED",
        "TASK_LOST",
        "TASK_ERROR",
        "TASK_DROPPED",
        "TASK_GONE",
        "TASK_GONE_BY_OPERATOR",
    }
)


class Change(enum.Enum):
    """What an event did: nothing the records show, maybe records, or lost track (re-read)."""

    NONE = 0
    RECORDS = 1
    RESYNC = 2


def _value(message: Any) -> str:
    """A v1 id message (`{"value": "x"}`) -> "x"; "" when absent."""
    if isinstance(message, Mapping):
        value = message.get("value")
        return value if isinstance(value, str) else ""
    return ""


# Memory (docs/dns.md: 10,000 tasks are held by every DNS daemon). The strings that repeat
# from task to task (agent and framework ids, states, protocols, port ranges) are kept once
# (`_shared`); of a task's statuses, only those a consumer reads (`_read_statuses`). And the
# view holds no object of the parsed state (`_own`): the parse (≈ 26 MiB at 10,000 tasks)
# is dropped once the view is made, and CPython returns an arena of small objects to the
# system only when every object in it is gone; the view's few strings and numbers per task,
# left in the parse's arenas, kept nearly all of them (≈ 25 MiB more RSS than the view holds).
SHARED_MAX = 16384  # distinct values kept for sharing; when full, it starts again
SHORT = 24  # a string this long or shorter inside a nested value is shared (ids are longer)
_SHARED: dict[str, str] = {}


def _own(value: Any) -> Any:
    """A parsed leaf (a string or a number) as an object of the view's own, equal to it."""
    kind = type(value)
    if kind is str:
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")
    if kind is int:
        return value * 1  # a new object (the small ints are the interpreter's anyway)
    if kind is float:
        return value * 1.0  # keeps -0.0, inf and nan as they are
    return value


def _shared(text: str) -> str:
    """One string object for a value that 10,000 tasks repeat, instead of a copy in each."""
    found = _SHARED.get(text)
    if found is None:
        if len(_SHARED) >= SHARED_MAX:
            _SHARED.clear()
        found = _own(text)
        _SHARED[found] = found  # keyed by the copy too: nothing of the parse is kept
    return found


def _compact(value: Any) -> Any:
    """A parsed JSON value (an id, DiscoveryInfo, labels, a container status) copied, with
    its short strings shared."""
    if isinstance(value, str):
        return _shared(value) if len(value) <= SHORT else _own(value)
    if isinstance(value, list):
        return [_compact(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _compact(item) for key, item in value.items()}
    return _own(value)


def _maybe_shared(value: Any) -> Any:
    return _shared(value) if isinstance(value, str) else _own(value)


def _read_statuses(statuses: list[JSON]) -> list[JSON]:
    """The statuses a consumer reads, in their order: the latest by timestamp (the first of
    equals: Minuteman's health weight) and the latest TASK_RUNNING one (the first of equals:
    a container's addresses and labels, for Mesos-DNS and the proxy). Dropping the others
    leaves both picks as they were, and so does a status appended later."""
    if len(statuses) < 2:
        return statuses
    try:
        latest = max(statuses, key=_timestamp)
        running = max(
            (s for s in statuses if s.get("state") == RUNNING), key=_timestamp, default=None
        )
    except TypeError:  # timestamps that do not compare: keep them all, as read
        return statuses
    return [s for s in statuses if s is latest or s is running]


def _timestamp(status: Mapping[str, Any]) -> Any:
    return status.get("timestamp", 0)


def _labels(labels: Any) -> list[Any]:
    """Labels as the state JSON shows them (a list), from a Labels message or a list."""
    if isinstance(labels, Mapping):
        labels = labels.get("labels")
    return _compact(labels) if isinstance(labels, list) else []


def status_json(status: Mapping[str, Any]) -> JSON:
    """A v1 TaskStatus -> one entry of a state task's `statuses`."""
    out: JSON = {
        "state": _maybe_shared(status.get("state")),
        "timestamp": _own(status.get("timestamp") or 0),
    }
    if status.get("container_status") is not None:
        out["container_status"] = _compact(status["container_status"])
    if "labels" in status:
        out["labels"] = _labels(status["labels"])
    if isinstance(status.get("healthy"), bool):
        out["healthy"] = status["healthy"]
    return out


def _ports(resources: Any) -> str:
    """The `ports` ranges of a v1 Resource list as the state JSON writes them, `[a-b, c-d]`."""
    ranges: list[str] = []
    for resource in resources if isinstance(resources, list) else ():
        if isinstance(resource, Mapping) and resource.get("name") == "ports":
            for item in ((resource.get("ranges") or {}).get("range")) or ():
                ranges.append(f"{item.get('begin')}-{item.get('end')}")
    return _shared("[" + ", ".join(ranges) + "]") if ranges else ""


def task_json(task: Mapping[str, Any]) -> JSON:
    """A v1 Task -> the fields of a state task that records are made of."""
    statuses = [status_json(s) for s in task.get("statuses") or () if isinstance(s, Mapping)]
    out: JSON = {
        "id": _own(_value(task.get("task_id"))),
        "name": _compact(task.get("name") or ""),
        "framework_id": _shared(_value(task.get("framework_id"))),
        "slave_id": _shared(_value(task.get("agent_id"))),
        "state": _shared(task.get("state") or ""),
        "statuses": _read_statuses(statuses),
    }
    ports = _ports(task.get("resources"))
    if ports:
        out["resources"] = {"ports": ports}
    if task.get("discovery") is not None:
        out["discovery"] = _compact(task["discovery"])
    if task.get("labels"):
        out["labels"] = _labels(task["labels"])
    return out


# What records and VIPs are made of, of a state task (the rest of it is not kept: 10,000
# tasks): Minuteman reads the task's labels (legacy `VIP_PORT<n>`) and a status's `healthy`.
_TASK_KEYS = ("id", "name", "framework_id", "slave_id", "state", "discovery", "labels")
_STATUS_KEYS = ("state", "timestamp", "container_status", "labels", "healthy")


# Of those, the ones whose values repeat from task to task, shared (`_shared`).
_SHARED_KEYS = frozenset({"framework_id", "slave_id", "state"})


def _slim(task: Mapping[str, Any]) -> JSON:
    """A state task with only the fields record generation reads."""
    out: JSON = {}
    for key in _TASK_KEYS:
        if key in task:
            value = task[key]
            out[key] = _maybe_shared(value) if key in _SHARED_KEYS else _compact(value)
    ports = (task.get("resources") or {}).get("ports")
    if ports:
        out["resources"] = {"ports": _maybe_shared(ports)}
    out["statuses"] = _read_statuses(
        [
            {k: _compact(s[k]) for k in _STATUS_KEYS if k in s}
            for s in task.get("statuses") or ()
            if isinstance(s, Mapping)
        ]
    )
    return out


def _same(task: JSON, kept: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any]:
    """`task`, or the equal dict an earlier view holds for it. A state read again (every
    `refreshSeconds`) then keeps the objects of the tasks that did not change: consumers see
    them unchanged by identity (records, VIPs), and the daemon's memory does not churn (a
    new view of 10,000 tasks in place of an equal one left ≈ 20 MiB more RSS each time)."""
    old = kept.get(str(task.get("id")))
    return old if old is not None and old == task else task


def agent_json(agent: Mapping[str, Any]) -> JSON:
    """A v1 agent (of GET_AGENTS, AGENT_ADDED) -> a state agent's id, pid, hostname and port."""
    info = agent.get("agent_info") or {}
    return {
        "id": _value(info.get("id")),
        "pid": agent.get("pid") or "",
        "hostname": info.get("hostname") or "",
        "port": info.get("port") or 5051,
    }


class FrameworkChanges(NamedTuple):
    """What task events changed under one framework since `take_changes` was last called: the
    framework's own fields, its changed tasks still in the view, and the ids of its tasks that
    left it (ended). The shape `daemons.kit.l4lb.table.TableBuilder.update_tasks` takes."""

    framework: Mapping[str, Any]
    tasks: tuple[Mapping[str, Any], ...]
    ended: tuple[str, ...]


class MasterState:
    """A `/master/state` view kept up to date by operator events (see the module docstring)."""

    def __init__(self, state: Mapping[str, Any], previous: MasterState | None = None) -> None:
        # framework id -> ids of the tasks task events touched since `take_changes`; None:
        # everything may have changed (a new view starts so).
        self._touched: dict[str, set[str]] | None = None
        # Everything of the state but its agents and frameworks, as read (the leader's pid).
        self._top: JSON = {k: v for k, v in state.items() if k not in ("slaves", "frameworks")}
        self._agents: dict[str, Mapping[str, Any]] = {}
        # Agents carried over from an earlier view (`carry`), with when to let them go.
        self._carried: dict[str, float] = {}
        for agent in state.get("slaves") or ():
            self._agents[str(agent.get("id"))] = agent
        # framework id -> the framework's own fields; its running tasks by task id, apart.
        self._frameworks: dict[str, Mapping[str, Any]] = {}
        self._tasks: dict[str, dict[str, Mapping[str, Any]]] = {}
        for framework in state.get("frameworks") or ():
            fid = str(framework.get("id"))
            self._frameworks[fid] = {k: v for k, v in framework.items() if k != "tasks"}
            slim = (
                _slim(t) for t in framework.get("tasks") or () if t.get("state") not in TERMINAL
            )
            kept = previous._tasks.get(fid) or {} if previous is not None else {}
            self._tasks[fid] = {str(task.get("id")): _same(task, kept) for task in slim}

    def carry(self, previous: MasterState, now: float, grace: float) -> list[str]:
        """Keep what `previous` knew of the agents this state lacks (their running tasks and
        those tasks' frameworks too) until `now + grace`, or until the deadline they were
        already carried to; the agents carried."""
        carried: dict[str, float] = {}
        for agent_id, agent in previous._agents.items():
            if agent_id in self._agents:
                continue
            deadline = previous._carried.get(agent_id, now + grace)
            if deadline > now:
                carried[agent_id] = deadline
                self._agents[agent_id] = agent
        if not carried:
            return []
        self._carried.update(carried)
        for fid, tasks in previous._tasks.items():
            for task_id, task in tasks.items():
                if task.get("slave_id") not in carried or task.get("state") != RUNNING:
                    continue
                if fid not in self._frameworks:
                    self._frameworks[fid] = previous._frameworks[fid]
                self._tasks.setdefault(fid, {}).setdefault(task_id, task)
        return list(carried)

    def snapshot(self) -> JSON:
        """The state as `/master/state` shows it (the fields kept); later events do not change
        it."""
        return {
            **self._top,
            "slaves": list(self._agents.values()),
            "frameworks": [
                {**framework, "tasks": list(self._tasks.get(fid, {}).values())}
                for fid, framework in self._frameworks.items()
            ],
        }

    def task_count(self) -> int:
        return sum(len(tasks) for tasks in self._tasks.values())

    def take_changes(self) -> tuple[FrameworkChanges, ...] | None:
        """The tasks changed since the last call (by framework), None when anything may have
        changed; from here on, nothing has."""
        touched, self._touched = self._touched, {}
        if touched is None:
            return None
        changes = []
        for fid, task_ids in touched.items():
            if fid not in self._frameworks:
                return None
            tasks = self._tasks.get(fid, {})
            present = tuple(tasks[t] for t in task_ids if t in tasks)
            ended = tuple(t for t in task_ids if t not in tasks)
            changes.append(FrameworkChanges(self._frameworks[fid], present, ended))
        return tuple(changes)

    def apply(self, event: Mapping[str, Any]) -> Change:
        """Apply one operator event; what it changed."""
        kind = event.get("type")
        body = event.get(str(kind).lower()) if isinstance(kind, str) else None
        if not isinstance(body, Mapping):
            return Change.NONE
        handler = _HANDLERS.get(str(kind))
        change = handler(self, body) if handler is not None else Change.NONE
        if change is not Change.NONE and not str(kind).startswith("TASK_"):
            self._touched = None  # an agent or a framework: look at everything
        return change

    def _touch(self, fid: str, task_id: str, change: Change) -> Change:
        """Record that a task event changed task `task_id` of `fid`; returns `change`."""
        if change is Change.RESYNC:
            self._touched = None
        elif change is Change.RECORDS and self._touched is not None:
            self._touched.setdefault(fid, set()).add(task_id)
        return change

    def apply_all(self, events: Iterable[Mapping[str, Any]]) -> Change:
        """Apply events in order; the largest change any made."""
        change = Change.NONE
        for event in events:
            change = max(change, self.apply(event), key=lambda c: c.value)
        return change

    # -- one handler per event type ----------------------------------------------------------

    def _task_added(self, body: Mapping[str, Any]) -> Change:
        task = body.get("task")
        if not isinstance(task, Mapping):
            return Change.NONE
        state = task_json(task)
        fid, task_id = state["framework_id"], state["id"]
        tasks = self._tasks.get(fid)
        if tasks is None:
            return self._touch(fid, task_id, Change.RESYNC)
        if state["state"] in TERMINAL:
            gone = tasks.pop(task_id, None) is not None
            return self._touch(fid, task_id, Change.RECORDS if gone else Change.NONE)
        old = tasks.get(task_id)
        tasks[task_id] = state
        shown = state["state"] in SHOWN or (old is not None and old.get("state") in SHOWN)
        return self._touch(fid, task_id, Change.RECORDS if shown else Change.NONE)

    def _task_updated(self, body: Mapping[str, Any]) -> Change:
        status = body.get("status")
        if not isinstance(status, Mapping):
            return Change.NONE
        fid = _value(body.get("framework_id"))
        task_id = _value(status.get("task_id"))
        state = body.get("state") or status.get("state")
        tasks = self._tasks.get(fid)
        task = tasks.get(task_id) if tasks is not None else None
        if tasks is None or task is None:
            # A terminal update of a task already dropped (or never seen running) is expected.
            return self._touch(fid, task_id, Change.NONE if state in TERMINAL else Change.RESYNC)
        was = task.get("state")
        if state in TERMINAL:
            del tasks[task_id]
            return self._touch(fid, task_id, Change.RECORDS if was in SHOWN else Change.NONE)
        entry = status_json(status)
        statuses = list(task.get("statuses") or ())
        if statuses and statuses[-1].get("state") == entry["state"]:
            statuses[-1] = entry  # as the master records a repeated state
        else:
            statuses.append(entry)
        tasks[task_id] = {**task, "state": state, "statuses": statuses}
        shown = was in SHOWN or state in SHOWN
        return self._touch(fid, task_id, Change.RECORDS if shown else Change.NONE)

    def _agent_added(self, body: Mapping[str, Any]) -> Change:
        agent = body.get("agent")
        if not isinstance(agent, Mapping):
            return Change.NONE
        state = agent_json(agent)
        self._carried.pop(state["id"], None)  # registered again: the next read shows its tasks
        self._agents[state["id"]] = {**self._agents.get(state["id"], {}), **state}
        return Change.RESYNC

    def _agent_removed(self, body: Mapping[str, Any]) -> Change:
        agent_id = _value(body.get("agent_id"))
        self._carried.pop(agent_id, None)
        removed = self._agents.pop(agent_id, None)
        return Change.RECORDS if removed is not None else Change.NONE

    def _framework_added(self, body: Mapping[str, Any]) -> Change:
        framework = body.get("framework")
        info = framework.get("framework_info") if isinstance(framework, Mapping) else None
        if not isinstance(info, Mapping):
            return Change.NONE
        fid = _value(info.get("id"))
        self._frameworks[fid] = {
            **self._frameworks.get(fid, {"id": fid, "pid": None}),
            "name": info.get("name") or "",
            "hostname": info.get("hostname") or "",
        }
        self._tasks.setdefault(fid, {})
        return Change.RECORDS

    def _framework_removed(self, body: Mapping[str, Any]) -> Change:
        info = body.get("framework_info")
        fid = _value(info.get("id")) if isinstance(info, Mapping) else ""
        removed = self._frameworks.pop(fid, None)
        self._tasks.pop(fid, None)
        return Change.RECORDS if removed is not None else Change.NONE


_HANDLERS = {
    "TASK_ADDED": MasterState._task_added,
    "TASK_UPDATED": MasterState._task_updated,
    "AGENT_ADDED": MasterState._agent_added,
    "AGENT_REMOVED": MasterState._agent_removed,
    "FRAMEWORK_ADDED": MasterState._framework_added,
    "FRAMEWORK_UPDATED": MasterState._framework_added,
    "FRAMEWORK_REMOVED": MasterState._framework_removed,
}
