"""Minuteman's Prometheus metrics (`GET /metrics`): the VIPs and backends programmed, how long
programming takes, and what went wrong (refused changes, drift repaired, malformed labels).
One registry per daemon instance."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from daemons.kit.l4lb.table import VipTable


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.vips = Gauge("minuteman_vips", "VIPs (address, protocol, port) programmed", registry=r)
        self.backends = Gauge("minuteman_backends", "Backends of all VIPs", registry=r)
        self.label_problems = Gauge(
            "minuteman_vip_label_problems",
            "VIP labels of running tasks that declare nothing",
            registry=r,
        )
        self.program_seconds = Histogram(
            "minuteman_rule_programming_seconds",
            "From a new VIP table to the kernel holding it (one transaction, or a full load)",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=r,
        )
        self.changes = Counter("minuteman_changes", "Incremental transactions applied", registry=r)
        self.full_loads = Counter("minuteman_full_loads", "Whole-table loads", registry=r)
        self.repairs = Counter("minuteman_drift_repairs", "Drift found and repaired", registry=r)
        self.failures = Counter(
            "minuteman_change_failures", "Transactions the kernel refused", registry=r
        )

    def show(self, table: VipTable) -> None:
        self.vips.set(len(table.vips))
        self.backends.set(sum(len(vip.backends) for vip in table.vips.values()))
        self.label_problems.set(len(table.problems))
