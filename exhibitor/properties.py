"""The ensemble's shared properties and Exhibitor's JSON config object (camelCase), as pure data.

`Properties` is what every Exhibitor of an ensemble shares (servers spec, zoo.cfg extras, ports,
check interval); per-host settings (data dir, client address) stay in each host's TOML.
`from_config_object` reads the object `config/set` and `config/set-rolling` receive: keys of
Exhibitor's config object that dcos-exhibitor does not manage are accepted and ignored (Exhibitor's
UI posts the whole object back), keys that are not Exhibitor's are refused, and so are
`javaEnvironment` / `log4jProperties` with content: we never run a `java.env` (CVE-2019-5029 was
exactly that file reaching a shell). Every value is data; nothing here or later hands it to a shell.

No I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from exhibitor.ensemble import Server, SpecError, check_extra, parse_servers_spec, zoo_cfg

# The keys of Exhibitor's config object (`config/get-state`, `config/set`); `version` comes
# along from get-state.
EXHIBITOR_KEYS = frozenset(
    {
        "hostname",
        "serverId",
        "rollInProgress",
        "rollStatus",
        "rollPercentDone",
        "logIndexDirectory",
        "zookeeperInstallDirectory",
        "zookeeperDataDirectory",
        "zookeeperLogDirectory",
        "serversSpec",
        "backupExtra",
        "zooCfgExtra",
        "javaEnvironment",
        "log4jProperties",
        "clientPort",
        "connectPort",
        "electionPort",
        "checkMs",
        "cleanupPeriodMs",
        "cleanupMaxFiles",
        "backupMaxStoreMs",
        "backupPeriodMs",
        "autoManageInstances",
        "autoManageInstancesSettlingPeriodMs",
        "observerThreshold",
        "autoManageInstancesFixedEnsembleSize",
        "autoManageInstancesApplyAllAtOnce",
        "controlPanel",
        "version",
    }
)
_PORTS = ("clientPort", "connectPort", "electionPort")
_REFUSED_TEXT = ("javaEnvironment", "log4jProperties")


@dataclass(frozen=True)
class Properties:
    """The shared part of the config; `extra` is zoo.cfg's extra settings as sorted pairs."""

    servers_spec: str
    extra: tuple[tuple[str, str], ...]
    client_port: int = 2181
    connect_port: int = 2888
    election_port: int = 3888
    check_ms: int = 30000

    @property
    def servers(self) -> tuple[Server, ...]:
        return parse_servers_spec(self.servers_spec)

    @property
    def hosts(self) -> tuple[str, ...]:
        return tuple(s.hostname for s in self.servers)

    @property
    def voters(self) -> frozenset[str]:
        """Hosts that vote (not observers): a quorum is a majority of these."""
        return frozenset(s.hostname for s in self.servers if not s.observer)

    @property
    def zoo_cfg_extra(self) -> dict[str, str]:
        return dict(self.extra)

    def server(self, host: str) -> Server | None:
        return next((s for s in self.servers if s.hostname == host), None)


def make(
    servers_spec: str,
    extra: Mapping[str, str],
    client_port: int = 2181,
    connect_port: int = 2888,
    election_port: int = 3888,
    check_ms: int = 30000,
) -> Properties:
    """Checked Properties in canonical form (spec re-rendered, extras sorted); SpecError."""
    servers = parse_servers_spec(servers_spec)
    pairs = {str(k): str(v) for k, v in extra.items()}
    check_extra(pairs)
    spec = ",".join(s.spec for s in servers)
    problems = [
        f"{name} must be a port number"
        for name, port in (
            ("clientPort", client_port),
            ("connectPort", connect_port),
            ("electionPort", election_port),
        )
        if not 1 <= port <= 65535
    ]
    if check_ms < 100:
        problems.append("checkMs must be at least 100")
    if problems:
        raise SpecError(problems)
    return Properties(
        spec, tuple(sorted(pairs.items())), client_port, connect_port, election_port, check_ms
    )


def render(
    props: Properties, host: str, data_dir: str = "", client_address: str = ""
) -> str | None:
    """This host's zoo.cfg under `props`, or None when the host is not one of its servers."""
    if props.server(host) is None:
        return None
    return zoo_cfg(
        props.servers,
        host,
        data_dir,
        props.client_port,
        props.connect_port,
        props.election_port,
        props.zoo_cfg_extra,
        client_address,
    )


def to_config_object(props: Properties) -> dict[str, Any]:
    """The managed keys of Exhibitor's config object."""
    return {
        "serversSpec": props.servers_spec,
        "zooCfgExtra": props.zoo_cfg_extra,
        "clientPort": props.client_port,
        "connectPort": props.connect_port,
        "electionPort": props.election_port,
        "checkMs": props.check_ms,
    }


def _int(obj: Mapping[str, Any], key: str, default: int, problems: list[str]) -> int:
    value = obj.get(key, default)
    if isinstance(value, str) and value.isdigit():
        value = int(value)  # Exhibitor's UI sends numbers as strings
    if not isinstance(value, int) or isinstance(value, bool):
        problems.append(f"{key} must be a whole number")
        return default
    return value


def from_config_object(obj: Any, base: Properties) -> Properties:
    """Properties from a posted config object; absent keys keep `base`'s values. SpecError."""
    if not isinstance(obj, dict):
        raise SpecError(["the body must be Exhibitor's config object (a JSON object)"])
    problems = [
        f"{key!r} is not a key of Exhibitor's config object"
        for key in sorted(str(k) for k in obj if k not in EXHIBITOR_KEYS)
    ]
    for key in _REFUSED_TEXT:
        if obj.get(key) not in (None, ""):
            problems.append(
                f"{key} is not supported: dcos-exhibitor never runs a java.env or "
                "log4j file from the shared config"
            )
    spec = obj.get("serversSpec", base.servers_spec)
    if not isinstance(spec, str):
        problems.append("serversSpec must be a string")
        spec = base.servers_spec
    extra = obj.get("zooCfgExtra", base.zoo_cfg_extra)
    pairs: dict[str, str] = {}
    if not isinstance(extra, dict):
        problems.append("zooCfgExtra must be an object of zoo.cfg settings")
    else:
        for key, value in extra.items():
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                problems.append(f"zooCfgExtra {key!r} must be a string or a number")
            else:
                pairs[str(key)] = str(value)
    ports = [_int(obj, key, getattr(base, _snake(key)), problems) for key in _PORTS]
    check_ms = _int(obj, "checkMs", base.check_ms, problems)
    try:
        props = make(spec, pairs, ports[0], ports[1], ports[2], check_ms)
    except SpecError as err:
        problems += err.problems
    if problems:
        raise SpecError(problems)
    return props


def _snake(camel: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)


def with_check_ms(props: Properties, check_ms: int) -> Properties:
    return replace(props, check_ms=check_ms)
