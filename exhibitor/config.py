"""dcos-exhibitor's configuration (`/etc/dcos/exhibitor.toml`), as a frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass, field

from exhibitor.ensemble import Server, SpecError, check_extra, parse_servers_spec

# Exhibitor's zoo-cfg-extra in DC/OS (start_exhibitor.py).
DEFAULT_EXTRA = {
    "tickTime": "2000",
    "initLimit": "10",
    "syncLimit": "5",
    "quorumListenOnAllIPs": "true",
    "maxClientCnxns": "0",
    "autopurge.purgeInterval": "1",
    "admin.enableServer": "false",
    "4lw.commands.whitelist": "*",
}


@dataclass(frozen=True)
class ExhibitorConfig:
    hostname: str  # this master's address, as it appears in servers_spec
    servers_spec: str  # "S:1:10.0.0.1,S:2:10.0.0.2,S:3:10.0.0.3" or "1:10.0.0.1,…"
    ip: str = "0.0.0.0"
    port: int = 8181
    client_port: int = 2181
    connect_port: int = 2888
    election_port: int = 3888
    data_dir: str = "/var/lib/dcos/exhibitor/zookeeper"
    conf_dir: str = "/var/lib/dcos/exhibitor/conf"
    check_ms: int = 30000
    zoo_cfg_extra: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_EXTRA))
    threads: int = 16

    def validate(self) -> list[str]:
        problems: list[str] = []
        try:
            servers = parse_servers_spec(self.servers_spec)
        except SpecError as err:
            problems += [f"servers_spec: {p}" for p in err.problems]
        else:
            if self.hostname not in {s.hostname for s in servers}:
                problems.append(f"hostname: {self.hostname} is not in servers_spec")
        try:
            check_extra({str(k): str(v) for k, v in self.zoo_cfg_extra.items()})
        except SpecError as err:
            problems += [f"zoo_cfg_extra: {p}" for p in err.problems]
        for name in ("port", "client_port", "connect_port", "election_port"):
            if not 1 <= getattr(self, name) <= 65535:
                problems.append(f"{name}: must be a port number")
        if self.check_ms < 100:
            problems.append("check_ms: must be at least 100")
        return problems

    @property
    def servers(self) -> tuple[Server, ...]:
        return parse_servers_spec(self.servers_spec)
