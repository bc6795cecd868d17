"""The record families of the Mesos domain: what each part of the leading master's
`/master/state` puts under which names (`daemons.mesos_dns.records` assembles them into a record
set, and keeps them between rebuilds). Pure: the state, the masters and the addresses the SOA
name stands for come in as arguments, and no name is looked up (`resolved` carries what the
caller looked up).

Two producers, each a list of entries `(A|AAAA|SRV, name, value)` in generation order:
`head_records` (frameworks, agents, the name server, masters: the cluster's own records, small,
made again on every rebuild) and `task_entries` (one running task's records, from the task's
own fields, its framework's name and its agent's addresses only, so that they can be kept while
those do not change).

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

A name holds each value once; values keep the order they were generated in (the cluster's own
records first, then every task in the state's order). Enumeration data lists, per framework of
the state and per running task, the records that task added first.

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
from functools import lru_cache
from typing import Any, NamedTuple

from daemons.mesos_dns.labels import Label, agent_tail, domain_fragment, task_hash

A, AAAA, SRV = "A", "AAAA", "SRV"
RUNNING = "TASK_RUNNING"
MESOS_IP_LABEL = "MesosContainerizer.NetworkSettings.IPAddress"
DOCKER_IP_LABEL = "Docker.NetworkSettings.IPAddress"


# Tuples, not frozen dataclasses: a 10,000-task state makes hundreds of thousands of them, and
# a NamedTuple is built several times faster.
class SrvTarget(NamedTuple):
    target: str  # a name of the record set, with its trailing dot
    port: int

    def __str__(self) -> str:
        return f"{self.target}:{self.port}"


# (kind, name, value): one value a producer puts under one name (a name may get a value twice;
# the record set keeps the first).
Entry = tuple[str, str, Any]

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
    """The cluster's own records while they are made: each name's values as an ordered set,
    and every value new to its name as an entry, in order."""

    def __init__(self) -> None:
        self.rrs: dict[str, dict[str, dict[Any, None]]] = {A: {}, AAAA: {}, SRV: {}}
        self.entries: list[Entry] = []

    def add(self, kind: str, name: str, value: Any) -> bool:
        values = self.rrs[kind].get(name)
        if values is None:
            self.rrs[kind][name] = {value: None}
        elif value in values:
            return False
        else:
            values[value] = None
        self.entries.append((kind, name, value))
        return True


def _addresses(host: str, resolved: Mapping[str, Sequence[str]]) -> list[Address]:
    """A host's addresses: itself if it is an IP, else what the caller resolved it to."""
    own = parse_ip(host)
    if own is not None:
        return [own]
    return [a for a in map(parse_ip, resolved.get(host, ())) if a is not None]


def _task_addresses(
    task: Mapping[str, Any], sources: Sequence[str], agent: Sequence[Address]
) -> Sequence[Address]:
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
    addresses: Sequence[Address]
    agent: Sequence[Address]
    ports: tuple[int, ...]
    discovery: Mapping[str, Any] | None


class Head(NamedTuple):
    """The cluster's own records, and what tasks need of the agents."""

    entries: tuple[Entry, ...]  # each value once per name, in generation order
    agents: dict[str, tuple[Address, ...]]  # every agent of the state by id: its addresses


def head_records(
    state: Mapping[str, Any],
    domain: str,
    label: Label,
    masters: Sequence[str],
    soa_mname: str,
    listener_ips: Sequence[str],
    resolved: Mapping[str, Sequence[str]],
) -> Head:
    """The frameworks', agents', name server's and masters' records, in that order. `masters`
    are the known masters (`ip:port`, leader first, as the ZooKeeper detector lists them, or the
    configured ones); `resolved` maps host names found in the state to the addresses the caller
    looked up. Raises what a state of the wrong shape raises (the caller turns it into
    `StateError`)."""
    tail = f".{domain}."
    out = _Builder()
    _framework_records(out, state.get("frameworks") or (), tail, label, resolved)
    agents = _agent_records(out, state.get("slaves") or (), tail, resolved)
    for address in filter(None, map(parse_ip, listener_ips)):
        out.add(address[0], soa_mname.lower(), address[1])
    _master_records(out, str(state["leader"]), masters, tail, resolved)
    return Head(tuple(out.entries), agents)


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
) -> dict[str, tuple[Address, ...]]:
    """`slave.D.` and `_slave._tcp.D.`; returns every agent's addresses by id."""
    fqdn = "slave" + tail
    by_id: dict[str, tuple[Address, ...]] = {}
    for agent in agents:
        pid = split_pid(agent.get("pid"))
        addresses = _addresses(pid[0], resolved) if pid else []
        for kind, ip in addresses:
            out.add(kind, fqdn, ip)
        if pid and addresses:
            out.add(SRV, "_slave._tcp" + tail, SrvTarget(fqdn, int(pid[1])))
        by_id[str(agent.get("id"))] = tuple(addresses)
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


def task_entries(
    task: Mapping[str, Any],
    framework: str,
    agent: Sequence[Address],
    domain: str,
    label: Label,
    sources: Sequence[str],
) -> list[Entry]:
    """A running task's records: `framework` its framework's name as a domain fragment (`F`,
    none when it sanitizes to nothing), `agent` its agent's addresses."""
    out: list[Entry] = []
    if not framework:
        return out
    tail = f".{domain}."
    discovery = task.get("discovery")
    if not (discovery and discovery.get("name")):
        discovery = None
    parts = _Task(
        framework,
        f"-{task_hash(task.get('id') or '')}-{agent_tail(task.get('slave_id') or '')}",
        _task_addresses(task, sources, agent),
        agent,
        parse_ports((task.get("resources") or {}).get("ports") or ""),
        discovery,
    )
    if discovery is None:
        _task_names(out, label(task.get("name") or ""), parts, tail, label)
    else:
        raw = str(discovery["name"]).lower()
        _task_names(out, raw, parts, tail, label)
        sanitized = label(discovery["name"])
        if sanitized != raw:
            _task_names(out, sanitized, parts, tail, label)
    return out


def _put(out: list[Entry], kind: str, names: Sequence[str], value: Any) -> None:
    out += [(kind, name, value) for name in names]  # a list, not a generator: twice as fast


def _task_names(out: list[Entry], name: str, task: _Task, tail: str, label: Label) -> None:
    """The records of one task under one of its names (`T`)."""
    if not name:
        return
    framework = task.framework
    short = f"{name}.{framework}"
    canonical = f"{name}{task.hash_tail}.{framework}"
    # The SRV targets are these very strings (one object per name: 10,000 tasks have 40,000).
    on_task, on_agent = canonical + tail, f"{canonical}.slave{tail}"
    for kind, ip in task.addresses:
        _put(out, kind, (short + tail, on_task), ip)
    slave_tail = ".slave" + tail
    for kind, ip in task.agent:
        _put(out, kind, (short + slave_tail, on_agent), ip)
    tcp, udp = f"_{name}._tcp.{framework}", f"_{name}._udp.{framework}"
    names: tuple[str, ...] = (tcp + slave_tail, udp + slave_tail)
    if task.discovery is None:
        names += (tcp + tail, udp + tail)
    for port in task.ports:
        _put(out, SRV, names, SrvTarget(on_agent, port))
    if task.discovery is None:
        return
    for port in (task.discovery.get("ports") or {}).get("ports") or ():
        number = int(port.get("number") or 0)
        proto = label(port.get("protocol") or "")
        protos = [f"_{name}._{proto}.{framework}{tail}"] if proto else [tcp + tail, udp + tail]
        port_name = label(port.get("name") or "")
        if port_name:
            protos += [f"_{port_name}.{n}" for n in protos]
        _put(out, SRV, protos, SrvTarget(on_task, number))
