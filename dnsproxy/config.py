"""The DNS proxy's configuration (`/etc/dcos/dns-proxy.toml`). Pure.

The role renders it from the cluster config: `dcos_resolvers` becomes `upstream_resolvers`,
`dcos_dns_forward_zones` becomes `forward_zones`, the inventory's masters `masters`, and the
masters' ZooKeeper ensemble `zk` (as Mesos-DNS's `zk`).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from daemons.kit.dns import wire
from daemons.kit.dns.upstream import Upstream, parse_upstream


@dataclass(frozen=True)
class DnsProxyConfig:
    # DNS on UDP and TCP at each `ip:port` (dcos-net's `spartan` interface addresses).
    listen: tuple[str, ...] = ("198.51.100.1:53", "198.51.100.2:53", "198.51.100.3:53")
    # The HTTP status and records API.
    ip: str = "127.0.0.1"
    port: int = 62080
    threads: int = 4
    # The masters' IPs: `zk-1.zk`…, `master.dcos.thisdcos.directory`, and where the three
    # below are asked.
    masters: tuple[str, ...] = ("127.0.0.1",)
    # The tasks' names follow the leading master (its `/master/state`, then its operator
    # events): found in ZooKeeper (`zk://host:2181,.../mesos`) when `zk` is given, else the
    # `masters` on `master_port` in turn (a standby redirects to the leader). The state is read
    # again every `state_refresh_interval` seconds as a safety net; the names are rebuilt at
    # most once per `coalesce_seconds` (a burst of events makes one rebuild).
    zk: str = ""
    master_port: int = 5050
    state_refresh_interval: float = 30.0
    coalesce_seconds: float = 0.2
    zk_session_timeout: float = 10.0
    # Mesos-DNS on each master: `.mesos` queries (DNS) and the copy of its records (`/v1/axfr`
    # every `axfr_interval` seconds) served as `mesos.thisdcos.directory`.
    mesos_dns_port: int = 61053
    mesos_dns_http_port: int = 8123
    axfr_interval: float = 30.0
    # Named VIPs' addresses (`l4lb.thisdcos.directory`) come from this pool: Minuteman's
    # `named_ip_range` (the cluster's `dcos_l4lb_named_ip_range`), the same on every node.
    l4lb_named_ip_range: str = "198.19.0.0/16"
    # Every other name ("ip" or "ip:port"); none: REFUSED. Zones with resolvers of their own.
    upstream_resolvers: tuple[str, ...] = ()
    forward_zones: dict[str, list[str]] = field(default_factory=dict)
    # dcos-net's: each upstream's time to answer, and the client's whole wait.
    upstream_timeout: float = 5.0
    timeout: float = 10.0
    log_level: str = "info"

    def listen_addresses(self) -> list[tuple[str, int]]:
        return [(u.ip, u.port) for u in map(parse_upstream, self.listen)]

    def mesos_dns(self) -> tuple[Upstream, ...]:
        return tuple(Upstream(ip, self.mesos_dns_port) for ip in self.masters)

    def upstreams(self) -> tuple[Upstream, ...]:
        return tuple(map(parse_upstream, self.upstream_resolvers))

    def forward_upstreams(self) -> dict[str, tuple[Upstream, ...]]:
        return {
            zone: tuple(map(parse_upstream, resolvers))
            for zone, resolvers in self.forward_zones.items()
        }

    def vip_pool(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.l4lb_named_ip_range)

    def validate(self) -> list[str]:
        problems: list[str] = []
        try:
            self.vip_pool()
        except ValueError as err:
            problems.append(f"l4lb_named_ip_range: {err}")
        for ip in self.masters:
            try:
                ipaddress.ip_address(ip)
            except ValueError:
                problems.append(f"masters: {ip!r} is not an IP address")
        for key, values in (
            ("listen", self.listen),
            ("upstream_resolvers", self.upstream_resolvers),
        ):
            for value in values:
                try:
                    parse_upstream(value)
                except ValueError as err:
                    problems.append(f"{key}: {err}")
        if not self.listen:
            problems.append("listen: at least one address")
        for zone, resolvers in self.forward_zones.items():
            try:
                wire.name_to_wire(zone)
            except ValueError as err:
                problems.append(f"forward_zones: {err}")
            if not isinstance(resolvers, list) or not resolvers:
                problems.append(f"forward_zones: {zone!r} needs a list of resolvers")
                continue
            for value in resolvers:
                try:
                    parse_upstream(str(value))
                except ValueError as err:
                    problems.append(f"forward_zones: {zone!r}: {err}")
        if not self.masters and not self.zk:
            problems.append("masters: at least one master, or zk to find them")
        if self.zk and not _is_zk_url(self.zk):
            problems.append(f"zk: {self.zk!r} is not zk://host:port[,host:port...]/path")
        if not 0 <= self.coalesce_seconds <= 1:
            problems.append("coalesce_seconds: between 0 and 1")
        for key in (
            "state_refresh_interval",
            "zk_session_timeout",
            "axfr_interval",
            "upstream_timeout",
            "timeout",
        ):
            if getattr(self, key) <= 0:
                problems.append(f"{key}: must be positive")
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            problems.append(f"log_level: unknown level {self.log_level!r}")
        return problems


def _is_zk_url(url: str) -> bool:
    """`zk://host:port[,host:port...]/path`, as Mesos and Mesos-DNS take it (the ZooKeeper
    adapter itself is not imported here: config is pure)."""
    if not url.startswith("zk://"):
        return False
    hosts, slash, path = url[len("zk://") :].partition("/")
    return bool(slash and path.strip("/")) and all(h.strip() for h in hosts.split(","))
