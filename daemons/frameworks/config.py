"""What every leader-elected framework daemon's config holds (Marathon's, Metronome's): its own
ZooKeeper state, the Mesos master, where it serves and what it advertises, how it registers as
a framework. A daemon's config subclasses `FrameworkConfig`, gives the first three fields its
defaults (its ZooKeeper path, port and framework name), may give others its own, and adds its
own fields; the TOML keys are the field names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from daemons.kit.zk import parse_zk_url


@dataclass(frozen=True)
class FrameworkConfig:
    # The daemon's own state and leader election (zk://hosts/path), where it serves, and the
    # name it registers with.
    zk: str
    port: int
    framework_name: str
    # The Mesos master: zk://…/mesos or host:port.
    master: str = "zk://127.0.0.1:2181/mesos"
    ip: str = "127.0.0.1"
    # What other instances proxy to and the leader endpoint names: "host" or "host:port"; ""
    # means ip:port (`advertised`).
    hostname: str = ""
    mesos_role: str = "*"
    mesos_user: str = "root"
    # Seconds the master keeps our tasks while no instance is subscribed (a week, as DC/OS).
    failover_timeout: float = 604800.0
    zk_session_timeout: float = 10.0
    # All tasks are reconciled after every (re)subscription, then every this many seconds.
    reconciliation_interval: float = 600.0
    # ZooKeeper's jute.maxbuffer: a definition whose stored form would not fit is refused (422).
    zk_max_node_size: int = 1024 * 1024
    max_body_bytes: int = 4 * 1024 * 1024
    threads: int = 32

    # At least this many server threads (event streams each hold one).
    MIN_THREADS: ClassVar[int] = 2

    @property
    def advertised(self) -> str:
        """`host:port` of this instance for the others: the hostname (with our port when it
        names none), or ip:port."""
        if not self.hostname:
            return f"{self.ip}:{self.port}"
        return self.hostname if ":" in self.hostname else f"{self.hostname}:{self.port}"

    def validate(self) -> list[str]:
        """One message per problem of the shared fields; a daemon adds its own after these."""
        problems: list[str] = []
        try:
            parse_zk_url(self.zk)
        except ValueError as err:
            problems.append(f"zk: {err}")
        if not self.master.startswith("zk://"):
            if ":" not in self.master:
                problems.append(f"master: expected zk://… or host:port, got {self.master!r}")
        else:
            try:
                parse_zk_url(self.master)
            except ValueError as err:
                problems.append(f"master: {err}")
        if not 0 < self.port < 65536:
            problems.append(f"port: {self.port} is not a TCP port")
        for name in ("failover_timeout", "zk_session_timeout"):
            if getattr(self, name) <= 0:
                problems.append(f"{name}: must be positive")
        if self.reconciliation_interval < 1:
            problems.append("reconciliation_interval: must be at least 1 second")
        if self.zk_max_node_size < 1024:
            problems.append("zk_max_node_size: must be at least 1024 bytes")
        if self.max_body_bytes < 1024:
            problems.append("max_body_bytes: must be at least 1024 bytes")
        if self.threads < self.MIN_THREADS:
            problems.append(f"threads: at least {self.MIN_THREADS}")
        if not self.framework_name.strip():
            problems.append("framework_name: must not be empty")
        return problems
