"""dcos-diagnostics' configuration (`/etc/dcos/diagnostics.toml`). Pure.

The role renders it per node: `role` from the node's group, `node_ip` its address, and on the
masters `aggregate = true` with the masters' addresses (the agents are found in the leading
master's `/master/slaves`).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

ROLES = ("master", "agent", "agent_public")


@dataclass(frozen=True)
class DiagnosticsConfig:
    # This node, as the health API names it: `master`, `agent` or `agent_public`, and its
    # address (the `ip` / `host_ip` of its reports).
    role: str = "master"
    node_ip: str = "127.0.0.1"
    # Which systemd units are this node's components: every unit whose name starts so.
    unit_prefix: str = "dcos-"
    # Without systemd units (make local): unit name -> pid file; a unit is healthy while the
    # pid file names a live process. Empty: the units come from systemd.
    pid_files: dict[str, str] = field(default_factory=dict)
    # The units are read again at most this often (seconds); a request in between gets the
    # last reading.
    check_interval: float = 5.0
    # Lines of a unit's journal shown as `output` of an unhealthy unit.
    journal_lines: int = 10
    # Masters: poll every node's diagnostics and serve the cluster's views.
    aggregate: bool = False
    masters: tuple[str, ...] = ()
    master_port: int = 5050
    # Where every node's diagnostics answers (the same port on every node).
    node_port: int = 1050
    # DC/OS polls every 60 s with a 3 s timeout per request.
    poll_interval: float = 60.0
    poll_timeout: float = 3.0
    dcos_version: str = ""
    ip: str = "127.0.0.1"
    port: int = 1050
    threads: int = 4
    log_level: str = "info"

    def validate(self) -> list[str]:
        problems: list[str] = []
        if self.role not in ROLES:
            problems.append(f"role: one of {', '.join(ROLES)}, not {self.role!r}")
        for name, value in (("node_ip", self.node_ip), *(("masters", m) for m in self.masters)):
            try:
                ipaddress.ip_address(value)
            except ValueError:
                problems.append(f"{name}: {value!r} is not an IP address")
        if not self.unit_prefix:
            problems.append("unit_prefix: must not be empty")
        if any(not isinstance(v, str) or not v for v in self.pid_files.values()):
            problems.append("pid_files: every value must be a pid file's path")
        if self.aggregate and not self.masters:
            problems.append("masters: an aggregating node needs the masters' addresses")
        if self.check_interval < 0:
            problems.append("check_interval: must not be negative")
        if not 0 <= self.journal_lines <= 1000:
            problems.append("journal_lines: must be between 0 and 1000")
        if self.poll_interval <= 0 or not 0 < self.poll_timeout <= self.poll_interval:
            problems.append("poll_interval, poll_timeout: 0 < poll_timeout <= poll_interval")
        for name, port in (
            ("port", self.port),
            ("node_port", self.node_port),
            ("master_port", self.master_port),
        ):
            if not 0 < port < 65536:
                problems.append(f"{name}: must be in 1-65535")
        if self.threads < 1:
            problems.append("threads: must be at least 1")
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            problems.append(f"log_level: unknown level {self.log_level!r}")
        return problems
