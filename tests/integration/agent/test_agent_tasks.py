"""The agent for real (gunicorn, containerizer, command executor) against a fake master.

register; RUN_TASK -> STARTING/RUNNING/FINISHED, each retried until acknowledged; KILL_TASK ->
TASK_KILLED; a task over its memory -> TASK_FAILED + REASON_CONTAINER_LIMITATION_MEMORY; a kill of
an unknown task -> TASK_LOST; `kill -9` of the agent and a restart -> same agent id, the task
still running with the same PID, and its later updates still arrive. Each test runs with the
executors started by exec and by the fork server (`executor_launch`).
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from test_agent_fake_master import (  # noqa: F401  (fixtures)
    AgentFactory,
    FakeMaster,
    command_task,
    kill_task,
    master_fixture,
    run_task,
    running_agent,
    work_dir_fixture,
)


@pytest.fixture(name="agent", params=["exec", "fork_server"])
def launch_agent_fixture(
    request: pytest.FixtureRequest, start_agent: AgentFactory, master: FakeMaster, work_dir: Path
) -> Iterator[Any]:
    with running_agent(
        start_agent, master.address, work_dir, executor_launch=request.param
    ) as daemon:
        yield daemon


def agent_id(master: FakeMaster) -> str:
    master.wait_subscribed()
    return str(master.subscriptions[0].get("agent_id", {}).get("value") or "FAKE-S0")


def test_registers_and_serves_its_state(agent: Any, master: FakeMaster) -> None:
    call = master.wait_subscribed()
    info = call["subscribe"]["agent_info"]
    assert "id" not in info and "agent_id" not in call
    assert info["port"] == agent.port
    assert {r["name"] for r in info["resources"]} >= {"cpus", "mem", "disk", "ports"}
    master.wait_for(lambda: requests.get(f"{agent.url}/state", timeout=5).json()["id"])
    state = requests.get(f"{agent.url}/slave(1)/state", timeout=5).json()
    assert state["id"] == "FAKE-S0"
    assert state["resources"]["cpus"] == 4.0
    metrics = requests.get(f"{agent.url}/metrics/snapshot", timeout=5).json()
    assert metrics["slave/registered"] == 1.0
    version = requests.get(f"{agent.url}/version", timeout=5).json()
    assert tuple(int(n) for n in version["version"].split(".")) >= (1, 0, 0)


def test_command_task_runs_to_finished_and_every_update_is_retried_until_acked(
    agent: Any, master: FakeMaster
) -> None:
    aid = agent_id(master)
    master.send(run_task(command_task("hello", "echo hello-from-task", aid)))
    finished = master.wait_state("hello", "TASK_FINISHED")
    assert finished["agent_id"] == {"value": aid}
    assert finished["executor_id"] == {"value": "hello"}
    states = master.states("hello")
    assert states[-1] == "TASK_FINISHED" and "TASK_RUNNING" in states
    # ack_on_delivery=2: an update is acked on its retry, so every uuid arrives at least twice.
    master.wait_for(lambda: all(master.deliveries[s["uuid"]] >= 2 for s in master.updates("hello")))
    exited = master.wait_for(lambda: master.calls_of("EXITED_EXECUTOR"))
    assert exited[0]["exited_executor"]["executor_id"] == {"value": "hello"}
    state = requests.get(f"{agent.url}/state.json", timeout=5).json()
    sandbox = next(
        e["directory"]
        for f in state["frameworks"] + state["completed_frameworks"]
        for e in f["executors"] + f["completed_executors"]
        if e["id"] == "hello"
    )
    read = requests.get(
        f"{agent.url}/files/read.json", params={"path": f"{sandbox}/stdout", "offset": 0}, timeout=5
    ).json()
    assert "hello-from-task" in read["data"]


def test_kill_task_ends_in_task_killed(agent: Any, master: FakeMaster) -> None:
    aid = agent_id(master)
    master.send(run_task(command_task("sleeper", "sleep 600", aid)))
    master.wait_state("sleeper", "TASK_RUNNING")
    master.send(kill_task("sleeper"))
    killed = master.wait_state("sleeper", "TASK_KILLED")
    assert killed["source"] == "SOURCE_EXECUTOR"


def test_kill_of_an_unknown_task_is_task_lost(agent: Any, master: FakeMaster) -> None:
    agent_id(master)
    master.send(kill_task("never-launched"))
    lost = master.wait_state("never-launched", "TASK_LOST")
    assert lost["source"] == "SOURCE_AGENT"


def test_task_over_its_memory_fails_with_the_memory_limitation(
    agent: Any, master: FakeMaster
) -> None:
    aid = agent_id(master)
    # 32 MB for the task (+32 MB executor allowance): allocating 512 MB must hit the limit.
    hog = "/usr/bin/python3 -c 'b = bytearray(512 * 1024 * 1024); import time; time.sleep(60)'"
    master.send(run_task(command_task("hog", hog, aid, mem=32.0)))
    failed = master.wait_state("hog", "TASK_FAILED", timeout=60)
    assert failed["reason"] == "REASON_CONTAINER_LIMITATION_MEMORY"
    assert failed["source"] == "SOURCE_AGENT"
    assert "TASK_FINISHED" not in master.states("hog")


def _executor_pid(work_dir: Path, executor_id: str) -> int:
    """The checkpointed pid of the executor's latest run."""
    (run,) = work_dir.glob(f"meta/slaves/latest/frameworks/*/executors/{executor_id}/runs/latest")
    return int(json.loads((run / "run.info").read_text())["pid"])


def test_agent_killed_and_restarted_recovers_its_running_task(
    agent: Any, master: FakeMaster, work_dir: Path
) -> None:
    aid = agent_id(master)
    master.send(run_task(command_task("survivor", "sleep 600", aid)))
    master.wait_state("survivor", "TASK_RUNNING")
    master.wait_for(lambda: all(master.deliveries[s["uuid"]] >= 2 for s in master.updates()))
    pid = _executor_pid(work_dir, "survivor")
    agent.kill(signal.SIGKILL)
    os.kill(pid, 0)  # the executor outlives its agent
    agent.start()
    again = master.wait_subscribed(count=2)
    assert again["agent_id"] == {"value": aid}
    assert again["subscribe"]["agent_info"]["id"] == {"value": aid}
    tasks = {t["task_id"]["value"]: t for t in again["subscribe"]["tasks"]}
    assert tasks["survivor"]["state"] == "TASK_RUNNING"
    assert _executor_pid(work_dir, "survivor") == pid
    os.kill(pid, 0)
    master.send(kill_task("survivor"))
    master.wait_state("survivor", "TASK_KILLED")


def test_executor_that_never_subscribes_times_out(
    start_agent: Any, master: FakeMaster, work_dir: Path
) -> None:
    with running_agent(start_agent, master.address, work_dir, executor_registration_timeout=2.0):
        aid = agent_id(master)
        task = command_task("mute", "true", aid)
        del task["command"]
        task["executor"] = {
            "executor_id": {"value": "mute-executor"},
            "command": {"value": "sleep 600"},  # never speaks the executor API
            "resources": [],
        }
        master.send(run_task(task))
        failed = master.wait_state("mute", "TASK_FAILED")
        assert failed["reason"] == "REASON_EXECUTOR_REGISTRATION_TIMEOUT"
        exited = master.wait_for(lambda: master.calls_of("EXITED_EXECUTOR"))
        assert exited[0]["exited_executor"]["executor_id"] == {"value": "mute-executor"}


def test_agent_after_a_reboot_starts_afresh_and_empties_the_old_containers(
    agent: Any, master: FakeMaster, work_dir: Path
) -> None:
    """A changed boot id: the old executors are killed (their cgroups emptied) and the agent
    subscribes without an id, so the master treats it as a new agent (old tasks GONE)."""
    aid = agent_id(master)
    master.send(run_task(command_task("pre-reboot", "sleep 600", aid)))
    master.wait_state("pre-reboot", "TASK_RUNNING")
    pid = _executor_pid(work_dir, "pre-reboot")
    agent.kill(signal.SIGKILL)
    os.kill(pid, 0)
    # The checkpointed boot id no longer matches the kernel's: the machine "rebooted".
    (work_dir / "meta" / "boot_id").write_text("00000000-0000-0000-0000-000000000000")
    agent.start()
    again = master.wait_subscribed(count=2)
    assert "agent_id" not in again and "id" not in again["subscribe"]["agent_info"]
    assert again["subscribe"]["tasks"] == []

    def reaped() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"

    master.wait_for(reaped, timeout=15)
