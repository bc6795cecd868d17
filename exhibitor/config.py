"""dcos-exhibitor's configuration (`/etc/dcos/exhibitor.toml`), as a frozen dataclass.

`config_type` picks where the ensemble's shared properties live, as Exhibitor's `--configtype`:
`static` (this file; membership cannot change), `file` (`fs_config_dir`/`fs_config_name` on a
shared filesystem, Exhibitor's `--fsconfigdir`) or `zookeeper` (`zk_config_connect` +
`zk_config_zpath`, another ZooKeeper, Exhibitor's `--zkconfigconnect/--zkconfigzpath`). With a
shared store, `servers_spec`, `zoo_cfg_extra`, the ports and `check_ms` only seed an empty store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from exhibitor.ensemble import Server, SpecError, check_extra, parse_servers_spec
from exhibitor.properties import Properties, make

CONFIG_TYPES = ("static", "file", "zookeeper")
_HEAP = re.compile(r"^[1-9][0-9]{0,5}[mMgG]$")

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
    config_type: str = "static"
    fs_config_dir: str = ""
    fs_config_name: str = "exhibitor.json"
    zk_config_connect: str = ""
    zk_config_zpath: str = "/exhibitor/config"
    # How often this Exhibitor reads the shared config and moves a rolling change on.
    config_check_ms: int = 2000
    # How long a rolling change waits for one server to serve again (or for a quorum to restart
    # the next one) before it rolls back.
    roll_timeout_ms: int = 120000
    # Bind ZooKeeper's client port to this address only (zoo.cfg clientPortAddress); "" = all.
    client_port_address: str = ""
    zookeeper_heap: str = "256m"

    def validate(self) -> list[str]:
        problems: list[str] = []
        try:
            servers = parse_servers_spec(self.servers_spec)
        except SpecError as err:
            problems += [f"servers_spec: {p}" for p in err.problems]
        else:
            # With a shared store a new master may start before the ensemble includes it.
            if self.config_type == "static" and self.hostname not in {s.hostname for s in servers}:
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
        problems += self._validate_store()
        if self.config_check_ms < 50:
            problems.append("config_check_ms: must be at least 50")
        if self.roll_timeout_ms < 1000:
            problems.append("roll_timeout_ms: must be at least 1000")
        if not _HEAP.match(self.zookeeper_heap):
            problems.append("zookeeper_heap: a JVM size such as 256m or 1g")
        return problems

    def _validate_store(self) -> list[str]:
        if self.config_type not in CONFIG_TYPES:
            return [f"config_type: one of {', '.join(CONFIG_TYPES)}"]
        problems = []
        if self.config_type == "file":
            if not self.fs_config_dir.startswith("/"):
                problems.append("fs_config_dir: an absolute directory (on a shared filesystem)")
            if not re.match(r"^[A-Za-z0-9._-]{1,100}$", self.fs_config_name):
                problems.append("fs_config_name: a plain file name")
        if self.config_type == "zookeeper":
            if not re.match(
                r"^[A-Za-z0-9.\-]+:[0-9]+(,[A-Za-z0-9.\-]+:[0-9]+)*$", self.zk_config_connect
            ):
                problems.append("zk_config_connect: host:port[,host:port…] of another ZooKeeper")
            if not re.match(r"^(/[A-Za-z0-9._-]+)+$", self.zk_config_zpath):
                problems.append("zk_config_zpath: an absolute znode path such as /exhibitor/config")
        return problems

    @property
    def properties(self) -> Properties:
        """The shared properties this file holds (or seeds a shared store with)."""
        return make(
            self.servers_spec,
            {str(k): str(v) for k, v in self.zoo_cfg_extra.items()},
            self.client_port,
            self.connect_port,
            self.election_port,
            self.check_ms,
        )

    @property
    def servers(self) -> tuple[Server, ...]:
        return parse_servers_spec(self.servers_spec)
