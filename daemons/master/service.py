"""The running master: ZooKeeper leadership and the background loops (allocation, timers).

This is the runtime around the `Master` state machine: it owns threads, the wall clock, the
allocation round's RNG and the kazoo client. Its loops call `offers.allocate` and
`leadership.tick`; an election calls `leadership.take_office`.

A lost ZooKeeper session ends the process (`on_fatal`), so a supervisor restarts it as a
standby. No two masters ever act as leader together:
- a *lease*: the leader acts only while a ZooKeeper round trip succeeded within half the session
  timeout (the session cannot have expired before the other half has passed), so a leader that
  was paused or cut off stops at once, before kazoo even notices;
- while disconnected (SUSPENDED) it does nothing. It does not give up on a timer of its own (as
  Mesos does): the session may well survive a long disconnection, because a ZooKeeper election
  or a quorum coming back gives every session a fresh timeout, and then this master simply goes
  on. If the session did expire, ZooKeeper says so on reconnection (LOST) and the master exits.
  Until then it is a standby in all but name: it does not act;
- every registry write is fenced by the election's version (zk_registry.py).
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from kazoo.client import KazooState

from daemons.kit import zk
from daemons.master import leadership, offers
from daemons.master.config import MasterConfig
from daemons.master.ids import IdGenerator
from daemons.master.master import Master
from daemons.master.zk_registry import ZkRegistry

log = logging.getLogger(__name__)

# Event-triggered allocation rounds are batched: at most one per this many seconds.
MIN_ROUND_GAP = 0.02


class Lease:
    """Whether this master may still act: the last confirmed ZooKeeper round trip is recent."""

    def __init__(self, session_timeout: float, clock: Callable[[], float] = time.monotonic):
        self.valid_for = session_timeout / 2
        self.clock = clock
        self.confirmed = clock()
        self.suspended_since: float | None = None

    def confirm(self, at: float) -> None:
        self.confirmed = max(self.confirmed, at)

    def __call__(self) -> bool:
        return self.suspended_since is None and self.clock() - self.confirmed < self.valid_for


class MasterService:
    def __init__(self, config: MasterConfig, on_fatal: Callable[[str], None]) -> None:
        self.config = config
        self.on_fatal = on_fatal
        self.master = Master(
            config, time.time, IdGenerator(str(uuid.uuid4())), on_fatal=self._fatal
        )
        self.lease = Lease(config.zk_session_timeout)
        self.master.lease = self.lease
        # Shuffles the agents of each allocation round; seeded from the operating system.
        self.rng = random.Random()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._zk: Any = None
        self._contender: zk.MasterContender | None = None

    def _fatal(self, reason: str) -> None:
        if not self._stop.is_set():
            self.on_fatal(reason)

    def start(self) -> None:
        """Contend for leadership, then run the loops. When ZooKeeper does not answer (down, no
        quorum) the HTTP API comes up anyway and answers 503 — there is no leader — while a
        thread keeps trying."""
        hosts, _ = zk.parse_zk_url(self.config.zk)
        try:
            client = zk.connect(hosts, self.config.zk_session_timeout)
        except zk.StoreUnavailable as err:
            log.warning("%s; retrying in the background", err.message)
            client = None
        if client is not None:
            self._contend(client)
        loops = [("allocation", self._allocation_loop), ("timers", self._timer_loop)]
        loops.append(("lease", self._lease_loop) if client else ("zookeeper", self._join))
        for name, target in loops:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _join(self) -> None:
        hosts, _ = zk.parse_zk_url(self.config.zk)
        while not self._stop.wait(1.0):
            try:
                client = zk.connect(hosts, self.config.zk_session_timeout)
            except zk.StoreUnavailable as err:
                log.warning("%s; retrying", err.message)
                continue
            self._contend(client)
            self._lease_loop()
            return

    def _contend(self, client: Any) -> None:
        _, path = zk.parse_zk_url(self.config.zk)
        self._zk = client
        self.lease.confirm(time.monotonic())
        self._zk.add_listener(self._zk_state)
        self.master.registry = ZkRegistry(self._zk, path)
        self._contender = zk.contend(
            self._zk, path, self.master.master_info, self._leadership_changed, self._fatal
        )

    def _zk_state(self, state: str) -> None:
        if state == KazooState.SUSPENDED:
            log.warning("ZooKeeper connection lost; not acting as leader until it is back")
            self.lease.suspended_since = time.monotonic()
        elif state == KazooState.CONNECTED:
            self.lease.suspended_since = None
            self.lease.confirm(time.monotonic())
            self.master.wake.set()

    def _lease_loop(self) -> None:
        """Renew the lease with a cheap round trip every eighth of the session timeout."""
        timeout = self.config.zk_session_timeout
        while not self._stop.wait(timeout / 8):
            started = time.monotonic()
            was_valid = self.lease()
            try:
                self._zk.exists_async("/").get(timeout=timeout / 4)
            except Exception:  # an unanswered round trip just does not renew the lease
                if was_valid and not self.lease() and self.master.is_leader:
                    log.warning("lease lapsed: no ZooKeeper round trip for %.1fs", timeout / 2)
                continue
            self.lease.confirm(started)
            if not was_valid and self.master.is_leader:
                log.warning("lease renewed after %.1fs", time.monotonic() - started)

    def _leadership_changed(self, is_leader: bool, leader: dict[str, Any] | None) -> None:
        if self._stop.is_set():
            return  # our own node went away because we are stopping
        self.master.leader_info = leader
        if is_leader:
            leadership.take_office(self.master)
            self.master.wake.set()
        elif self.master.is_leader:
            # We were the leader and are not any more: never go on as a second leader.
            self.master.demote()
            self.on_fatal("lost leadership")

    def _allocation_loop(self) -> None:
        interval = self.config.allocation_interval
        while not self._stop.is_set():
            woken = self.master.wake.wait(interval)
            if self._stop.is_set():
                return
            if woken:
                time.sleep(MIN_ROUND_GAP)
            self.master.wake.clear()
            try:
                offers.allocate(self.master, self.rng)
            except Exception:  # a bug in one round must not stop allocation for good
                log.exception("allocation round failed")

    def _timer_loop(self) -> None:
        interval = min(1.0, self.config.agent_ping_timeout / 4)
        while not self._stop.wait(interval):
            try:
                leadership.tick(self.master)
            except Exception:
                log.exception("timer tick failed")

    def stop(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self.master.wake.set()
        if self._contender is not None:
            self._contender.stop()
        if self._zk is not None:
            try:
                self._zk.stop()
                self._zk.close()
            except Exception:
                log.exception("closing the ZooKeeper client failed")
