"""Mesos-DNS's configuration: its own `config.json`, which operators bring from a Mesos-DNS
install, read as Mesos-DNS reads it. Pure: the file's text is parsed by the caller.

Keys are matched to the Go struct's field names ignoring case, as Go's JSON decoding does
(`refreshSeconds`, `RefreshSeconds` and `REFRESHSECONDS` are one setting, the last one written
wins); `null` leaves a setting at its default (an empty list for lists). The defaults are
Mesos-DNS's, except where DC/OS sets its own (refreshSeconds 30, port 61053, IPSources
["host", "netinfo"]). Checks follow Mesos-DNS's start-up checks (DNS or HTTP on, masters or a
ZooKeeper URL, masters `host:port`, resolvers `ip[:port]`, known unique IP sources, a valid
domain, a positive state timeout); the domain is lowercased and the SOA names end with a dot,
as Mesos-DNS stores them.

Two differences, for operators' safety: a key Mesos-DNS does not know is refused (Go ignores
it, so a misspelt `refreshSecond` would silently mean 60), except the legacy `email` and `ns`
keys older files carry and `File`/`SOASerial` (what `/v1/config` shows but Mesos-DNS sets
itself), which are ignored; and `go_fields` hides the Mesos credentials' secret.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

IP_SOURCES = ("host", "netinfo", "mesos", "docker")
AUTHENTICATIONS = ("", "basic", "iam")
# Keys read from a file and ignored: legacy ones, and values Mesos-DNS sets itself.
IGNORED_KEYS = frozenset({"email", "ns", "file", "soaserial"})

_DOMAIN = re.compile(r"^[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*$")
# Go's integer types, their bounds.
_BOUNDS = {
    "int": (-(2**63), 2**63 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
}


def _go(name: str, kind: str) -> Any:
    """Field metadata: its Go field name (also its JSON key, ignoring case) and Go type."""
    return {"go": name, "kind": kind}


@dataclass(frozen=True)
class MesosCredentials:
    principal: str = ""
    secret: str = ""


@dataclass(frozen=True)
class MesosDnsConfig:
    refresh_seconds: int = field(default=30, metadata=_go("RefreshSeconds", "int"))
    port: int = field(default=61053, metadata=_go("Port", "int"))
    timeout: int = field(default=5, metadata=_go("Timeout", "int"))
    state_timeout_seconds: int = field(default=300, metadata=_go("StateTimeoutSeconds", "int"))
    zk_detection_timeout: int = field(default=30, metadata=_go("ZkDetectionTimeout", "int"))
    http_port: int = field(default=8123, metadata=_go("HttpPort", "int"))
    ttl: int = field(default=60, metadata=_go("TTL", "int32"))
    srv_record_default_weight: int = field(
        default=1, metadata=_go("SRVRecordDefaultWeight", "uint16")
    )
    soa_refresh: int = field(default=60, metadata=_go("SOARefresh", "uint32"))
    soa_retry: int = field(default=600, metadata=_go("SOARetry", "uint32"))
    soa_expire: int = field(default=86400, metadata=_go("SOAExpire", "uint32"))
    soa_minttl: int = field(default=60, metadata=_go("SOAMinttl", "uint32"))
    soa_mname: str = field(default="ns1.mesos.", metadata=_go("SOAMname", "str"))
    soa_rname: str = field(default="root.ns1.mesos.", metadata=_go("SOARname", "str"))
    masters: tuple[str, ...] = field(default=(), metadata=_go("Masters", "strs"))
    zone_resolvers: Mapping[str, tuple[str, ...]] = field(
        default_factory=dict, metadata=_go("ZoneResolvers", "zones")
    )
    resolvers: tuple[str, ...] = field(default=("8.8.8.8",), metadata=_go("Resolvers", "strs"))
    ip_sources: tuple[str, ...] = field(
        default=("host", "netinfo"), metadata=_go("IPSources", "strs")
    )
    zk: str = field(default="", metadata=_go("Zk", "str"))
    domain: str = field(default="mesos", metadata=_go("Domain", "str"))
    listener: str = field(default="0.0.0.0", metadata=_go("Listener", "str"))
    http_listener: str = field(default="0.0.0.0", metadata=_go("HTTPListener", "str"))
    recurse_on: bool = field(default=True, metadata=_go("RecurseOn", "bool"))
    dns_on: bool = field(default=True, metadata=_go("DnsOn", "bool"))
    http_on: bool = field(default=True, metadata=_go("HttpOn", "bool"))
    external_on: bool = field(default=True, metadata=_go("ExternalOn", "bool"))
    enforce_rfc952: bool = field(default=False, metadata=_go("EnforceRFC952", "bool"))
    set_truncate_bit: bool = field(default=True, metadata=_go("SetTruncateBit", "bool"))
    enumeration_on: bool = field(default=True, metadata=_go("EnumerationOn", "bool"))
    mesos_https_on: bool = field(default=False, metadata=_go("MesosHTTPSOn", "bool"))
    ca_cert_file: str = field(default="", metadata=_go("CACertFile", "str"))
    cert_file: str = field(default="", metadata=_go("CertFile", "str"))
    key_file: str = field(default="", metadata=_go("KeyFile", "str"))
    mesos_credentials: MesosCredentials = field(
        default_factory=MesosCredentials, metadata=_go("MesosCredentials", "credentials")
    )
    iam_config_file: str = field(default="", metadata=_go("IAMConfigFile", "str"))
    mesos_authentication: str = field(default="", metadata=_go("MesosAuthentication", "str"))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MesosDnsConfig:
        """The config of a parsed config.json; a ValueError names every key that is wrong."""
        if not isinstance(data, Mapping):
            raise ValueError(f"config: expected a JSON object, got {_kind(data)}")
        by_key = {f.metadata["go"].lower(): f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        written: dict[str, str] = {}  # attribute -> the key as the file spells it
        problems: list[str] = []
        for key, value in data.items():
            f = by_key.get(key.lower())
            if f is None:
                if key.lower() not in IGNORED_KEYS:
                    problems.append(f"{key}: not a Mesos-DNS setting")
                continue
            if value is None:  # Go: a null leaves a scalar as it was and empties a list
                kind = f.metadata["kind"]
                if kind in ("strs", "zones"):
                    values[f.name], written[f.name] = ({} if kind == "zones" else ()), key
                continue
            parsed, problem = _parse(key, value, f.metadata["kind"])
            if problem:
                problems.append(problem)
            else:
                values[f.name], written[f.name] = parsed, key
        if problems:
            raise ValueError("; ".join(problems))
        values = _normalized(values)
        config = cls(**values)
        keys = {f.name: f.metadata["go"] for f in dataclasses.fields(cls)} | written
        problems = config.problems(keys)
        if problems:
            raise ValueError("; ".join(problems))
        return config

    def problems(self, keys: Mapping[str, str]) -> list[str]:
        """What Mesos-DNS refuses at start-up, each under the key `keys` gives the field."""
        out: list[str] = []
        if not self.dns_on and not self.http_on:
            out.append(f"{keys['dns_on']}/{keys['http_on']}: DNS or HTTP must be on")
        if not self.masters and not self.zk:
            out.append(f"{keys['masters']}/{keys['zk']}: give the Mesos masters or ZooKeeper")
        out += _unique(keys["masters"], self.masters, _master)
        if self.external_on:
            out += _unique(keys["resolvers"], self.resolvers, _resolver)
            out += _zone_problems(keys["zone_resolvers"], self.zone_resolvers, self.domain)
        if not self.ip_sources:
            out.append(f"{keys['ip_sources']}: no IP source")
        elif len(set(self.ip_sources)) != len(self.ip_sources):
            out.append(f"{keys['ip_sources']}: an IP source is listed twice")
        for source in self.ip_sources:
            if source not in IP_SOURCES:
                out.append(f"{keys['ip_sources']}: unknown IP source {source!r}")
        if self.state_timeout_seconds <= 0:
            out.append(f"{keys['state_timeout_seconds']}: must be positive")
        if not _DOMAIN.match(self.domain):
            out.append(f"{keys['domain']}: {self.domain!r} is not a valid domain name")
        if bool(self.cert_file) != bool(self.key_file):
            out.append(f"{keys['cert_file']}/{keys['key_file']}: give both or neither")
        if self.mesos_authentication not in AUTHENTICATIONS:
            out.append(f"{keys['mesos_authentication']}: one of '', 'basic', 'iam'")
        return out

    def go_fields(self, *, soa_serial: int = 0, file: str = "") -> dict[str, Any]:
        """The config as `GET /v1/config` shows it: Go's field names, in the struct's order,
        with the serial and file Mesos-DNS fills in itself (the secret is not shown)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "soa_refresh":
                out["SOASerial"] = soa_serial
            if f.name == "listener":
                out["File"] = file
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, MesosCredentials):
                value = {"Principal": value.principal, "Secret": "******" if value.secret else ""}
            elif f.metadata["kind"] == "zones":
                value = {zone: list(ips) for zone, ips in value.items()}
            out[f.metadata["go"]] = value
        return out


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    return "a list" if isinstance(value, list) else "an object"


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _parse(key: str, value: Any, kind: str) -> tuple[Any, str | None]:
    """The Python value of one setting, or a message saying what Go's decoder would refuse."""
    if kind in _BOUNDS:
        low, high = _BOUNDS[kind]
        if isinstance(value, bool) or not isinstance(value, int):
            return None, f"{key}: expected an integer, got {_kind(value)}"
        if not low <= value <= high:
            return None, f"{key}: {value} is out of range ({low}..{high})"
        return value, None
    if kind == "bool":
        ok = isinstance(value, bool)
        return value, None if ok else f"{key}: expected true or false, got {_kind(value)}"
    if kind == "str":
        ok = isinstance(value, str)
        return value, None if ok else f"{key}: expected a string, got {_kind(value)}"
    if kind == "strs":
        if not _strings(value):
            return None, f"{key}: expected a list of strings, got {_kind(value)}"
        return tuple(value), None
    if kind == "zones":
        if not isinstance(value, dict) or not all(_strings(v) for v in value.values()):
            return None, f"{key}: expected an object of lists of strings, got {_kind(value)}"
        return {zone: tuple(ips) for zone, ips in value.items()}, None
    # MesosCredentials: {principal, secret}, keys ignoring case too.
    if not isinstance(value, dict):
        return None, f"{key}: expected an object, got {_kind(value)}"
    creds: dict[str, str] = {}
    for name, item in value.items():
        if name.lower() not in ("principal", "secret"):
            return None, f"{key}.{name}: not a credentials field (principal, secret)"
        if not isinstance(item, str):
            return None, f"{key}.{name}: expected a string, got {_kind(item)}"
        creds[name.lower()] = item
    return MesosCredentials(**creds), None


def _normalized(values: dict[str, Any]) -> dict[str, Any]:
    """As Mesos-DNS keeps them: the domain lowercased, the SOA names fully qualified (an `@` in
    the responsible mailbox becomes a dot)."""
    if "domain" in values:
        values["domain"] = values["domain"].lower()
    if "soa_mname" in values:
        values["soa_mname"] = values["soa_mname"].rstrip(".") + "."
    if "soa_rname" in values:
        values["soa_rname"] = values["soa_rname"].replace("@", ".").rstrip(".") + "."
    return values


def _port_ok(port: str) -> bool:
    return port.isdigit() and 0 < int(port) <= 65535


def _split_host_port(text: str) -> tuple[str, str] | None:
    """Go's net.SplitHostPort: `host:port` or `[v6]:port`."""
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
        return (host, port) if sep and "]" not in host else None
    host, sep, port = text.rpartition(":")
    return (host, port) if sep and ":" not in host else None


def _canonical_ip(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def _master(text: str) -> str:
    """A master as `host:port` (the host may be a name), normalized; ValueError if not one."""
    split = _split_host_port(text)
    if split is None or not _port_ok(split[1]):
        raise ValueError(f"{text!r} is not host:port")
    host = _canonical_ip(split[0]) or split[0]
    return f"[{host}]:{split[1]}" if ":" in host else f"{host}:{split[1]}"


def _resolver(text: str) -> str:
    """A resolver as `ip:port` (53 when none is given); ValueError if not an IP."""
    host, port = _split_host_port(text) or (text, "53")
    ip = _canonical_ip(host)
    if ip is None:
        raise ValueError(f"{host!r} is not an IP address")
    if not _port_ok(port):
        raise ValueError(f"{text!r} has no valid port")
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _unique(key: str, items: tuple[str, ...], normalize: Any) -> list[str]:
    seen: set[str] = set()
    for item in items:
        try:
            normal = normalize(item)
        except ValueError as err:
            return [f"{key}: {err}"]
        if normal in seen:
            return [f"{key}: {item!r} is listed twice"]
        seen.add(normal)
    return []


def _zone_problems(key: str, zones: Mapping[str, tuple[str, ...]], domain: str) -> list[str]:
    """Each zone valid, with resolvers, not the Mesos domain, and none masking another."""
    for zone, resolvers in zones.items():
        if not resolvers:
            return [f"{key}.{zone}: no resolvers"]
        if not _DOMAIN.match(zone):
            return [f"{key}: {zone!r} is not a valid domain name"]
        if problems := _unique(f"{key}.{zone}", resolvers, _resolver):
            return problems
        if zone == domain:
            return [f"{key}: no zone resolvers for the Mesos domain ({domain})"]
    suffixes = ["." + zone for zone in zones] + ["." + domain]
    for a in suffixes:
        for b in suffixes:
            if a != b and a.endswith(b):
                return [f"{key}: {a[1:]} is masked by {b[1:]}"]
    return []
