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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from minuteman import named_ips
from minuteman.vips import VipKey, declarations

RUNNING, KILLING, UNREACHABLE = "TASK_RUNNING", "TASK_KILLING", "TASK_UNREACHABLE"
_SERVING = frozenset({RUNNING, KILLING, UNREACHABLE})


@dataclass(frozen=True, order=True)
class Backend:
    ip: str
    port: int
    weight: int


@dataclass(frozen=True, order=True)
class Service:
    """Where the data plane matches a VIP: (address, protocol, port)."""

    address: ipaddress.IPv4Address
    protocol: str
    port: int


@dataclass(frozen=True)
class Vip:
    service: Service
    names: tuple[VipKey, ...]  # the declarations that make it (one, unless two meet)
    backends: tuple[Backend, ...]


@dataclass(frozen=True)
class VipTable:
    vips: Mapping[Service, Vip]
    problems: tuple[str, ...] = ()

    def by_key(self) -> dict[VipKey, Vip]:
        return {key: vip for vip in self.vips.values() for key in vip.names}


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
    agents = dict(agent_ips or {}) | agent_addresses(state)
    problems: list[str] = []
    # key -> [(backend, reachable)]
    found: dict[VipKey, list[tuple[Backend, bool]]] = {}
    for framework in state.get("frameworks") or ():
        name = str(framework.get("name") or "")
        for task in [*(framework.get("tasks") or ()), *(framework.get("unreachable_tasks") or ())]:
            task_state = task.get("state")
            agent = agents.get(str(task.get("slave_id")))
            if task_state not in _SERVING or agent is None:
                continue
            declared, task_problems = declarations(task, name)
            problems.extend(task_problems)
            weight = _weight(task)
            for declaration in declared:
                backend = Backend(agent, declaration.host_port, weight)
                found.setdefault(declaration.key, []).append((backend, task_state != UNREACHABLE))
    reserved = {ipaddress.IPv4Address(key.vip) for key in found if not key.named}
    allocation = named_ips.allocate((k.vip for k in found if k.named), pool, reserved)
    problems.extend(f"VIP {name}: the pool {pool} is full" for name in allocation.full)
    services: dict[Service, tuple[list[VipKey], set[Backend]]] = {}
    for key, backends in found.items():
        address = allocation.addresses.get(key.vip) if key.named else ipaddress.IPv4Address(key.vip)
        if address is None:
            continue
        reachable = [b for b, ok in backends if ok]
        kept = reachable or [b for b, _ in backends]
        keys, merged = services.setdefault(Service(address, key.protocol, key.port), ([], set()))
        keys.append(key)
        merged.update(kept)
    vips = {
        service: Vip(service, tuple(sorted(keys)), tuple(sorted(merged)))
        for service, (keys, merged) in sorted(services.items())
    }
    return VipTable(vips, tuple(problems))


def _weight(task: Mapping[str, Any]) -> int:
    if task.get("state") == KILLING:
        return 0
    statuses = task.get("statuses") or ()
    latest = max(statuses, key=lambda s: s.get("timestamp", 0), default=None)
    return 0 if latest is not None and latest.get("healthy") is False else 1
