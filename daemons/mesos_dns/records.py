"""The record set of the Mesos domain, generated from the leading master's `/master/state`.
Pure: the state, the masters, the addresses the SOA name stands for and the load's time come
in as arguments, and no name is looked up (`resolved` carries what the caller looked up).

Record families, as Mesos-DNS generates them (`T` a task's label, `F` its framework's name
with each dot-separated part a label, `D` the domain, `H` the first 5 characters of
zbase32(SHA-1(task id)), `S` the last `-` piece of the agent id, lowercased):

- frameworks: `F.D.` A/AAAA the scheduler's address (its pid's host, else its hostname);
  `_framework._tcp.F.D.` SRV `F.D.:<pid port>` (only a framework with a libprocess pid has one);
- agents: `slave.D.` A/AAAA every agent's address (its pid's host); `_slave._tcp.D.` SRV
  `slave.D.:<agent port>`;
- the name server: `<SOAMname>` A/AAAA the addresses Mesos-DNS listens on (`listener_ips`);
- masters: `leader.D.` the leader (from the state's `leader` pid); `_leader._tcp.D.` and
  `_leader._udp.D.` SRV `leader.D.:<port>`; `master.D.` the leader and every known master;
  `master0.D.`, `master1.D.`… one per master in the order given (the leader gets the next
  number when it is not among them);
- tasks (TASK_RUNNING on an agent of the state only): `T.F.D.` and `T-H-S.F.D.` A/AAAA the
  task's addresses from the first of `IPSources` that gives any (`host`: the agent's; `netinfo`:
  the latest TASK_RUNNING status's container network infos; `mesos`/`docker`: that status's
  `MesosContainerizer.NetworkSettings.IPAddress`/`Docker.NetworkSettings.IPAddress` labels);
  `T.F.slave.D.` and `T-H-S.F.slave.D.` A/AAAA the agent's addresses;
  `_T._tcp.F.slave.D.` and `_T._udp.F.slave.D.` SRV `T-H-S.F.slave.D.:<port>` for each port
  of the task's `ports` resource, and `_T._tcp.F.D.`/`_T._udp.F.D.` with the same targets
  when the task has no DiscoveryInfo;
- DiscoveryInfo (a task whose `discovery` has a name): the discovery name replaces the task
  name, and every task record above is generated twice, once with the name as given
  (lowercased) and once sanitized (Marathon's `/mygroup/myapp` gives both
  `myapp.mygroup.marathon.mesos.` and `myapp-mygroup.marathon.mesos.`); each discovery port adds
  `_T._<proto>.F.D.` SRV `T-H-S.F.D.:<number>` (no protocol: both tcp and udp) and, when the
  port has a name, `_<name>._T._<proto>.F.D.` too.

A name holds each value once; values keep the order they were generated in. Enumeration data
lists, per framework of the state and per running task, the records that task added first.

Where this differs from Mesos-DNS, and why:
- Names are all lowercase: the raw DiscoveryInfo name is lowercased too (Mesos-DNS stores it as
  given, and since every lookup is lowercased, a capital letter made the name unreachable).
- No host name is looked up here: an agent, framework or master given by name (not an IP) has
  the addresses `resolved` gives it, else none. Mesos-DNS resolved it itself, and for an agent
  it could not resolve wrote the sanitized host name as an "address" of the `.slave` names
  (mesos-dns issue 509); here that agent's tasks keep their other records and get no `.slave`
  A records.
- A task or framework whose name sanitizes to nothing gets no records (Mesos-DNS generated
  names with an empty label, such as `.marathon.mesos.`, which no client can ask for).
- A state without a leader raises `StateError` (Mesos-DNS too refused it and kept the previous
  records); an agent whose pid cannot be read still counts as known (Mesos-DNS failed the whole
  state on it), with no address.
- Values are in generation order rather than Go's map order (the DNS server shuffles answers
  anyway; `/v1/services` picks the first address of a target instead of a random one).
- A task that added no record has an empty record list in the enumeration, not `null`.
- A status's labels are read as Mesos renders them (a list of key/value) and also as a Labels
  message (`{"labels": [...]}`), which our master showed before it rendered them as Mesos does.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any, NamedTuple

from daemons.mesos_dns.config import MesosDnsConfig
from daemons.mesos_dns.labels import (
    Label,
    agent_tail,
    domain_fragment,
    label_function,
    task_hash,
)

A, AAAA, SRV = "A", "AAAA", "SRV"
RUNNING = "TASK_RUNNING"
MESOS_IP_LABEL = "MesosContainerizer.NetworkSettings.IPAddress"
DOCKER_IP_LABEL = "Docker.NetworkSettings.IPAddress"


class StateError(ValueError):
    """The state cannot be turned into records (keep the previous ones)."""


# Tuples, not frozen dataclasses: a 10,000-task state makes hundreds of thousands of them, and
# a NamedTuple is built several times faster.
class SrvTarget(NamedTuple):
    target: str  # a name of the record set, with its trailing dot
    port: int

    def __str__(self) -> str:
        return f"{self.target}:{self.port}"


# (name, host, rtype): host is an IP, or "target:port" for SRV. A plain tuple: there is one
# per record of every task.
EnumerableRecord = tuple[str, str, str]


class EnumerableTask(NamedTuple):
    name: str
    id: str
    records: tuple[EnumerableRecord, ...]


class EnumerableFramework(NamedTuple):
    name: str
    tasks: tuple[EnumerableTask, ...]


@dataclass(frozen=True)
class RecordSet:
    """One load's records: names (lowercase, trailing dot) to values, read-only."""

    a: Mapping[str, tuple[str, ...]]
    aaaa: Mapping[str, tuple[str, ...]]
    srv: Mapping[str, tuple[SrvTarget, ...]]
    frameworks: tuple[EnumerableFramework, ...]
    serial: int  # the Unix time of the load (the SOA serial)


EMPTY = RecordSet(MappingProxyType({}), MappingProxyType({}), MappingProxyType({}), (), 0)

Address = tuple[str, str]  # (A or AAAA, the address in its canonical text)


@lru_cache(maxsize=65536)
def parse_ip(text: str) -> Address | None:
    """An address as Go's net.ParseIP reads it (an IPv4-mapped IPv6 address is IPv4), or None."""
    if "%" in text:
        return None
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return A, str(ip.ipv4_mapped)
        return AAAA, str(ip)
    return A, str(ip)


def split_pid(pid: object) -> tuple[str, str] | None:
    """`name@host:port` (a libprocess pid) -> (host, port), or None."""
    if not isinstance(pid, str):
        return None
    _, at, address = pid.partition("@")
    if not at or "@" in address:
        return None
    if address.startswith("["):
        host, sep, port = address[1:].partition("]:")
    else:
        host, sep, port = address.rpartition(":")
    return (host, port) if sep and host and port.isdigit() else None


def mname_addresses(listener: str, interface_ips: Sequence[str]) -> tuple[str, ...]:
    """What the SOA name stands for: every non-loopback interface address when Mesos-DNS
    listens on 0.0.0.0, else the listener's own address."""
    if listener == "0.0.0.0":
        return tuple(ip for ip in interface_ips if not ipaddress.ip_address(ip).is_loopback)
    return (listener,)


class _Builder:
    """The record set while it is generated: each name's values as an ordered set."""

    def __init__(self) -> None:
        self.rrs: dict[str, dict[str, dict[Any, None]]] = {A: {}, AAAA: {}, SRV: {}}

    def add(self, kind: str, name: str, value: Any) -> bool:
        values = self.rrs[kind].get(name)
        if values is None:
            self.rrs[kind][name] = {value: None}
            return True
        if value in values:
            return False
        values[value] = None
        return True

    def put(
        self, kind: str, names: Sequence[str], value: Any, host: str, added: list[EnumerableRecord]
    ) -> None:
        """A task's `value` under each of `names`, noting in `added` where it is new (the
        inner loop of every generation: `add` inlined)."""
        rrs = self.rrs[kind]
        for name in names:
            values = rrs.get(name)
            if values is None:
                rrs[name] = {value: None}
            elif value in values:
                continue
            else:
                values[value] = None
            added.append((name, host, kind))

    def frozen(self, kind: str) -> Mapping[str, tuple[Any, ...]]:
        return MappingProxyType({name: tuple(v) for name, v in self.rrs[kind].items()})


def _addresses(host: str, resolved: Mapping[str, Sequence[str]]) -> list[Address]:
    """A host's addresses: itself if it is an IP, else what the caller resolved it to."""
    own = parse_ip(host)
    if own is not None:
        return [own]
    return [a for a in map(parse_ip, resolved.get(host, ())) if a is not None]


def _task_addresses(
    task: Mapping[str, Any], sources: Sequence[str], agent: list[Address]
) -> list[Address]:
    """The task's addresses from the first source that gives any."""
    for source in sources:
        if source == "host":
            found = agent
        else:
            found = [a for a in map(parse_ip, _status_ips(task, source)) if a is not None]
        if found:
            return found
    return []


def _status_ips(task: Mapping[str, Any], source: str) -> list[str]:
    """What `source` says in the latest TASK_RUNNING status (by timestamp, the first of equals)."""
    latest: Mapping[str, Any] | None = None
    for status in task.get("statuses") or ():
        if status.get("state") == RUNNING and (
            latest is None or status.get("timestamp", 0) > latest.get("timestamp", 0)
        ):
            latest = status
    if latest is None:
        return []
    if source == "netinfo":
        ips: list[str] = []
        for info in (latest.get("container_status") or {}).get("network_infos") or ():
            addresses = info.get("ip_addresses")
            if addresses:
                ips.extend(a.get("ip_address") or "" for a in addresses)
            elif info.get("ip_address"):  # Mesos 0.25's single address
                ips.append(info["ip_address"])
        return ips
    key = MESOS_IP_LABEL if source == "mesos" else DOCKER_IP_LABEL
    labels = latest.get("labels") or ()
    if isinstance(labels, Mapping):  # a Labels message as sent, not Mesos' list
        labels = labels.get("labels") or ()
    return [lab.get("value", "") for lab in labels if lab.get("key") == key]


@lru_cache(maxsize=65536)
def parse_ports(text: str) -> tuple[int, ...]:
    """The ports of a state JSON range text, `[31000-31001, 31005-31005]`."""
    ports: list[int] = []
    for part in text.strip().strip("[]").split(","):
        low, dash, high = part.strip().partition("-")
        if dash and low.isdigit() and high.isdigit():
            ports.extend(range(int(low), int(high) + 1))
    return tuple(ports)


class _Task(NamedTuple):
    """What every name of one task is made of."""

    framework: str  # F
    hash_tail: str  # -H-S
    addresses: list[Address]
    agent: list[Address]
    ports: tuple[int, ...]
    discovery: Mapping[str, Any] | None


def generate(
    state: Mapping[str, Any],
    config: MesosDnsConfig,
    masters: Sequence[str],
    *,
    serial: int,
    listener_ips: Sequence[str] = (),
    resolved: Mapping[str, Sequence[str]] | None = None,
) -> RecordSet:
    """The records of a parsed `/master/state`. `masters` are the known masters (`ip:port`,
    leader first, as the ZooKeeper detector lists them, or the configured ones); `resolved`
    maps host names found in the state to the addresses the caller looked up."""
    if not isinstance(state, Mapping) or not state.get("leader"):
        raise StateError("the state names no leading master")
    resolved = resolved or {}
    label = label_function(config.enforce_rfc952)
    tail = f".{config.domain}."
    out = _Builder()
    try:
        frameworks = list(state.get("frameworks") or ())
        _framework_records(out, frameworks, tail, label, resolved)
        agents = _agent_records(out, state.get("slaves") or (), tail, resolved)
        for address in filter(None, map(parse_ip, listener_ips)):
            out.add(address[0], config.soa_mname.lower(), address[1])
        _master_records(out, str(state["leader"]), masters, tail, resolved)
        enumeration = tuple(
            _task_records(out, f, agents, tail, label, config.ip_sources) for f in frameworks
        )
    except (AttributeError, TypeError, ValueError) as err:
        raise StateError(f"the state is not Mesos' /master/state: {err}") from err
    return RecordSet(out.frozen(A), out.frozen(AAAA), out.frozen(SRV), enumeration, serial)


def _framework_records(
    out: _Builder,
    frameworks: Sequence[Mapping[str, Any]],
    tail: str,
    label: Label,
    resolved: Mapping[str, Sequence[str]],
) -> None:
    """`F.D.` and `_framework._tcp.F.D.`"""
    for framework in frameworks:
        pid = split_pid(framework.get("pid"))
        host, port = pid if pid else (framework.get("hostname") or "", "")
        name = domain_fragment(framework.get("name") or "", label)
        addresses = _addresses(host, resolved)
        if not name or not addresses:
            continue
        fqdn = name + tail
        for kind, ip in addresses:
            out.add(kind, fqdn, ip)
        if port:
            out.add(SRV, "_framework._tcp." + fqdn, SrvTarget(fqdn, int(port)))


def _agent_records(
    out: _Builder,
    agents: Sequence[Mapping[str, Any]],
    tail: str,
    resolved: Mapping[str, Sequence[str]],
) -> dict[str, list[Address]]:
    """`slave.D.` and `_slave._tcp.D.`; returns every agent's addresses by id."""
    fqdn = "slave" + tail
    by_id: dict[str, list[Address]] = {}
    for agent in agents:
        pid = split_pid(agent.get("pid"))
        addresses = _addresses(pid[0], resolved) if pid else []
        for kind, ip in addresses:
            out.add(kind, fqdn, ip)
        if pid and addresses:
            out.add(SRV, "_slave._tcp" + tail, SrvTarget(fqdn, int(pid[1])))
        by_id[str(agent.get("id"))] = addresses
    return by_id


def _master_records(
    out: _Builder,
    leader_pid: str,
    masters: Sequence[str],
    tail: str,
    resolved: Mapping[str, Sequence[str]],
) -> None:
    """`leader.D.`, `_leader._tcp.D.`, `_leader._udp.D.`, `master.D.` and `masterN.D.`"""
    pid = split_pid(leader_pid)
    leader = _addresses(pid[0], resolved)[:1] if pid else []
    if not pid or not leader:
        return
    port = pid[1]
    leader_address = leader_pid.partition("@")[2]
    (kind, ip) = leader[0]
    out.add(kind, "leader" + tail, ip)
    out.add(kind, "master" + tail, ip)
    target = SrvTarget("leader" + tail, int(port))
    out.add(SRV, "_leader._tcp" + tail, target)
    out.add(SRV, "_leader._udp" + tail, target)
    index, leader_numbered = 0, False
    for master in masters:
        split = split_pid("@" + master)
        addresses = _addresses(split[0], resolved)[:1] if split else []
        if not addresses:
            continue
        (master_kind, master_ip) = addresses[0]
        is_leader = master == leader_address
        if not is_leader and not out.add(master_kind, "master" + tail, master_ip):
            continue  # listed twice
        if is_leader and leader_numbered:
            continue
        out.add(master_kind, f"master{index}{tail}", master_ip)
        index += 1
        leader_numbered = leader_numbered or is_leader
    if not leader_numbered:
        out.add(kind, f"master{index}{tail}", ip)


def _task_records(
    out: _Builder,
    framework: Mapping[str, Any],
    agents: Mapping[str, list[Address]],
    tail: str,
    label: Label,
    sources: Sequence[str],
) -> EnumerableFramework:
    """Every running task's records; the framework's enumeration data."""
    fname = domain_fragment(framework.get("name") or "", label)
    tasks: list[EnumerableTask] = []
    for task in framework.get("tasks") or ():
        if task.get("state") != RUNNING:
            continue
        agent_id = task.get("slave_id")
        agent = agents.get(agent_id)
        if agent is None:
            continue
        added: list[EnumerableRecord] = []
        tasks.append(EnumerableTask(task.get("name") or "", task.get("id") or "", ()))
        if fname:
            discovery = task.get("discovery")
            if not (discovery and discovery.get("name")):
                discovery = None
            parts = _Task(
                fname,
                f"-{task_hash(task.get('id') or '')}-{agent_tail(agent_id)}",
                _task_addresses(task, sources, agent),
                agent,
                parse_ports((task.get("resources") or {}).get("ports") or ""),
                discovery,
            )
            if discovery is None:
                _task_names(out, label(task.get("name") or ""), parts, tail, label, added)
            else:
                raw = str(discovery["name"]).lower()
                _task_names(out, raw, parts, tail, label, added)
                sanitized = label(discovery["name"])
                if sanitized != raw:
                    _task_names(out, sanitized, parts, tail, label, added)
        tasks[-1] = tasks[-1]._replace(records=tuple(added))
    return EnumerableFramework(framework.get("name") or "", tuple(tasks))


def _task_names(
    out: _Builder,
    name: str,
    task: _Task,
    tail: str,
    label: Label,
    added: list[EnumerableRecord],
) -> None:
    """The records of one task under one of its names (`T`)."""
    if not name:
        return
    framework = task.framework
    short = f"{name}.{framework}"
    canonical = f"{name}{task.hash_tail}.{framework}"
    for kind, ip in task.addresses:
        out.put(kind, (short + tail, canonical + tail), ip, ip, added)
    slave_tail = ".slave" + tail
    for kind, ip in task.agent:
        out.put(kind, (short + slave_tail, canonical + slave_tail), ip, ip, added)
    on_agent = canonical + slave_tail
    tcp, udp = f"_{name}._tcp.{framework}", f"_{name}._udp.{framework}"
    names: tuple[str, ...] = (tcp + slave_tail, udp + slave_tail)
    if task.discovery is None:
        names += (tcp + tail, udp + tail)
    for port in task.ports:
        out.put(SRV, names, SrvTarget(on_agent, port), f"{on_agent}:{port}", added)
    if task.discovery is None:
        return
    for port in (task.discovery.get("ports") or {}).get("ports") or ():
        number = int(port.get("number") or 0)
        proto = label(port.get("protocol") or "")
        protos = [f"_{name}._{proto}.{framework}{tail}"] if proto else [tcp + tail, udp + tail]
        port_name = label(port.get("name") or "")
        if port_name:
            protos += [f"_{port_name}.{n}" for n in protos]
        host = canonical + tail
        out.put(SRV, protos, SrvTarget(host, number), f"{host}:{number}", added)
