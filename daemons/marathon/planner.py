"""The leader's planner thread: the plan after status updates.

Status updates are recorded as they come (`scheduling.record_update`: the instance is stored
before the update is acknowledged), and each `wake` asks for a plan of the new state. The thread
makes one plan (`scheduling.replan`) for however many updates were recorded while it made the
last: a plan looks at every instance, so with one plan per update 1,000 updates took seconds of
CPU, while a burst now costs a few plans and a trickle still gets one plan per update, at once.
Before each plan it waits as long as the last one took (at most `MAX_GATHER`): planning then
takes at most about half the leader's time, however large the state.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from daemons.marathon import scheduling
from daemons.marathon.marathon import Marathon

log = logging.getLogger(__name__)

# The longest a plan waits for more updates to gather (seconds).
MAX_GATHER = 0.05


class Planner:
    def __init__(self, m: Marathon, is_leader: Callable[[], bool] = lambda: True) -> None:
        self.m = m
        self.is_leader = is_leader
        self._wanted = threading.Event()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="plan", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wanted.set()

    def stop(self) -> None:
        self._stopped = True
        self._wanted.set()

    def _loop(self) -> None:
        took = 0.0
        while True:
            self._wanted.wait()
            # As long as the last plan took: the updates of a burst gather meanwhile (recording
            # one waits for the lock a plan holds, so they would otherwise come one per plan).
            time.sleep(min(took, MAX_GATHER))
            self._wanted.clear()
            if self._stopped:
                return
            if not self.is_leader():
                continue
            started = time.perf_counter()
            try:
                scheduling.replan(self.m)
            except Exception:  # one bad plan must not stop the loop; the tick plans again
                log.exception("plan failed")
            took = time.perf_counter() - started
