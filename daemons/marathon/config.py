"""Marathon's configuration (`/etc/dcos/marathon.toml`), as a frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass

from daemons.kit.zk import parse_zk_url


@dataclass(frozen=True)
class MarathonConfig:
    # Marathon's own state and leader election (`--zk`), and the Mesos master (`--master`:
    # zk://…/mesos or host:port).
    zk: str = "zk://127.0.0.1:2181/marathon"
    master: str = "zk://127.0.0.1:2181/mesos"
    ip: str = "127.0.0.1"
    port: int = 8080
    # The host:port other instances proxy to and /v2/leader names; "" = ip:port.
    hostname: str = ""
    framework_name: str = "marathon"
    mesos_role: str = "*"
    mesos_user: str = "root"
    # Seconds the master keeps our tasks while no Marathon is subscribed (a week, as DC/OS).
    failover_timeout: float = 604800.0
    zk_session_timeout: float = 10.0
    # Reconciliation: all tasks after every (re)subscription, then every this many seconds.
    reconciliation_interval: float = 600.0
    # Launches per offer, and how long a declined offer stays away while nothing waits.
    max_instances_per_offer: int = 5
    decline_offer_duration: float = 120.0
    # A launched task not RUNNING after this long is killed and relaunched.
    task_launch_timeout: float = 300.0
    # Service ports for portDefinitions with port 0.
    local_port_min: int = 10000
    local_port_max: int = 20000
    # ZooKeeper's jute.maxbuffer: an app whose stored state would not fit is refused (422).
    zk_max_node_size: int = 1024 * 1024
    max_versions: int = 25
    max_body_bytes: int = 4 * 1024 * 1024
    threads: int = 64

    @property
    def advertised(self) -> str:
        return self.hostname or f"{self.ip}:{self.port}"

    def validate(self) -> list[str]:
        problems: list[str] = []
        for name in ("zk", "master"):
            value = getattr(self, name)
            if name == "master" and not value.startswith("zk://"):
                if ":" not in value:
                    problems.append(f"master: expected zk://… or host:port, got {value!r}")
                continue
            try:
                parse_zk_url(value)
            except ValueError as err:
                problems.append(f"{name}: {err}")
        if not 0 < self.port < 65536:
            problems.append(f"port: {self.port} is not a TCP port")
        if not 0 < self.local_port_min <= self.local_port_max < 65536:
            problems.append("local_port_min/local_port_max: not a port range")
        if self.zk_session_timeout <= 0:
            problems.append("zk_session_timeout: must be positive")
        if self.threads < 4:
            problems.append("threads: at least 4 (event streams hold one each)")
        return problems
