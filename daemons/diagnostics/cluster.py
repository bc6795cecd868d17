"""Every node's report -> the cluster's health views, in DC/OS's shapes. Pure.

A node's health is the worst of its units' (unhealthy 1 over unknown 3 over healthy 0); a
unit's health across the cluster is the worst over the nodes that have it (unhealthy
anywhere: unhealthy). A node that did not answer the last poll is unknown (3), and so are the
units it had when it last answered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from daemons.diagnostics.units import HEALTHY, UNHEALTHY, UNKNOWN, Unit
from daemons.kit.errors import NotFound


@dataclass(frozen=True)
class NodeReport:
    ip: str
    role: str
    units: tuple[Unit, ...] = ()
    reachable: bool = True
    hostname: str = ""
    mesos_id: str = ""
    # Why it is unknown, for an unreachable node.
    output: str = ""

    @property
    def health(self) -> int:
        if not self.reachable:
            return UNKNOWN
        return worst(u.health for u in self.units)

    def entry(self) -> dict[str, Any]:
        return {"host_ip": self.ip, "health": self.health, "role": self.role}


class UnknownUnit(NotFound):
    def __init__(self, unit: str) -> None:
        super().__init__(f"Unit {unit} not found")


class UnknownNode(NotFound):
    def __init__(self, ip: str) -> None:
        super().__init__(f"Node {ip} not found")


class BadReport(ValueError):
    pass


def worst(values: Iterable[int]) -> int:
    seen = set(values)
    if UNHEALTHY in seen:
        return UNHEALTHY
    if UNKNOWN in seen:
        return UNKNOWN
    return HEALTHY


def _text(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key, "")
    if not isinstance(value, str):
        raise BadReport(f"{key}: expected a string")
    return value


def report_from_json(ip: str, role: str, body: object) -> NodeReport:
    """A node's `/system/health/v1` answer; `BadReport` when it is not that shape."""
    if not isinstance(body, dict) or not isinstance(body.get("units"), list):
        raise BadReport("expected an object with a list of units")
    units = []
    for raw in body["units"]:
        if not isinstance(raw, dict):
            raise BadReport("a unit is not an object")
        health = raw.get("health")
        if health not in (HEALTHY, UNHEALTHY, UNKNOWN) or isinstance(health, bool):
            raise BadReport(f"unit health {health!r}")
        unit_id = _text(raw, "id")
        if not unit_id:
            raise BadReport("a unit without an id")
        units.append(
            Unit(
                unit_id,
                _text(raw, "name"),
                _text(raw, "description"),
                health,
                _text(raw, "output"),
                _text(raw, "help"),
            )
        )
    return NodeReport(
        ip,
        role,
        tuple(sorted(units, key=lambda u: u.id)),
        hostname=_text(body, "hostname"),
        mesos_id=_text(body, "mesos_id"),
    )


def unreachable(ip: str, role: str, why: str, previous: NodeReport | None) -> NodeReport:
    """A node that did not answer: unknown, with the units it had when it last answered."""
    units = previous.units if previous is not None else ()
    output = f"node {ip} did not answer: {why}"
    return NodeReport(
        ip,
        role,
        tuple(replace(u, health=UNKNOWN, output=output) for u in units),
        reachable=False,
        hostname=previous.hostname if previous is not None else "",
        mesos_id=previous.mesos_id if previous is not None else "",
        output=output,
    )


def nodes_from_slaves(body: object) -> list[tuple[str, str, str]]:
    """`(ip, role, agent id)` of each agent in the leading master's `/master/slaves`: public
    when it has the attribute `public_ip:true` (this repo's public agents, as DC/OS's) or the
    `slave_public` role. The address is the one in the agent's `pid` (`slave(1)@ip:port`), its
    hostname otherwise."""
    if not isinstance(body, dict) or not isinstance(body.get("slaves"), list):
        raise BadReport("expected an object with a list of slaves")
    found = []
    for slave in body["slaves"]:
        if not isinstance(slave, dict):
            continue
        pid = slave.get("pid")
        ip = ""
        if isinstance(pid, str) and "@" in pid:
            ip = pid.split("@", 1)[1].rsplit(":", 1)[0]
        if not ip and isinstance(slave.get("hostname"), str):
            ip = slave["hostname"]
        if not ip:
            continue
        raw_attributes = slave.get("attributes")
        attributes = raw_attributes if isinstance(raw_attributes, dict) else {}
        reserved = slave.get("reserved_resources")
        public = str(attributes.get("public_ip", "")).lower() == "true" or (
            isinstance(reserved, dict) and "slave_public" in reserved
        )
        raw_id = slave.get("id")
        agent_id = raw_id if isinstance(raw_id, str) else ""
        found.append((ip, "agent_public" if public else "agent", agent_id))
    return sorted(found)


def _node(nodes: Sequence[NodeReport], ip: str) -> NodeReport:
    for node in nodes:
        if node.ip == ip:
            return node
    raise UnknownNode(ip)


def _with_unit(nodes: Sequence[NodeReport], unit: str) -> list[tuple[NodeReport, Unit]]:
    found = [(n, u) for n in nodes for u in n.units if u.id == unit]
    if not found:
        raise UnknownUnit(unit)
    return found


def units_view(nodes: Sequence[NodeReport]) -> dict[str, Any]:
    """`/units`: each unit once, with its worst health over the nodes."""
    ids = sorted({u.id for n in nodes for u in n.units})
    return {"units": [unit_view(nodes, i) for i in ids]}


def unit_view(nodes: Sequence[NodeReport], unit: str) -> dict[str, Any]:
    found = _with_unit(nodes, unit)
    first = found[0][1]
    return {
        "id": first.id,
        "name": first.name,
        "health": worst(u.health for _, u in found),
        "description": first.description,
    }


def unit_nodes(nodes: Sequence[NodeReport], unit: str) -> dict[str, Any]:
    return {"nodes": [{**n.entry(), "health": u.health} for n, u in _with_unit(nodes, unit)]}


def unit_node(nodes: Sequence[NodeReport], unit: str, ip: str) -> dict[str, Any]:
    node = _node(nodes, ip)
    for u in node.units:
        if u.id == unit:
            return {
                "host_ip": node.ip,
                "health": u.health,
                "role": node.role,
                "output": u.output,
                "help": u.help,
            }
    raise UnknownUnit(unit)


def nodes_view(nodes: Sequence[NodeReport]) -> dict[str, Any]:
    return {"nodes": [n.entry() for n in sorted(nodes, key=lambda n: n.ip)]}


def node_view(nodes: Sequence[NodeReport], ip: str) -> dict[str, Any]:
    return _node(nodes, ip).entry()


def node_units(nodes: Sequence[NodeReport], ip: str) -> dict[str, Any]:
    return {"units": [u.full() for u in _node(nodes, ip).units]}


def node_unit(nodes: Sequence[NodeReport], ip: str, unit: str) -> dict[str, Any]:
    for u in _node(nodes, ip).units:
        if u.id == unit:
            return u.full()
    raise UnknownUnit(unit)


def report(nodes: Sequence[NodeReport], leader_ip: str, updated: str) -> dict[str, Any]:
    """`/report`: the whole tree, in DC/OS's capitalised shape."""
    units: dict[str, Any] = {}
    for unit_id in sorted({u.id for n in nodes for u in n.units}):
        found = _with_unit(nodes, unit_id)
        units[unit_id] = {
            "UnitName": unit_id,
            "Nodes": [
                {**n.entry(), "health": u.health, "output": u.output, "help": u.help}
                for n, u in found
            ],
            "Health": worst(u.health for _, u in found),
            "Title": found[0][1].name,
            "Timestamp": updated,
            "PrettyName": found[0][1].name,
        }
    return {
        "Units": units,
        "Nodes": {
            n.ip: {
                "Leader": n.ip == leader_ip,
                "Role": n.role,
                "IP": n.ip,
                "Host": n.hostname,
                "Health": n.health,
                "Output": {u.id: u.output for u in n.units} if n.reachable else {"": n.output},
                "Units": [u.full() for u in n.units],
                "MesosID": n.mesos_id,
            }
            for n in sorted(nodes, key=lambda n: n.ip)
        },
        "UpdatedTime": updated,
    }
