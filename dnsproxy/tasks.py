"""The `dcos.thisdcos.directory` names, from the leading master's `/master/state`. Pure: no
name is looked up, nothing is read but the arguments.

For each TASK_RUNNING task on an agent of the state (`T` its label: the DiscoveryInfo name when
it has one, else the task name, sanitized as Mesos-DNS sanitizes it; `F` its framework's name,
each dot-separated part a label; `Z` = `dcos.thisdcos.directory`):
- `T.F.agentip.Z` A/AAAA: its agent's address (the host of the agent's pid);
- `T.F.containerip.Z` A/AAAA: its container's addresses (the network infos of its latest
  TASK_RUNNING status); no record when the container reports none;
- `T.F.autoip.Z` A/AAAA: the agent's address when the task holds host ports (a `ports`
  resource) or its container reports no address, else the container's addresses.

And `leader.Z` (the state's leading master) and `master.Z` (every master given, the leader too).
Tasks of one name (a Marathon app's instances) share the names: each adds its addresses.
An agent, master or task whose address is a host name rather than an IP adds nothing.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from daemons.kit.dns import zone
from daemons.kit.dns.labels import domain_fragment, rfc1123

APEX = "dcos.thisdcos.directory"
RUNNING = "TASK_RUNNING"


def address_record(name: str, text: str) -> zone.A | zone.AAAA | None:
    """An A or AAAA record of `name` for an IP literal; None for anything else."""
    found = _address(text)
    if found is None:
        return None
    version, ip = found
    return zone.A(name, ip) if version == 4 else zone.AAAA(name, ip)


@functools.lru_cache(maxsize=65536)
def _address(text: str) -> tuple[int, str] | None:
    """An IP literal's version and canonical text, or None. Cached: addresses repeat (every
    task of an agent has the agent's), and their records then share one string."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    return ip.version, str(ip)


def pid_host(pid: object) -> str:
    """The host of a libprocess pid (`slave(1)@10.0.6.21:5051` -> `10.0.6.21`), or ""."""
    if not isinstance(pid, str) or "@" not in pid:
        return ""
    host = pid.partition("@")[2].rpartition(":")[0]
    return host.strip("[]")


def container_ips(task: Mapping[str, Any]) -> list[str]:
    """The addresses the latest TASK_RUNNING status (by timestamp) gives the container."""
    latest: Mapping[str, Any] | None = None
    for status in task.get("statuses") or ():
        if status.get("state") == RUNNING and (
            latest is None or status.get("timestamp", 0) > latest.get("timestamp", 0)
        ):
            latest = status
    ips: list[str] = []
    for info in ((latest or {}).get("container_status") or {}).get("network_infos") or ():
        ips.extend(a.get("ip_address") or "" for a in info.get("ip_addresses") or ())
    return ips


def task_records(state: Mapping[str, Any], masters: Sequence[str]) -> tuple[zone.Record, ...]:
    """Every record of `dcos.thisdcos.directory` for a parsed `/master/state`, in order,
    each once. `masters` are the masters' IPs (the configured master list). ValueError for a
    state that names no leader or is not a master's state (keep the previous records, as
    Mesos-DNS does)."""
    if not isinstance(state, Mapping) or not state.get("leader"):
        raise ValueError("the state names no leading master")
    try:
        return tuple(dict.fromkeys(_records(state, masters)))
    except (AttributeError, TypeError) as err:
        raise ValueError(f"the state is not Mesos' /master/state: {err}") from err


def _records(state: Mapping[str, Any], masters: Sequence[str]) -> Iterator[zone.Record]:
    leader = address_record(f"leader.{APEX}", pid_host(state.get("leader")))
    if leader is not None:
        yield leader
        yield type(leader)(f"master.{APEX}", leader.ip)
    for ip in masters:
        record = address_record(f"master.{APEX}", ip)
        if record is not None:
            yield record
    agents = {
        str(agent.get("id")): pid_host(agent.get("pid")) for agent in state.get("slaves") or ()
    }
    for framework in state.get("frameworks") or ():
        fname = domain_fragment(str(framework.get("name") or ""), rfc1123)
        if not fname:
            continue
        for task in framework.get("tasks") or ():
            agent = agents.get(str(task.get("slave_id")))
            if task.get("state") != RUNNING or agent is None:
                continue
            discovery = task.get("discovery") or {}
            name = rfc1123(str(discovery.get("name") or task.get("name") or ""))
            if not name:
                continue
            yield from _task_names(f"{name}.{fname}", task, agent)


def _task_names(prefix: str, task: Mapping[str, Any], agent: str) -> Iterator[zone.Record]:
    """`T.F.agentip`, `T.F.containerip` and `T.F.autoip` of one task."""
    agent_record = address_record(f"{prefix}.agentip.{APEX}", agent)
    if agent_record is not None:
        yield agent_record
    containers = [
        record
        for ip in container_ips(task)
        if (record := address_record(f"{prefix}.containerip.{APEX}", ip)) is not None
    ]
    yield from containers
    host_ports = bool((task.get("resources") or {}).get("ports"))
    auto = f"{prefix}.autoip.{APEX}"
    if host_ports or not containers:
        if agent_record is not None:
            yield type(agent_record)(auto, agent_record.ip)
    else:
        yield from (type(record)(auto, record.ip) for record in containers)
