"""The VIP table: every VIP of the cluster with its address and weighted backends, from the
leading master's state. Pure: the state, the pool and the agents' addresses come in as
arguments.

For each task of a framework (in `tasks` or `unreachable_tasks` of `/master/state`) in
TASK_RUNNING, TASK_KILLING or TASK_UNREACHABLE, each VIP it declares (`vips.declarations`)
gets the backend (agent address, host port) with a weight:
- 1: running, and its latest status does not say `healthy: false`;
- 0 (no new connections, its existing ones kept): killing, or its latest status says unhealthy
  (only Mesos health checks say so, as in DC/OS);
- an unreachable task's backend is kept only while every backend of its VIP is unreachable
  (dcos-net's reachability filter), with weight 1.

A task whose agent has no known address gives nothing. The master's state lists registered
agents only, so the caller passes `agent_ips` (agent id -> address) of the agents it has seen,
which covers an agent marked unreachable after it was seen.

Named VIPs get their address from `named_ips.allocate` over every name in the table, with the
IP VIPs inside the pool reserved. Two VIPs at one (address, protocol, port) are one service:
their backends are merged.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from daemons.kit.l4lb import named_ips
from daemons.kit.l4lb.vips import VipKey, declarations

RUNNING, KILLING, UNREACHABLE = "TASK_RUNNING", "TASK_KILLING", "TASK_UNREACHABLE"
_SERVING = frozenset({RUNNING, KILLING, UNREACHABLE})


# Backends and services are tuples (made, hashed and sorted by the ten thousand on a full
# load: a frozen dataclass costs three times as much).
class Backend(NamedTuple):
    ip: str
    port: int
    weight: int


class Service(NamedTuple):
    """Where the data plane matches a VIP: (address, protocol, port)."""

    address: ipaddress.IPv4Address
    protocol: str
    port: int


@dataclass(frozen=True)
class Vip:
    service: Service
    names: tuple[VipKey, ...]  # the declarations that make it (one, unless two meet)
    backends: tuple[Backend, ...]

    @cached_property
    def weight(self) -> int:
        """The sum of the weights: new connections are shared out over this many slots."""
        return sum(b.weight for b in self.backends if b.weight > 0)


@dataclass(frozen=True)
class VipTable:
    vips: Mapping[Service, Vip]
    problems: tuple[str, ...] = ()
    # How many VIPs are at each address and of each weight: kept by `TableBuilder` as it goes,
    # counted here when not given (so a change need not walk every VIP to know them).
    counts: tuple[Mapping[ipaddress.IPv4Address, int], Mapping[int, int]] | None = field(
        default=None, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        if self.counts is None:
            counts = (
                Counter(service.address for service in self.vips),
                Counter(vip.weight for vip in self.vips.values()),
            )
            object.__setattr__(self, "counts", counts)

    @property
    def addresses(self) -> Collection[ipaddress.IPv4Address]:
        assert self.counts is not None
        return self.counts[0].keys()

    @property
    def weights(self) -> Collection[int]:
        assert self.counts is not None
        return self.counts[1].keys()


def agent_addresses(state: Mapping[str, Any]) -> dict[str, str]:
    """agent id -> the IPv4 address of its pid, for the agents of a `/master/state`."""
    found = {}
    for agent in state.get("slaves") or ():
        host = str(agent.get("pid") or "").partition("@")[2].rpartition(":")[0]
        try:
            found[str(agent.get("id"))] = str(ipaddress.IPv4Address(host))
        except ValueError:
            continue
    return found


def build(
    state: Mapping[str, Any],
    pool: ipaddress.IPv4Network = named_ips.DEFAULT_POOL,
    agent_ips: Mapping[str, str] | None = None,
) -> VipTable:
    """The VIP table of `state`, built whole."""
    return TableBuilder(pool).update(state, agent_ips)[0]


class _Task(NamedTuple):
    """One task as last seen: what it was made from, and what it gave."""

    source: Mapping[str, Any]
    framework: str
    agent: str | None
    given: tuple[tuple[VipKey, Backend, bool], ...]
    problems: tuple[str, ...]


class TableBuilder:
    """The VIP table kept from one state to the next: `update(state)` looks again only at the
    tasks whose object, framework name or agent address changed (the master's state view
    replaces a task's dict when it changes), and rebuilds only the VIPs they touch. It returns
    the new table and the services whose VIP changed, appeared or went: what
    `ruleset.changes` must look at. Named addresses are allocated again only when the set of
    names changes. The result always equals `build(state)`."""

    def __init__(self, pool: ipaddress.IPv4Network = named_ips.DEFAULT_POOL) -> None:
        self.pool = pool
        self._tasks: dict[tuple[str, str], _Task] = {}  # by (framework id, task id)
        self._by_key: dict[VipKey, dict[tuple[str, str], tuple[Backend, bool]]] = {}
        self._problems_changed = False
        self._addresses: dict[str, ipaddress.IPv4Address] = {}
        self._service_of: dict[VipKey, Service] = {}
        self._keys_at: dict[Service, set[VipKey]] = {}
        self._vips: dict[Service, Vip] = {}
        self._problems: tuple[str, ...] = ()
        self._full: tuple[str, ...] = ()
        self._named: frozenset[str] = frozenset()
        self._reserved_ips: frozenset[str] = frozenset()
        self._address_counts: Counter[ipaddress.IPv4Address] = Counter()
        self._weight_counts: Counter[int] = Counter()

    def update(
        self, state: Mapping[str, Any], agent_ips: Mapping[str, str] | None = None
    ) -> tuple[VipTable, frozenset[Service]]:
        """The table of the whole `state` (tasks it lacks are gone)."""
        agents = dict(agent_ips or {}) | agent_addresses(state)
        seen: set[tuple[str, str]] = set()
        dirty: set[VipKey] = set()
        for framework in state.get("frameworks") or ():
            tasks = (*(framework.get("tasks") or ()), *(framework.get("unreachable_tasks") or ()))
            seen.update(self._consider(framework, tasks, agents, dirty))
        gone = [task_id for task_id in self._tasks if task_id not in seen]
        return self._finish(gone, dirty)

    def update_tasks(
        self,
        changes: Iterable[tuple[Mapping[str, Any], Iterable[Mapping[str, Any]], Iterable[str]]],
        agent_ips: Mapping[str, str],
    ) -> tuple[VipTable, frozenset[Service]]:
        """The table after what operator events say, without walking the whole state: for each
        framework (its `id` and `name`), the tasks that changed and the ids of those that went
        (`daemons.mesos_client.master_view.FrameworkChanges`). Equal to `update` of the state
        with those changes."""
        dirty: set[VipKey] = set()
        gone: list[tuple[str, str]] = []
        for framework, tasks, ended in changes:
            self._consider(framework, tasks, agent_ips, dirty)
            framework_id = str(framework.get("id"))
            gone.extend((framework_id, str(task_id)) for task_id in ended)
        return self._finish(gone, dirty)

    def _consider(
        self,
        framework: Mapping[str, Any],
        tasks: Iterable[Mapping[str, Any]],
        agents: Mapping[str, str],
        dirty: set[VipKey],
    ) -> list[tuple[str, str]]:
        name, framework_id = str(framework.get("name") or ""), str(framework.get("id"))
        known = self._tasks
        keys = []
        for task in tasks:
            task_id = (framework_id, str(task.get("id")))
            keys.append(task_id)
            agent = agents.get(task.get("slave_id"))  # type: ignore[arg-type]
            old = known.get(task_id)
            if old is None or old.source is not task or old.framework != name or old.agent != agent:
                new = _task(task, name, agent)
                self._replace(task_id, old, new, dirty)
                self._problems_changed |= old is None or old.problems != new.problems
        return keys

    def _finish(
        self, gone: Iterable[tuple[str, str]], dirty: set[VipKey]
    ) -> tuple[VipTable, frozenset[Service]]:
        for task_id in gone:
            old = self._tasks.get(task_id)
            if old is not None:
                self._replace(task_id, old, None, dirty)
                self._problems_changed |= bool(old.problems)
        if self._problems_changed:
            self._problems = tuple(p for task in self._tasks.values() for p in task.problems)
            self._problems_changed = False
        touched = self._rebuild(dirty)
        counts = (Counter(self._address_counts), Counter(self._weight_counts))
        table = VipTable(dict(self._vips), self._problems + self._full, counts)
        return table, frozenset(touched)

    def _replace(
        self, task_id: tuple[str, str], old: _Task | None, new: _Task | None, dirty: set[VipKey]
    ) -> None:
        for key, _, _ in old.given if old else ():
            self._by_key[key].pop(task_id, None)
            dirty.add(key)
        if new is None:
            self._tasks.pop(task_id, None)
            return
        self._tasks[task_id] = new
        for key, backend, reachable in new.given:
            self._by_key.setdefault(key, {})[task_id] = (backend, reachable)
            dirty.add(key)

    def _rebuild(self, dirty: set[VipKey]) -> set[Service]:
        for key in dirty:
            if not self._by_key.get(key):
                self._by_key.pop(key, None)
        dirty = self._reallocate(dirty)
        touched: set[Service] = set()
        for key in dirty:
            before = self._service_of.pop(key, None)
            if before is not None:
                self._keys_at[before].discard(key)
                touched.add(before)
            after = self._service(key)
            if after is not None and key in self._by_key:
                self._service_of[key] = after
                self._keys_at.setdefault(after, set()).add(key)
                touched.add(after)
        for service in touched:
            keys = self._keys_at.get(service)
            if not keys:
                self._keys_at.pop(service, None)
                self._set(service, None)
                continue
            merged: set[Backend] = set()
            for key in keys:
                backends = self._by_key[key].values()
                reachable = [b for b, ok in backends if ok]
                merged.update(reachable or [b for b, _ in backends])
            ordered = tuple(keys) if len(keys) == 1 else tuple(sorted(keys))
            self._set(service, Vip(service, ordered, tuple(sorted(merged))))
        return touched

    def _set(self, service: Service, vip: Vip | None) -> None:
        old = self._vips.pop(service, None)
        if old is not None:
            self._uncount(self._address_counts, service.address)
            self._uncount(self._weight_counts, old.weight)
        if vip is not None:
            self._vips[service] = vip
            self._address_counts[service.address] += 1
            self._weight_counts[vip.weight] += 1

    @staticmethod
    def _uncount(counter: Counter[Any], value: object) -> None:
        counter[value] -= 1
        if counter[value] <= 0:
            del counter[value]

    def _reallocate(self, dirty: set[VipKey]) -> set[VipKey]:
        """Allocate the named addresses again; the named keys whose address moved join `dirty`."""
        named = frozenset(key.vip for key in dirty if key.named)
        ips = frozenset(key.vip for key in dirty if not key.named)
        if named <= self._named and ips <= self._reserved_ips and all(map(self._by_key.get, dirty)):
            return dirty  # only backends changed: no name or IP VIP came or went
        named = frozenset(key.vip for key in self._by_key if key.named)
        ips = frozenset(key.vip for key in self._by_key if not key.named)
        if named == self._named and ips == self._reserved_ips:
            return dirty
        self._named, self._reserved_ips = named, ips
        reserved = {ipaddress.IPv4Address(ip) for ip in ips}
        allocation = named_ips.allocate(named, self.pool, reserved)
        if not self._addresses and not self._service_of:
            # The first allocation: every key is new this update, so already in `dirty`.
            self._addresses = allocation.addresses
            self._full = tuple(f"VIP {n}: the pool {self.pool} is full" for n in allocation.full)
            return dirty
        moved = {
            n
            for n in named | set(self._addresses)
            if allocation.addresses.get(n) != self._addresses.get(n)
        }
        self._addresses = allocation.addresses
        self._full = tuple(f"VIP {name}: the pool {self.pool} is full" for name in allocation.full)
        keys = set(self._service_of) | set(self._by_key)
        return dirty | {key for key in keys if key.named and key.vip in moved}

    def _service(self, key: VipKey) -> Service | None:
        address = self._addresses.get(key.vip) if key.named else ipaddress.IPv4Address(key.vip)
        return None if address is None else Service(address, key.protocol, key.port)


def _task(task: Mapping[str, Any], framework: str, agent: str | None) -> _Task:
    if task.get("state") not in _SERVING or agent is None:
        return _Task(task, framework, agent, (), ())
    declared, problems = declarations(task, framework)
    weight = _weight(task)
    reachable = task.get("state") != UNREACHABLE
    given = tuple((d.key, Backend(agent, d.host_port, weight), reachable) for d in declared)
    return _Task(task, framework, agent, given, tuple(problems))


def _weight(task: Mapping[str, Any]) -> int:
    if task.get("state") == KILLING:
        return 0
    statuses: Sequence[Mapping[str, Any]] = task.get("statuses") or ()
    if not statuses:
        return 1
    # One status (the usual case): nothing to compare.
    latest = statuses[0] if len(statuses) == 1 else max(statuses, key=_timestamp)
    return 0 if latest.get("healthy") is False else 1


def _timestamp(status: Mapping[str, Any]) -> float:
    return status.get("timestamp", 0)  # type: ignore[no-any-return]
