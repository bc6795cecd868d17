"""Minuteman's configuration (`/etc/dcos/minuteman.toml`). Pure.

The role renders it from the cluster config: `dcos_l4lb_named_ip_range` becomes
`named_ip_range`, the inventory's masters `masters` and the cluster's ZooKeeper `zk`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass


@dataclass(frozen=True)
class MinutemanConfig:
    # The pool named VIPs' addresses come from: our test range by default, DC/OS's 11.0.0.0/8
    # on a real cluster. Every node must have the same.
    named_ip_range: str = "198.19.0.0/16"
    # Route the named range `local` on lo, so that local connections to a VIP reach the output
    # hook (an IP VIP outside the range needs its own route, as in DC/OS's minuteman interface).
    route: bool = True
    # The source address of a local connection to a VIP: this node's address (the role gives the
    # node's cluster IP). Without it the kernel starts such a connection from the VIP itself
    # (a `local` route's default), and every one is masqueraded as well as DNATed.
    route_source: str = ""
    # The leading master: found in ZooKeeper (`zk://host:port,.../mesos`) when given, else the
    # `masters` in turn (a standby redirects to the leader).
    zk: str = ""
    masters: tuple[str, ...] = ("127.0.0.1",)
    master_port: int = 5050
    # The kernel is compared with what it should hold this often, and repaired.
    reconcile_interval: float = 30.0
    # The HTTP API (`/v1/vips`, `/metrics`): historical Minuteman's port.
    ip: str = "127.0.0.1"
    port: int = 61421
    threads: int = 4
    log_level: str = "info"

    def pool(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.named_ip_range)

    def validate(self) -> list[str]:
        problems: list[str] = []
        try:
            pool = ipaddress.IPv4Network(self.named_ip_range)
            if pool.num_addresses < 4:
                problems.append("named_ip_range: needs at least 4 addresses")
        except ValueError as err:
            problems.append(f"named_ip_range: {err}")
        if self.route_source:
            try:
                ipaddress.IPv4Address(self.route_source)
            except ValueError:
                problems.append(f"route_source: {self.route_source!r} is not an IPv4 address")
        for ip in self.masters:
            try:
                ipaddress.ip_address(ip)
            except ValueError:
                problems.append(f"masters: {ip!r} is not an IP address")
        if not self.masters and not self.zk:
            problems.append("masters: give the masters or zk (where to find the leader)")
        if self.zk and not self.zk.startswith("zk://"):
            problems.append("zk: expected zk://host:port[,host:port...]/path")
        if self.reconcile_interval <= 0:
            problems.append("reconcile_interval: must be positive")
        if not 0 < self.port < 65536 or not 0 < self.master_port < 65536:
            problems.append("port, master_port: must be in 1-65535")
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            problems.append(f"log_level: unknown level {self.log_level!r}")
        return problems
