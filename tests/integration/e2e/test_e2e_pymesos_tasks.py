"""pymesos against a master and two agents: command tasks finish or fail, and the master's
state, its task list and the agents' sandboxes all show what happened."""

from __future__ import annotations

from typing import Any

from e2e_cluster import container_cgroups, get_json, pids_running, wait_for
from frameworks_pymesos import RecordingScheduler, command_task, running_driver

from tools import processes


def _sandbox(agent: Any, executor_id: str) -> str:
    """The run directory of `executor_id` on `agent`, from the agent's /state."""
    state = get_json(f"{agent.url}/state")
    for framework in state["frameworks"] + state["completed_frameworks"]:
        for executor in framework["executors"] + framework["completed_executors"]:
            if executor["id"] == executor_id:
                return str(executor["directory"])
    raise AssertionError(f"no executor {executor_id} in {agent.url}/state")


def test_command_tasks_on_two_agents_finish_or_fail(cluster: Any) -> None:
    c = cluster(agents=2)
    first, second = c.agent_ids()
    scheduler = RecordingScheduler()
    with running_driver(scheduler, c.master_address) as driver:
        scheduler.launch(
            driver,
            [command_task("echo-1", "echo hi-from-echo-1"), command_task("sleep-1", "sleep 1")],
            agent_id=first,
        )
        scheduler.launch(
            driver,
            [command_task("echo-2", "echo hi-from-echo-2"), command_task("fail-2", "exit 3")],
            agent_id=second,
        )
        for task_id in ("echo-1", "sleep-1", "echo-2"):
            finished = scheduler.wait_state(task_id, "TASK_FINISHED")
            assert finished["agent_id"]["value"] == (first if task_id.endswith("1") else second)
            assert "TASK_RUNNING" in scheduler.states(task_id)
        failed = scheduler.wait_state("fail-2", "TASK_FAILED")
        assert failed["agent_id"]["value"] == second
        assert failed["message"] == "Command exited with status 3"
        assert "TASK_FINISHED" not in scheduler.states("fail-2")
        framework_id = scheduler.framework_id

        state = c.state()
        (framework,) = [f for f in state["frameworks"] if f["id"] == framework_id]
        assert framework["tasks"] == []
        completed = {t["id"]: t for t in framework["completed_tasks"]}
        assert {k: t["state"] for k, t in completed.items()} == {
            "echo-1": "TASK_FINISHED",
            "sleep-1": "TASK_FINISHED",
            "echo-2": "TASK_FINISHED",
            "fail-2": "TASK_FAILED",
        }
        assert completed["echo-1"]["slave_id"] == first
        assert completed["fail-2"]["slave_id"] == second
        assert completed["sleep-1"]["statuses"][-1]["state"] == "TASK_FINISHED"
        # Every task's resources went back: nothing is used on either agent.
        assert framework["used_resources"]["cpus"] == 0.0
        for slave in state["slaves"]:
            assert (slave["used_resources"]["cpus"], slave["used_resources"]["mem"]) == (0, 0)

        tasks = get_json(f"{c.master.url}/master/tasks", framework_id=framework_id)["tasks"]
        assert {t["id"]: t["state"] for t in tasks} == {k: t["state"] for k, t in completed.items()}

        # Command tasks: executor id = task id; its stdout is in the run dir on the agent.
        for task_id, agent_id in (("echo-1", first), ("echo-2", second)):
            agent = c.agent_for(agent_id)
            sandbox = _sandbox(agent, task_id)
            read = get_json(f"{agent.url}/files/read", path=f"{sandbox}/stdout", offset=0)
            assert f"hi-from-{task_id}" in read["data"]

    # The containers of finished tasks are gone, cgroups included.
    for agent in c.agents:
        root = agent.config["cgroups_root"]
        wait_for(lambda root=root: not container_cgroups(root), 10, f"{root} containers removed")


def test_killed_task_ends_killed_and_its_process_is_gone(cluster: Any) -> None:
    c = cluster(agents=1)
    cgroups_root = c.agents[0].config["cgroups_root"]
    scheduler = RecordingScheduler()
    with running_driver(scheduler, c.master_address) as driver:
        scheduler.launch(driver, [command_task("sleeper", "sleep 600")])
        scheduler.wait_state("sleeper", "TASK_RUNNING")
        (pid,) = wait_for(lambda: pids_running(cgroups_root, "sleep", "600"), 10, "sleep 600")
        driver.killTask({"value": "sleeper"})
        killed = scheduler.wait_state("sleeper", "TASK_KILLED")
        assert killed["source"] == "SOURCE_EXECUTOR"
        wait_for(lambda: not processes.pid_alive(pid), 10, f"pid {pid} to exit")
        assert pids_running(cgroups_root, "sleep", "600") == []
        wait_for(lambda: not container_cgroups(cgroups_root), 10, "the container's cgroups gone")
        (task,) = get_json(f"{c.master.url}/master/tasks", task_id="sleeper")["tasks"]
        assert task["state"] == "TASK_KILLED"


def test_task_over_its_memory_fails_with_the_memory_limitation(cluster: Any) -> None:
    c = cluster(agents=1)
    hog = '/usr/bin/python3 -c "b = bytearray(256*1024*1024); import time; time.sleep(5)"'
    scheduler = RecordingScheduler()
    with running_driver(scheduler, c.master_address) as driver:
        scheduler.launch(driver, [command_task("hog", hog, mem=32.0)])
        failed = scheduler.wait_state("hog", "TASK_FAILED", timeout=60)
        assert failed["reason"] == "REASON_CONTAINER_LIMITATION_MEMORY"
        assert failed["source"] == "SOURCE_AGENT"
        assert "TASK_FINISHED" not in scheduler.states("hog")
        cgroups_root = c.agents[0].config["cgroups_root"]
        wait_for(lambda: not container_cgroups(cgroups_root), 10, "the container's cgroups gone")
