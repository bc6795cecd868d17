"""The master's configuration (`/etc/dcos/mesos-master.toml`), as a frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass, field

from daemons.common import resources
from daemons.common.zk import parse_zk_url


@dataclass(frozen=True)
class MasterConfig:
    zk: str  # zk://host:port[,host:port]/mesos
    ip: str = "127.0.0.1"
    port: int = 5050
    hostname: str = ""
    work_dir: str = "/var/lib/dcos/master"
    cluster: str = "pydcos"
    zk_session_timeout: float = 10.0
    allocation_interval: float = 1.0
    # Seconds an outstanding offer lives before it is rescinded; 0 = forever (Mesos default).
    offer_timeout: float = 0.0
    heartbeat_interval: float = 15.0
    # A disconnected agent that has not re-subscribed after this long is marked unreachable.
    agent_reregister_timeout: float = 600.0
    # "cpus:0.01|mem:32": an offer must contain at least one of these (Mesos default).
    min_allocatable_resources: str = "cpus:0.01|mem:32"
    weights: dict[str, float] = field(default_factory=dict)
    max_completed_frameworks: int = 50
    max_completed_tasks_per_framework: int = 1000
    max_body_bytes: int = 4 * 1024 * 1024
    threads: int = 512

    def validate(self) -> list[str]:
        problems: list[str] = []
        try:
            parse_zk_url(self.zk)
        except ValueError as err:
            problems.append(f"zk: {err}")
        if not 0 < self.port < 65536:
            problems.append("port: must be between 1 and 65535")
        if self.allocation_interval <= 0:
            problems.append("allocation_interval: must be positive")
        if self.heartbeat_interval <= 0:
            problems.append("heartbeat_interval: must be positive")
        if self.offer_timeout < 0:
            problems.append("offer_timeout: must not be negative")
        for role, weight in self.weights.items():
            if not isinstance(weight, (int, float)) or weight <= 0:
                problems.append(f"weights.{role}: must be a positive number")
        try:
            self.min_allocatable()
        except ValueError as err:
            problems.append(f"min_allocatable_resources: {err}")
        return problems

    def min_allocatable(self) -> list[resources.Resources]:
        out = []
        for part in filter(None, (p.strip() for p in self.min_allocatable_resources.split("|"))):
            out.append(resources.flatten(resources.parse_text(part)))
        return out

    @property
    def advertised_hostname(self) -> str:
        return self.hostname or self.ip
