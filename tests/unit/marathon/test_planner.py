"""The leader's planner thread: a wake plans the recorded updates; stop ends the thread."""

from __future__ import annotations

import dataclasses
import time

from daemons.marathon import changes, scheduling
from daemons.marathon.marathon import task_updates_counter
from daemons.marathon.model import Instance, with_state
from daemons.marathon.planner import Planner
from daemons.mesos_client.events import TaskStatus
from tests.unit.marathon.factories import offer
from tests.unit.marathon.test_marathon_core import app, make


def test_a_wake_plans_what_was_recorded_and_stop_ends_the_thread() -> None:
    m, driver, _ = make()
    changes.create_app(m, app(instances=2))
    scheduling.handle_offers(m, [offer()])
    launched = driver.of("launch")[0]
    planner = Planner(m)
    planner.start()
    try:
        for task_id in launched:
            scheduling.record_update(m, TaskStatus(task_id=task_id, state="TASK_RUNNING"))
        planner.wake()
        running = task_updates_counter("TASK_RUNNING")
        deadline = time.monotonic() + 5
        while m.counters.get(running) != 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert m.counters.get(running) == 2 and not m.unplanned
    finally:
        planner.stop()
    planner._thread.join(5)
    assert not planner._thread.is_alive()


def test_with_state_is_replace_of_the_state() -> None:
    inst = Instance(task_id="t", app_id="/a", version=1.0, agent_id="a1", host="h", ports=(1,))
    marked = with_state(inst, "TASK_KILLING")
    assert marked == dataclasses.replace(inst, state="TASK_KILLING")
    assert inst.state == "TASK_STAGING"
