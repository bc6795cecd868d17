"""Things that die while a task runs: the agent (`kill -9`, then started again) and the
framework (its driver stopped without TEARDOWN, then a new driver fails over to its id)."""

from __future__ import annotations

import signal
from typing import Any

from e2e_cluster import pids_running, wait_for
from frameworks_pymesos import (
    RecordingScheduler,
    command_task,
    running_driver,
    start_driver,
    stop_driver,
)

from tools import processes


def _task_state(c: Any, task_id: str) -> str | None:
    state = c.state()
    for framework in state["frameworks"] + state["completed_frameworks"]:
        for task in framework["tasks"] + framework["completed_tasks"]:
            if task["id"] == task_id:
                return str(task["state"])
    return None


def test_task_survives_its_agent_being_killed_and_restarted(cluster: Any) -> None:
    c = cluster(agents=1)
    agent = c.agents[0]
    (agent_id,) = c.agent_ids()
    cgroups_root = agent.config["cgroups_root"]
    scheduler = RecordingScheduler()
    with running_driver(scheduler, c.master_address) as driver:
        scheduler.launch(driver, [command_task("survivor", "sleep 600")])
        scheduler.wait_state("survivor", "TASK_RUNNING")
        (pid,) = wait_for(lambda: pids_running(cgroups_root, "sleep", "600"), 10, "sleep 600")

        agent.kill(signal.SIGKILL)
        assert processes.pid_alive(pid)  # the task outlives its agent
        agent.start()

        def reregistered() -> bool:
            return any(
                s["id"] == agent_id and s["active"] and "reregistered_time" in s for s in c.slaves()
            )

        wait_for(reregistered, 30, f"agent {agent_id} to re-register")
        assert [s["id"] for s in c.slaves()] == [agent_id]
        assert pids_running(cgroups_root, "sleep", "600") == [pid]
        assert _task_state(c, "survivor") == "TASK_RUNNING"

        # Updates from the recovered executor still arrive, through the restarted agent.
        driver.killTask({"value": "survivor"})
        scheduler.wait_state("survivor", "TASK_KILLED")
        wait_for(lambda: not processes.pid_alive(pid), 10, f"pid {pid} to exit")
        assert _task_state(c, "survivor") == "TASK_KILLED"


def test_framework_fails_over_to_a_new_driver_and_keeps_its_task(cluster: Any) -> None:
    c = cluster(agents=1)
    cgroups_root = c.agents[0].config["cgroups_root"]
    first = RecordingScheduler()
    driver = start_driver(first, c.master_address, failover_timeout=60.0)
    try:
        first.launch(driver, [command_task("sleeper", "sleep 600")])
        first.wait_state("sleeper", "TASK_RUNNING")
    finally:
        stop_driver(driver, failover=True)  # no TEARDOWN: the stream just closes
    framework_id = first.framework_id
    assert framework_id is not None
    (pid,) = wait_for(lambda: pids_running(cgroups_root, "sleep", "600"), 10, "sleep 600")

    def disconnected() -> bool:
        (framework,) = c.state()["frameworks"]
        return framework["id"] == framework_id and not framework["connected"]

    wait_for(disconnected, 10, "the master to see the framework disconnected")
    assert _task_state(c, "sleeper") == "TASK_RUNNING"

    second = RecordingScheduler()
    with running_driver(
        second, c.master_address, failover_timeout=60.0, framework_id=framework_id
    ) as driver:
        assert second.framework_id == framework_id
        (framework,) = c.state()["frameworks"]
        assert framework["id"] == framework_id and framework["connected"]
        driver.reconcileTasks([{"task_id": {"value": "sleeper"}}])
        status = second.wait_update(
            lambda u: (
                u["task_id"]["value"] == "sleeper" and u.get("reason") == "REASON_RECONCILIATION"
            )
        )
        assert status["state"] == "TASK_RUNNING"
        assert processes.pid_alive(pid)
    # Leaving the block stopped the driver with TEARDOWN: the task is killed, the framework gone.
    wait_for(lambda: not processes.pid_alive(pid), 15, f"pid {pid} to exit after TEARDOWN")
    state = c.state()
    assert state["frameworks"] == []
    (removed,) = state["completed_frameworks"]
    assert removed["id"] == framework_id
    assert [(t["id"], t["state"]) for t in removed["completed_tasks"]] == [
        ("sleeper", "TASK_KILLED")
    ]


def test_framework_not_back_within_its_failover_timeout_is_removed(cluster: Any) -> None:
    c = cluster(agents=1)
    cgroups_root = c.agents[0].config["cgroups_root"]
    first = RecordingScheduler()
    driver = start_driver(first, c.master_address, failover_timeout=1.0)
    try:
        first.launch(driver, [command_task("orphan", "sleep 600")])
        first.wait_state("orphan", "TASK_RUNNING")
    finally:
        stop_driver(driver, failover=True)
    framework_id = first.framework_id
    (pid,) = wait_for(lambda: pids_running(cgroups_root, "sleep", "600"), 10, "sleep 600")

    # After failover_timeout (1 s) the master removes the framework and kills its tasks.
    wait_for(lambda: c.state()["completed_frameworks"], 15, "the framework to be removed")
    wait_for(lambda: not processes.pid_alive(pid), 15, f"pid {pid} to exit")
    state = c.state()
    assert state["frameworks"] == []
    (removed,) = state["completed_frameworks"]
    assert removed["id"] == framework_id
    assert [(t["id"], t["state"]) for t in removed["completed_tasks"]] == [
        ("orphan", "TASK_KILLED")
    ]

    # Coming back with the removed id is refused with an ERROR event.
    late = RecordingScheduler()
    driver = start_driver(late, c.master_address, framework_id=framework_id, wait=False)
    try:
        late.wait_for(lambda: late.errors, 15, "an ERROR event", errors_expected=True)
    finally:
        stop_driver(driver, failover=True)
    assert late.errors[0] == "ERROR event: Framework has been removed"
    assert late.registrations == 0


def _restart_agent_after(c: Any, agent: Any, agent_id: str, while_down: Any) -> None:
    """`kill -9` the agent, wait until the master sees it gone, call `while_down()`, start the
    agent again and wait until it has re-registered with its id."""
    agent.kill(signal.SIGKILL)
    wait_for(lambda: not any(s["active"] for s in c.slaves()), 20, "the agent to be inactive")
    while_down()
    agent.start()

    def reregistered() -> bool:
        return any(s["id"] == agent_id and s["active"] for s in c.slaves())

    wait_for(reregistered, 30, f"agent {agent_id} to re-register")


def test_kill_sent_while_the_agent_is_down_is_delivered_when_it_re_registers(
    cluster: Any,
) -> None:
    c = cluster(agents=1)
    agent = c.agents[0]
    (agent_id,) = c.agent_ids()
    cgroups_root = agent.config["cgroups_root"]
    scheduler = RecordingScheduler()
    with running_driver(scheduler, c.master_address) as driver:
        scheduler.launch(driver, [command_task("doomed", "sleep 600")])
        scheduler.wait_state("doomed", "TASK_RUNNING")
        (pid,) = wait_for(lambda: pids_running(cgroups_root, "sleep", "600"), 10, "sleep 600")
        _restart_agent_after(c, agent, agent_id, lambda: driver.killTask({"value": "doomed"}))
        scheduler.wait_state("doomed", "TASK_KILLED", timeout=10)
        wait_for(lambda: not processes.pid_alive(pid), 10, f"pid {pid} to exit")


def test_teardown_while_the_agent_is_down_shuts_its_tasks_down_when_it_re_registers(
    cluster: Any,
) -> None:
    c = cluster(agents=1)
    agent = c.agents[0]
    (agent_id,) = c.agent_ids()
    cgroups_root = agent.config["cgroups_root"]
    scheduler = RecordingScheduler()
    driver = start_driver(scheduler, c.master_address)
    try:
        scheduler.launch(driver, [command_task("orphan", "sleep 600")])
        scheduler.wait_state("orphan", "TASK_RUNNING")
        (pid,) = wait_for(lambda: pids_running(cgroups_root, "sleep", "600"), 10, "sleep 600")
        _restart_agent_after(c, agent, agent_id, lambda: stop_driver(driver))  # TEARDOWN
    finally:
        stop_driver(driver)
    state = c.state()
    assert state["frameworks"] == []  # not brought back by the agent's report
    assert [f["id"] for f in state["completed_frameworks"]] == [scheduler.framework_id]
    wait_for(lambda: not processes.pid_alive(pid), 10, f"pid {pid} to exit")
    (slave,) = c.slaves()
    assert slave["used_resources"]["cpus"] == 0.0
