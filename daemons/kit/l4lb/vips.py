"""What a task declares: its VIPs and the backend each of its ports gives them. Pure.

A VIP is declared on a port of the task's DiscoveryInfo (Marathon copies an app's
`portDefinitions[].labels` there): any label whose key starts with `VIP` (any case; Marathon's
`VIP_0`, `VIP_1`…) names it, with the value
- `/<name>:<port>` (or `<name>:<port>`): a **named** VIP, reached as
  `<name>.<framework>.l4lb.thisdcos.directory:<port>`, the name's slashes dropped and each
  dot-separated part sanitized as Mesos-DNS sanitizes labels (`/mygroup/myapp` ->
  `mygroupmyapp`); its address comes from `named_ips`;
- `<ipv4>:<port>`: an **IP** VIP at that address.

The legacy task label `VIP_PORT<n>` = `tcp://<vip>` or `udp://<vip>` declares a VIP on the
task's `n`-th host port (the `ports` resource's ranges, in order).

The VIP's key is (protocol, VIP, port); the protocol is the port's (`tcp` or `udp`). The backend
is the agent's address with the host port (host networking: the only kind PyDCOS runs).

A value that declares nothing sensible is a problem, never a VIP: no `:port`, a port that is
not a number in 1-65535, an address that is not IPv4 or looks like one but is not (`1.2.3`), a
name that sanitizes to nothing or holds a label over 63 characters, an unknown protocol. The
caller logs and counts problems; nothing is programmed for them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from daemons.kit.dns.labels import RFC1123_MAX, domain_fragment, rfc1123

PROTOCOLS = ("tcp", "udp")
_LOOKS_NUMERIC = re.compile(r"^[0-9.]+$")
_LEGACY = re.compile(r"^VIP_PORT([0-9]+)$", re.IGNORECASE)
_UNSANITIZED = re.compile(r"[^A-Za-z0-9._-]")


class VipError(ValueError):
    """A VIP declaration that declares nothing: the message says why."""


@dataclass(frozen=True, order=True)
class NamedVip:
    """`<label>.<framework>`: both already sanitized dotted names."""

    label: str
    framework: str

    @property
    def name(self) -> str:
        return f"{self.label}.{self.framework}"


# Keys and declarations are tuples: made and hashed for every task on a full load.
class VipKey(NamedTuple):
    protocol: str
    vip: str  # a named VIP's `<label>.<framework>`, or an IPv4 address
    port: int
    named: bool

    def __str__(self) -> str:
        return f"{self.vip}:{self.port}/{self.protocol}"


class Declaration(NamedTuple):
    """One task port's backend for one VIP."""

    key: VipKey
    host_port: int


@lru_cache(maxsize=65536)
def parse_vip(value: str, framework: str) -> tuple[NamedVip | ipaddress.IPv4Address, int]:
    """A VIP label's value -> (the VIP, its port). VipError says why a value declares none.
    (Cached: a Marathon app's instances all carry the same labels.)"""
    if not isinstance(value, str) or ":" not in value:
        raise VipError(f"VIP {value!r}: expected <name or IPv4>:<port>")
    host, _, port_text = value.rpartition(":")
    port = _port(port_text, value)
    if not host:
        raise VipError(f"VIP {value!r}: no name or address before the port")
    try:
        return ipaddress.IPv4Address(host), port
    except ValueError:
        pass
    if _LOOKS_NUMERIC.match(host):
        raise VipError(f"VIP {value!r}: {host!r} is not an IPv4 address")
    if ":" in host:
        raise VipError(f"VIP {value!r}: only IPv4 VIPs are served")
    return NamedVip(_label(host, value), _framework(framework)), port


def _port(text: str, value: str) -> int:
    if not text.isdigit() or not 0 < int(text) <= 65535:
        raise VipError(f"VIP {value!r}: the port must be a number in 1-65535")
    return int(text)


def _label(host: str, value: str) -> str:
    parts = host.replace("/", "").split(".")
    # A part a DNS label cannot hold is refused, not cut (two long names would meet).
    if any(
        len(part) > RFC1123_MAX and len(_UNSANITIZED.sub("", part)) > RFC1123_MAX for part in parts
    ):
        raise VipError(f"VIP {value!r}: a name part is over {RFC1123_MAX} characters")
    label = domain_fragment(".".join(parts), rfc1123)
    if not label:
        raise VipError(f"VIP {value!r}: the name has no letter or digit")
    return label


def _framework(name: str) -> str:
    fragment = domain_fragment(name, rfc1123)
    if not fragment:
        raise VipError(f"framework {name!r}: the name has no letter or digit")
    return fragment


def key_of(vip: NamedVip | ipaddress.IPv4Address, protocol: str, port: int) -> VipKey:
    if isinstance(vip, NamedVip):
        return VipKey(protocol, vip.name, port, named=True)
    return VipKey(protocol, str(vip), port, named=False)


def declarations(task: Mapping[str, Any], framework: str) -> tuple[list[Declaration], list[str]]:
    """Every VIP a task's ports and labels declare, and the problems of those that declare
    none (each a message naming the task)."""
    found: list[Declaration] = []
    problems: list[str] = []
    for value, protocol, host_port in _labels(task):
        try:
            if protocol not in PROTOCOLS:
                raise VipError(f"VIP {value!r}: protocol {protocol!r} is not tcp or udp")
            if not 0 < host_port <= 65535:
                raise VipError(f"VIP {value!r}: the task holds no such host port")
            vip, port = parse_vip(value, framework)
        except VipError as err:
            problems.append(f"task {task.get('id')}: {err}")
            continue
        found.append(Declaration(key_of(vip, protocol, port), host_port))
    return (found if len(found) < 2 else list(dict.fromkeys(found))), problems


def _labels(task: Mapping[str, Any]) -> Iterator[tuple[str, str, int]]:
    """(value, protocol, host port) of every VIP label of a task; host port 0 when the label
    names a port the task does not hold."""
    ports = ((task.get("discovery") or {}).get("ports") or {}).get("ports") or ()
    for port in ports:
        for label in (port.get("labels") or {}).get("labels") or ():
            if str(label.get("key", "")).upper().startswith("VIP"):
                protocol = str(port.get("protocol") or "tcp").lower()
                yield str(label.get("value", "")), protocol, _int(port.get("number"))
    host_ports: Sequence[int] | None = None
    for label in _label_list(task.get("labels")):
        legacy = _LEGACY.match(str(label.get("key", "")))
        if legacy is None:
            continue
        host_ports = _host_ports(task) if host_ports is None else host_ports
        index = int(legacy.group(1))
        protocol, _, vip = str(label.get("value", "")).rpartition("://")
        host_port = host_ports[index] if index < len(host_ports) else 0
        yield vip, protocol.lower(), host_port


def _label_list(labels: Any) -> list[Any]:
    """A task's labels: `/master/state` shows a list, a Labels message holds it as `labels`."""
    if isinstance(labels, Mapping):
        labels = labels.get("labels")
    return (
        [label for label in labels if isinstance(label, Mapping)]
        if isinstance(labels, list)
        else []
    )


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _host_ports(task: Mapping[str, Any]) -> Sequence[int]:
    """The `ports` resource's ports, range by range in order."""
    ranges = ((task.get("resources") or {}).get("ports")) or ""
    ports: list[int] = []
    # /master/state renders ranges as "[31000-31001, 31005-31005]".
    for part in str(ranges).strip("[]").split(","):
        low, _, high = part.strip().partition("-")
        if low.isdigit() and high.isdigit():
            ports.extend(range(int(low), int(high) + 1))
    return ports
