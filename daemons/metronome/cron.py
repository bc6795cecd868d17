"""The loop that drives schedules: every second (wall clock) it starts the runs whose cron
ticks are due, asks for offers when runs wait, and now and then reconciles all tasks.

Only the acting leader ticks; a standby's loop idles.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from daemons.metronome.metronome import Metronome
from daemons.metronome.scheduler import JobScheduler

log = logging.getLogger(__name__)


class CronLoop:
    def __init__(
        self,
        metronome: Metronome,
        scheduler: JobScheduler,
        is_leader: Callable[[], bool],
        *,
        interval: float = 1.0,
        reconciliation_interval: float = 600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.metronome = metronome
        self.scheduler = scheduler
        self.is_leader = is_leader
        self.interval = interval
        self.reconciliation_interval = reconciliation_interval
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="cron", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        last_reconciliation = time.monotonic()
        while not self._stop.wait(self.interval):
            if not (self.is_leader() and self.metronome.ready):
                continue
            try:
                self.metronome.tick(self.clock())
                self.scheduler.revive()
                if time.monotonic() - last_reconciliation >= self.reconciliation_interval:
                    last_reconciliation = time.monotonic()
                    self.scheduler.reconcile()
            except Exception:  # one failed tick (ZooKeeper away) must not end the loop
                log.exception("schedule tick failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5.0)
