"""Metronome's configuration (`/etc/dcos/metronome.toml`), as a frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass

from daemons.kit.zk import parse_zk_url


@dataclass(frozen=True)
class MetronomeConfig:
    # Metronome's own state and leader election, and the Mesos master (zk://…/mesos or
    # host:port).
    zk: str = "zk://127.0.0.1:2181/metronome"
    master: str = "zk://127.0.0.1:2181/mesos"
    ip: str = "127.0.0.1"
    port: int = 9000
    # What other instances proxy to and /leader names: "host" or "host:port"; "" = ip:port.
    hostname: str = ""
    framework_name: str = "metronome"
    mesos_role: str = "*"
    mesos_user: str = "root"
    # Seconds the master keeps our tasks while no Metronome is subscribed (a week, as DC/OS).
    failover_timeout: float = 604800.0
    zk_session_timeout: float = 10.0
    # ZooKeeper's jute.maxbuffer: a job whose stored form would not fit is refused (422).
    zk_max_node_size: int = 1024 * 1024
    # Finished runs kept per job and outcome (successfulFinishedRuns / failedFinishedRuns).
    history_limit: int = 20
    # Schedules are looked at every this many seconds; all tasks reconciled every
    # `reconciliation_interval` (and after every subscription).
    tick_interval: float = 1.0
    reconciliation_interval: float = 600.0
    max_body_bytes: int = 4 * 1024 * 1024
    threads: int = 32

    @property
    def advertised(self) -> str:
        if not self.hostname:
            return f"{self.ip}:{self.port}"
        return self.hostname if ":" in self.hostname else f"{self.hostname}:{self.port}"

    def validate(self) -> list[str]:
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
        for name in ("failover_timeout", "zk_session_timeout", "tick_interval"):
            if getattr(self, name) <= 0:
                problems.append(f"{name}: must be positive")
        if self.reconciliation_interval < 1:
            problems.append("reconciliation_interval: must be at least 1 second")
        if self.zk_max_node_size < 1024:
            problems.append("zk_max_node_size: must be at least 1024 bytes")
        if self.history_limit < 0:
            problems.append("history_limit: must not be negative")
        if self.max_body_bytes < 1024:
            problems.append("max_body_bytes: must be at least 1024 bytes")
        if self.threads < 2:
            problems.append("threads: at least 2")
        if not self.framework_name.strip():
            problems.append("framework_name: must not be empty")
        return problems
