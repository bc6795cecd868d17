"""The master's configuration (`/etc/dcos/mesos-master.toml`), as a frozen dataclass."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from daemons.kit.zk import parse_zk_url
from daemons.protocols import resources

_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "ms": 1e-3,
    "secs": 1.0,
    "sec": 1.0,
    "s": 1.0,
    "mins": 60.0,
    "min": 60.0,
    "hrs": 3600.0,
    "hr": 3600.0,
    "days": 86400.0,
}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")


def parse_rate(text: str) -> tuple[int, float] | None:
    """Mesos' `agent_removal_rate_limit`, e.g. `1/20mins`: (removals, per seconds); "" = none."""
    if not text.strip():
        return None
    match = _RATE.match(text)
    if match is None or match.group(3) not in _UNITS or match.group(3) == "":
        raise ValueError(f"expected <count>/<duration> such as 1/20mins, got {text!r}")
    count, seconds = int(match.group(1)), float(match.group(2)) * _UNITS[match.group(3)]
    if count <= 0 or seconds <= 0:
        raise ValueError(f"a rate needs a positive count and duration, got {text!r}")
    return count, seconds


def parse_fraction(text: str) -> float:
    """`recovery_agent_removal_limit`: "100%" or "0.5" -> a fraction in [0, 1]."""
    value = text.strip()
    number = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"must be between 0% and 100%, got {text!r}")
    return number


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
    # After a failover, how long agents known to the registry have to re-register before they
    # are marked unreachable (Mesos: default and minimum 10 min).
    agent_reregister_timeout: float = 600.0
    # Health checks: a PING every `agent_ping_timeout`; an agent not heard of for
    # `agent_ping_timeout x max_agent_ping_timeouts` is marked unreachable (Mesos 15 s x 5;
    # DC/OS raises the count to 20). The budget must exceed the ZooKeeper session timeout.
    agent_ping_timeout: float = 15.0
    max_agent_ping_timeouts: int = 5
    # More agents than this missing when the re-register window ends: fail over instead.
    recovery_agent_removal_limit: str = "100%"
    # At most this many agents marked unreachable per duration, e.g. "1/20mins"; "" = no limit.
    agent_removal_rate_limit: str = ""
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
        if self.zk_session_timeout <= 0:
            problems.append("zk_session_timeout: must be positive")
        if self.agent_ping_timeout <= 0 or self.max_agent_ping_timeouts < 1:
            problems.append(
                "agent_ping_timeout: must be positive, max_agent_ping_timeouts at least 1"
            )
        elif self.agent_ping_timeout * self.max_agent_ping_timeouts <= self.zk_session_timeout:
            problems.append(
                "agent_ping_timeout x max_agent_ping_timeouts must be longer than "
                "zk_session_timeout (agents would be marked unreachable during a failover)"
            )
        if self.agent_reregister_timeout <= 0:
            problems.append("agent_reregister_timeout: must be positive")
        try:
            self.recovery_removal_fraction()
        except ValueError as err:
            problems.append(f"recovery_agent_removal_limit: {err}")
        try:
            self.removal_rate()
        except ValueError as err:
            problems.append(f"agent_removal_rate_limit: {err}")
        return problems

    def recovery_removal_fraction(self) -> float:
        return parse_fraction(self.recovery_agent_removal_limit)

    def removal_rate(self) -> tuple[int, float] | None:
        return parse_rate(self.agent_removal_rate_limit)

    def min_allocatable(self) -> list[resources.Resources]:
        out = []
        for part in filter(None, (p.strip() for p in self.min_allocatable_resources.split("|"))):
            out.append(resources.flatten(resources.parse_text(part)))
        return out

    @property
    def advertised_hostname(self) -> str:
        return self.hostname or self.ip
