"""The running master: ZooKeeper leadership and the background loops (allocation, timers).

This is the adapter layer around the pure-ish `Master`: it owns threads, the wall clock and the
kazoo client. A lost ZooKeeper session ends the process (`on_fatal`), so a supervisor restarts
it as a standby; no two masters ever act as leader together.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from daemons.common import zk
from daemons.master.config import MasterConfig
from daemons.master.ids import IdGenerator
from daemons.master.master import Master

log = logging.getLogger(__name__)

# Event-triggered allocation rounds are batched: at most one per this many seconds.
MIN_ROUND_GAP = 0.02


class MasterService:
    def __init__(self, config: MasterConfig, on_fatal: Callable[[str], None]) -> None:
        self.config = config
        self.master = Master(config, time.time, IdGenerator(str(uuid.uuid4())))
        self.on_fatal = on_fatal
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._zk: Any = None
        self._contender: zk.MasterContender | None = None

    def start(self) -> None:
        hosts, path = zk.parse_zk_url(self.config.zk)
        self._zk = zk.connect(hosts, self.config.zk_session_timeout)
        self._contender = zk.MasterContender(
            self._zk,
            path,
            self.master.master_info,
            self._leadership_changed,
            lambda: self.on_fatal("ZooKeeper session lost"),
        )
        self._contender.start()
        for name, target in (("allocation", self._allocation_loop), ("timers", self._timer_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _leadership_changed(self, is_leader: bool, leader: dict[str, Any] | None) -> None:
        if self._stop.is_set():
            return  # our own node went away because we are stopping
        self.master.leader_info = leader
        if is_leader:
            self.master.elect()
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
                self.master.allocate()
            except Exception:  # a bug in one round must not stop allocation for good
                log.exception("allocation round failed")

    def _timer_loop(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self.master.tick()
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
