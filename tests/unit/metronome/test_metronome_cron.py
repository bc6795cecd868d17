"""The cron loop: when it looks at the schedules (the wall clock's whole seconds)."""

from __future__ import annotations

import pytest

from daemons.metronome.cron import CronLoop, until_next_tick

MINUTE = 1_468_587_780.0  # 2016-07-15T13:03:00Z


class Ticks:
    """The Metronome side of the loop: records when it was asked to start due runs."""

    ready = True

    def __init__(self) -> None:
        self.seen: list[float] = []

    def tick(self, now: float) -> list[object]:
        self.seen.append(now)
        return []


class Offers:
    def revive(self) -> None:
        pass

    def reconcile(self) -> None:
        pass


def test_until_next_tick_is_up_to_the_next_whole_interval_never_zero() -> None:
    assert until_next_tick(MINUTE - 0.25, 1.0) == pytest.approx(0.25)
    assert until_next_tick(MINUTE, 1.0) == 1.0  # just ticked: the next one
    assert until_next_tick(MINUTE + 0.4, 2.0) == pytest.approx(1.6)


def test_a_minutes_tick_is_seen_on_the_minute_whatever_phase_the_loop_started_at() -> None:
    # The loop starts 2.6 s before the minute, 0.4 s into a second. Looking every 1 s from its
    # start it would see the minute at MINUTE + 0.4: runs due at 13:03:00 started 0.4 s late.
    now = [MINUTE - 2.6]
    ticks = Ticks()

    def wait(seconds: float) -> bool:  # the loop's sleep; True ends the loop
        now[0] += seconds
        return len(ticks.seen) >= 3

    loop = CronLoop(ticks, Offers(), lambda: True, clock=lambda: now[0], wait=wait)  # type: ignore
    loop.run()
    assert [t - MINUTE for t in ticks.seen] == pytest.approx([-2.0, -1.0, 0.0], abs=1e-6)
