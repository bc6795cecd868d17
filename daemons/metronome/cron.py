"""The loop that drives schedules: every second (wall clock) it starts the runs whose cron
ticks are due, asks for offers when runs wait, and now and then reconciles all tasks.

The loop wakes on the wall clock's whole multiples of its interval (`until_next_tick`), not an
interval after its last wake: cron ticks fall on whole minutes, so with an interval that divides
60 (the default 1 s) a minute's runs are started as it begins, as Metronome's timer starts them
at their scheduled time, instead of up to an interval later at the phase the loop happened to
start at. Only the acting leader ticks; a standby's loop idles.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from daemons.metronome.metronome import Metronome
from daemons.metronome.scheduler import JobScheduler

log = logging.getLogger(__name__)


def until_next_tick(now: float, interval: float) -> float:
    """Seconds from `now` to the next whole multiple of `interval` (seconds since the epoch):
    in (0, interval], so a wake exactly on a multiple waits a whole interval for the next one.
    A wake a hair early (the wait's clock is not the wall clock) only waits that hair again."""
    return interval - now % interval


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
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        self.metronome = metronome
        self.scheduler = scheduler
        self.is_leader = is_leader
        self.interval = interval
        self.reconciliation_interval = reconciliation_interval
        self.clock = clock
        self._stop = threading.Event()
        # Sleep up to the given seconds; True once the loop is to end (tests pass their own).
        self._wait = wait or self._stop.wait
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="cron", daemon=True)
        self._thread.start()

    def run(self) -> None:
        """Tick until stopped (`start` runs this on its own thread)."""
        last_reconciliation = time.monotonic()
        while not self._wait(until_next_tick(self.clock(), self.interval)):
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
