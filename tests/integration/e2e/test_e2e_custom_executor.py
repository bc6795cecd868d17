"""A pymesos framework with its own pymesos executor: the agent starts the executor once for
both tasks, the executor's updates reach the scheduler, framework messages go both ways, and
the executor outlives a `kill -9` of its agent and runs the next task.

The executor needs pymesos, which only the venv's Python has; that interpreter lives under /root,
which `nobody` cannot read. So the agent lets frameworks pick their user
(`allow_framework_user = true`) and this framework runs as root, as its FrameworkInfo.user.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

from e2e_cluster import container_cgroups, container_pids, get_json, wait_for
from frameworks_pymesos import RecordingScheduler, executor_task, running_driver, scalar
from pymesos import decode_data, encode_data

from tools import processes

EXECUTOR_SCRIPT = Path(__file__).with_name("executor_pymesos.py")
JSON = dict[str, Any]


def echo_executor() -> JSON:
    """ExecutorInfo of `executor_pymesos.py`, run by the venv's Python."""
    return {
        "executor_id": {"value": "echo-executor"},
        "name": "echo executor",
        "command": {"value": f"exec {sys.executable} {EXECUTOR_SCRIPT}"},
        "resources": [scalar("cpus", 0.1), scalar("mem", 64.0)],
    }


def test_custom_executor_runs_tasks_and_answers_messages(cluster: Any) -> None:
    c = cluster(agents=1, allow_framework_user=True)
    cgroups_root = c.agents[0].config["cgroups_root"]
    executor = echo_executor()
    tasks = [executor_task(f"echo-{i}", executor) for i in (1, 2)]
    for i, task in enumerate(tasks, 1):
        task["data"] = encode_data(f"payload-{i}".encode())
    scheduler = RecordingScheduler()
    with running_driver(scheduler, c.master_address, user="root") as driver:
        scheduler.launch(driver, tasks)
        for i in (1, 2):
            finished = scheduler.wait_state(f"echo-{i}", "TASK_FINISHED", timeout=60)
            assert finished["message"] == f"done:payload-{i}"
            assert finished["executor_id"] == {"value": "echo-executor"}
            assert finished["source"] == "SOURCE_EXECUTOR"
            assert scheduler.states(f"echo-{i}")[:2] == ["TASK_RUNNING", "TASK_FINISHED"]

        (agent_id,) = c.agent_ids()
        driver.sendFrameworkMessage(
            {"value": "echo-executor"}, {"value": agent_id}, encode_data(b"ping:42")
        )
        executor_id, from_agent, data = scheduler.wait_for(
            lambda: scheduler.messages[0] if scheduler.messages else None, what="a MESSAGE"
        )
        assert (executor_id, from_agent) == ("echo-executor", agent_id)
        assert decode_data(data) == b"pong:42"

        # One executor for both tasks, still running as the framework's (accounted) executor.
        (framework,) = c.state()["frameworks"]
        assert [e["executor_id"] for e in framework["executors"]] == ["echo-executor"]
        agent_state = c.agents[0]
        (agent_framework,) = get_json(f"{agent_state.url}/state")["frameworks"]
        (running,) = agent_framework["executors"]
        assert running["id"] == "echo-executor"
        assert {t["id"] for t in running["completed_tasks"]} == {"echo-1", "echo-2"}
        (pid,) = container_pids(cgroups_root)  # the executor (tasks are run inside it)
        assert Path(f"/proc/{pid}").stat().st_uid == 0  # the framework's user, as allowed
    # TEARDOWN on leaving the block: the agent shuts the executor down, its container goes.
    wait_for(lambda: not processes.pid_alive(pid), 15, "the executor to exit")
    wait_for(lambda: not container_cgroups(cgroups_root), 10, "the container's cgroups gone")


def test_custom_executor_survives_its_agent_restart_and_runs_the_next_task(cluster: Any) -> None:
    c = cluster(agents=1, allow_framework_user=True)
    agent = c.agents[0]
    (agent_id,) = c.agent_ids()
    cgroups_root = agent.config["cgroups_root"]
    scheduler = RecordingScheduler()
    with running_driver(scheduler, c.master_address, user="root") as driver:
        scheduler.launch(driver, [executor_task("before", echo_executor())])
        scheduler.wait_state("before", "TASK_FINISHED")
        (pid,) = container_pids(cgroups_root)

        agent.kill(signal.SIGKILL)
        agent.start()
        # pymesos re-subscribes to the restarted agent (MESOS_CHECKPOINT is set, so it waits
        # for it instead of killing itself); the agent then re-registers with the same id.
        wait_for(
            lambda: any(s["active"] and "reregistered_time" in s for s in c.slaves()),
            30,
            f"agent {agent_id} to re-register",
        )
        assert list(container_pids(cgroups_root)) == [pid]

        scheduler.launch(driver, [executor_task("after", echo_executor())])
        finished = scheduler.wait_state("after", "TASK_FINISHED")
        assert finished["container_status"]["executor_pid"] == pid  # the same executor ran it
        assert list(container_pids(cgroups_root)) == [pid]
