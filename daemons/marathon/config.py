"""Marathon's configuration (`/etc/dcos/marathon.toml`): the framework daemon's shared fields
(daemons/frameworks/config.py) and Marathon's own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from daemons.frameworks.config import FrameworkConfig


@dataclass(frozen=True)
class MarathonConfig(FrameworkConfig):
    zk: str = "zk://127.0.0.1:2181/marathon"
    port: int = 8080
    framework_name: str = "marathon"
    threads: int = 64
    MIN_THREADS: ClassVar[int] = 4
    # Most launches from one offer (as many as fit, up to this: Marathon's default of 5 cost an
    # offer cycle per 5 instances, 25.3 s for 1,000 instead of 17.5 s), and how long a declined
    # offer stays away while nothing waits.
    max_instances_per_offer: int = 1000
    decline_offer_duration: float = 120.0
    # A launched task not RUNNING after this long is killed and relaunched.
    task_launch_timeout: float = 300.0
    # Service ports for portDefinitions with port 0.
    local_port_min: int = 10000
    local_port_max: int = 20000
    # Versions of each app kept in ZooKeeper.
    max_versions: int = 25

    def validate(self) -> list[str]:
        problems = super().validate()
        if not 0 < self.local_port_min <= self.local_port_max < 65536:
            problems.append("local_port_min/local_port_max: not a port range")
        return problems
