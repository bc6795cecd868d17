"""`DnsProxy`: the routing table in force, and what rebuilds it.

The table (`dnsproxy.routing`) is an immutable value: a rebuild makes a new one off the hot path
and swaps it in with one assignment, so `resolve`, called from every serving thread, reads one
attribute and never takes a lock. A rebuild happens only when an input changed: the tasks'
and the named VIPs' records (`update_state`, from each snapshot of the master's state) or the
copy of Mesos-DNS's (`update_mesos`). Of that copy only its zone is kept, built from the body
record by record as it arrives, and a digest of the body to tell a change: a list of its
records (≈ 15 MiB at 10,000 tasks, which the zone holds already) is never made; the HTTP API
reads them back from the zone (`records`). The VIP
table is kept between snapshots (`daemons.kit.l4lb.table.TableBuilder`: only changed tasks are
read again), as Minuteman keeps its own from the same state.

`update_state(state)` is the whole seam to the master: the service calls it with each coalesced
snapshot of the state the master follower keeps up to date from the operator event stream
(`daemons.mesos_client.master_follower`).
"""

from __future__ import annotations

import ipaddress
import logging
import random
import threading
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from daemons.kit.dns import zone
from daemons.kit.dns.upstream import Forward, Upstream
from daemons.kit.dns.wire import Query
from daemons.kit.l4lb.named_ips import DEFAULT_POOL
from daemons.kit.l4lb.table import TableBuilder, agent_addresses
from dnsproxy import zones
from dnsproxy.axfr import digest, iter_mesos_records
from dnsproxy.routing import RoutingTable, build_table
from dnsproxy.tasks import task_records
from dnsproxy.vips import vip_records

log = logging.getLogger(__name__)


class DnsProxy:
    def __init__(
        self,
        masters: Sequence[str],
        mesos_dns: Sequence[Upstream],
        upstreams: Sequence[Upstream],
        forward_zones: Mapping[str, Sequence[Upstream]] | None = None,
        rng: random.Random | None = None,
        vip_pool: ipaddress.IPv4Network = DEFAULT_POOL,
    ) -> None:
        self._masters = tuple(masters)
        self._mesos_dns = tuple(mesos_dns)
        self._upstreams = tuple(upstreams)
        self._forward_zones = dict(forward_zones or {})
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        # The inputs of the table besides the config, by source, and the sources read once.
        self._inputs: dict[str, tuple[zone.Record, ...]] = {"tasks": (), "vips": ()}
        # The copy of Mesos-DNS's records: its zone, and its body's digest (None: none yet).
        self._mesos: zone.Zone | None = None
        self._mesos_digest: bytes | None = None
        self._vips = TableBuilder(vip_pool)
        self._agents: dict[str, str] = {}  # every agent seen: an unreachable one's tasks
        self.loaded: set[str] = set()
        self.rebuilds = 0
        self._records: zones.Records = zones.local_records(self._masters)
        self._zones = zones.build_zones(self._records)
        self.table: RoutingTable = self._build(self._zones)

    @property
    def records(self) -> zones.Records:
        """Every local zone's records, for the HTTP API (the Mesos-DNS copy's read back from
        its zone: a call of the API, not the hot path)."""
        mesos = self._mesos
        if mesos is None:
            return self._records
        return MappingProxyType({**self._records, zones.MESOS: tuple(zone.records_of(mesos))})

    def resolve(self, query: Query) -> bytes | Forward:
        """`DnsServer`'s `resolve`: the hot path."""
        return self.table.resolve(query, self._rng)

    def update_state(self, state: Mapping[str, Any]) -> bool:
        """The master's state was read: rebuild when the tasks' or the VIPs' names changed
        (True). ValueError for a state that is not a master's (the previous names stay)."""
        tasks = task_records(state, self._masters)
        self._agents.update(agent_addresses(state))
        table, _ = self._vips.update(state, self._agents)
        return self._update(tasks=tasks, vips=vip_records(table))

    def update_mesos(self, body: Any) -> bool:
        """Mesos-DNS's `/v1/axfr` was read: rebuild when its records changed (True). ValueError
        for a body that is not one (the previous copy stays)."""
        records = iter_mesos_records(body)  # the body checked
        found = digest(body)
        with self._lock:
            self.loaded.add("mesos")
            if found == self._mesos_digest:
                return False
            self._mesos = zones.build_zone(zones.MESOS, records)
            self._mesos_digest = found
            self._rebuild()
        log.info("dns proxy: records changed source=mesos names=%s", len(self._mesos.names))
        return True

    def _update(self, **sources: tuple[zone.Record, ...]) -> bool:
        """New records of some sources: one rebuild if any changed."""
        with self._lock:
            self.loaded.update(sources)
            changed = {s: r for s, r in sources.items() if r != self._inputs[s]}
            if not changed:
                return False
            self._inputs.update(changed)
            self._rebuild()
        for source, records in changed.items():
            log.info("dns proxy: records changed source=%s records=%s", source, len(records))
        return True

    def _rebuild(self) -> None:
        # Under the lock: two updates never interleave their swaps.
        inputs = self._inputs
        records = zones.local_records(self._masters, inputs["tasks"], (), inputs["vips"])
        # The zones whose records did not change are kept (`zones.build_zones`); the Mesos-DNS
        # copy's zone was built when it arrived.
        built = zones.build_zones(records, (self._records, self._zones))
        if self._mesos is not None:
            built[zones.MESOS] = self._mesos
        table = self._build(built)
        self._records, self._zones, self.table = records, built, table
        self.rebuilds += 1

    def _build(self, built: dict[str, zone.Zone]) -> RoutingTable:
        return build_table(built, self._mesos_dns, self._upstreams, self._forward_zones)
