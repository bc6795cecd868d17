"""The running Minuteman: the leading master followed (`daemons.mesos_client.master_follower`:
ZooKeeper or the static masters, the operator events, coalesced snapshots), each snapshot made
into the VIP table (`daemons.kit.l4lb.table.TableBuilder`: when the snapshot says which tasks
changed, those alone are looked at; otherwise the whole state is walked and only changed
tasks parsed again) and programmed (`programmer.Programmer`: one transaction per change), the
kernel reconciled every `reconcile_interval`, and the VIP range routed `local` on lo.

Started in the gunicorn worker (`daemons.kit.entry`), beside the HTTP API. Stopping leaves the
table and the route in place: VIPs keep working while the daemon is down or restarting.
"""

from __future__ import annotations

import logging
import subprocess
import threading
from collections.abc import Callable

from daemons.kit.l4lb.table import TableBuilder, VipTable, agent_addresses
from daemons.mesos_client.master_follower import MasterFollower, MasterSnapshot
from minuteman.config import MinutemanConfig
from minuteman.metrics import Metrics
from minuteman.nft import Nft, NftError
from minuteman.programmer import Programmer

log = logging.getLogger(__name__)


class MinutemanService:
    def __init__(
        self,
        config: MinutemanConfig,
        on_fatal: Callable[[str], None],
        nft: Callable[[], Nft] = Nft,
    ) -> None:
        self.config = config
        self._on_fatal = on_fatal
        self._nft_factory = nft
        self.metrics = Metrics()
        self._builder = TableBuilder(config.pool())
        self._agents: dict[str, str] = {}  # every agent seen: an unreachable one's tasks
        self._problems: frozenset[str] = frozenset()
        self.programmer: Programmer | None = None
        self.follower = MasterFollower(
            self.take,
            zk_url=config.zk,
            masters=[f"{m}:{config.master_port}" for m in config.masters],
            name="minuteman",
        )
        self._stop = threading.Event()
        self._reconciler = threading.Thread(
            target=self._reconcile_loop, name="minuteman-reconcile", daemon=True
        )

    @property
    def table(self) -> VipTable:
        return self.programmer.table if self.programmer is not None else VipTable({})

    @property
    def loaded(self) -> bool:
        return self.follower.loaded.is_set()

    def start(self) -> None:
        try:
            self.programmer = Programmer(self._nft_factory(), self.metrics)
        except (OSError, NftError) as err:
            self._on_fatal(f"cannot use libnftables: {err}")
            return
        if self.config.route:
            try:
                ensure_local_route(str(self.config.pool()), self.config.route_source)
            except (OSError, subprocess.CalledProcessError) as err:
                self._on_fatal(f"cannot route {self.config.named_ip_range} on lo: {err}")
                return
        self.follower.start()
        self._reconciler.start()

    def stop(self) -> None:
        self._stop.set()
        self.follower.stop()

    def take(self, snapshot: MasterSnapshot) -> None:
        """From the follower's thread: the VIP table of the state now, programmed."""
        programmer = self.programmer
        if programmer is None:
            return
        if snapshot.changes is None:
            self._agents.update(agent_addresses(snapshot.state))
            table, touched = self._builder.update(snapshot.state, self._agents)
        else:  # task events alone since the last one: no new agent (that makes a read)
            table, touched = self._builder.update_tasks(snapshot.changes, self._agents)
        problems = frozenset(table.problems)
        for problem in sorted(problems - self._problems):
            log.warning("minuteman: %s (ignored)", problem)
        self._problems = problems
        programmer.apply(table, touched)

    def _reconcile_loop(self) -> None:
        while not self._stop.wait(self.config.reconcile_interval):
            programmer = self.programmer
            try:
                if programmer is not None:
                    programmer.reconcile()
            except NftError as err:
                log.error("minuteman: reconcile failed: %s", err)


def ensure_local_route(prefix: str, source: str = "") -> None:
    """`local <prefix> dev lo [src <source>]` in the local table (more specific than any route
    to the range elsewhere, and idempotent). With `src`, a local connection to a VIP starts from
    the node's address (the kernel's source for a `local` route is its prefsrc, else the
    destination), so after the DNAT it needs no masquerade."""
    via = ["src", source] if source else []
    subprocess.run(
        ["ip", "route", "replace", "local", prefix, "dev", "lo", *via, "table", "local"],
        check=True,
        capture_output=True,
        timeout=10,
    )
