"""Keeping the kernel's `dcos_l4lb` table equal to the VIP table: one transaction per change,
a comparison with the kernel's listing on start and every reconcile, a full load to repair.

- `apply(table, touched)`: the first time, the kernel's listing is compared with what `table`
  needs (after a restart the rules are still there: nothing is rewritten when they match, and a
  full load replaces them atomically when they do not; conntrack keeps established
  connections on their backends either way); after that, `ruleset.changes` over the touched
  services. A transaction the kernel refuses is logged and followed by a full load.
- `reconcile()`: the listing again; drift (someone's edit, a flushed table) is logged, counted
  and repaired with a full load. Rules not in our table are never looked at.

Nothing is removed when the daemon stops: the VIPs keep working while it is down or
restarting. Uninstall removes the table (the role). One lock: changes and reconciles never
interleave.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from daemons.kit.l4lb.table import Service, VipTable
from minuteman import ruleset
from minuteman.metrics import Metrics
from minuteman.nft import Nft, NftError

log = logging.getLogger(__name__)

LIST = f"list table {ruleset.FAMILY} {ruleset.TABLE}\n"


class Programmer:
    def __init__(
        self, nft: Nft, metrics: Metrics, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self._nft = nft
        self._metrics = metrics
        self._clock = clock
        self._lock = threading.Lock()
        self._table = VipTable({})
        self._synced = False

    @property
    def table(self) -> VipTable:
        """What the kernel holds, as far as this daemon knows."""
        return self._table

    def apply(self, table: VipTable, touched: Iterable[Service] | None = None) -> None:
        with self._lock:
            start = self._clock()
            if not self._synced:
                self._repair_unless_equal(table, "start")
                self._synced = True
            else:
                program = ruleset.changes(self._table, table, touched)
                if program:
                    try:
                        self._nft.run(program)
                    except NftError as err:
                        self._metrics.failures.inc()
                        log.error("minuteman: a change was refused (%s); loading the table", err)
                        self._full(table)
                    else:
                        self._metrics.changes.inc()
            self._table = table
            self._metrics.program_seconds.observe(self._clock() - start)
            self._metrics.show(table)

    def reconcile(self) -> bool:
        """Compare the kernel with the table; repair drift. True when it had drifted."""
        with self._lock:
            if not self._synced:
                return False
            return self._repair_unless_equal(self._table, "reconcile")

    def _repair_unless_equal(self, table: VipTable, why: str) -> bool:
        try:
            listing: ruleset.Listing | None = ruleset.parse_listing(self._nft.run(LIST))
        except NftError:
            listing = None  # no table of ours at all
        if listing == ruleset.expected(table):
            return False
        if why == "reconcile":
            self._metrics.repairs.inc()
            log.warning("minuteman: the kernel's %s table drifted; loading it again", ruleset.TABLE)
        else:
            log.info("minuteman: loading the %s table (%d VIPs)", ruleset.TABLE, len(table.vips))
        self._full(table)
        return True

    def _full(self, table: VipTable) -> None:
        self._nft.run(ruleset.full(table))
        self._metrics.full_loads.inc()
