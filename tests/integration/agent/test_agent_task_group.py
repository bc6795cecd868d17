"""Task groups (LAUNCH_GROUP) end to end: a real master and agent, the project's own scheduler
client, the built-in default executor.

- a group of two tasks: both TASK_FINISHED, each with its stdout in `<executor dir>/tasks/<id>/`,
  the executor shown as `type: DEFAULT` with both tasks;
- a group whose first task fails: the other is killed, no process is left in the agent's cgroups;
- a second group joins the running executor; KILL of one task ends its group only;
- a running group survives a `kill -9` and restart of the agent, and can be killed afterwards;
- every time, the master's used resources go back to 0 (tasks and executor released).
"""

from __future__ import annotations

import queue
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from daemons.mesos_client import (
    Event,
    Offer,
    Offers,
    SchedulerClient,
    TaskStatus,
    Update,
    calls,
    command_task,
    task_resources,
)
from tests.integration.e2e.e2e_cluster import (
    AGENT_CONFIG,
    CGROUPS,
    MASTER_CONFIG,
    Cluster,
    container_cgroups,
    container_pids,
    get_json,
    wait_for,
)

pytestmark = pytest.mark.integration

JSON = dict[str, Any]


@pytest.fixture
def cluster(work_root: Path, start_master: Any, start_agent: Any) -> Cluster:
    """A master and one registered agent. `work_root` comes first so that it is removed after
    the `daemons` fixture has stopped the daemons and killed their cgroups."""
    c = Cluster(start_master(**MASTER_CONFIG))
    work_dir = work_root / "agent"
    work_dir.mkdir(mode=0o755)
    work_dir.chmod(0o755)
    c.agents.append(start_agent(**{**AGENT_CONFIG, "work_dir": str(work_dir)}))
    c.wait_registered(1)
    return c


class GroupFramework:
    """A SchedulerClient that keeps every update (acknowledged by the client) and the offers."""

    def __init__(self, cluster: Cluster) -> None:
        self.offers: queue.SimpleQueue[Offer] = queue.SimpleQueue()
        self.updates: list[TaskStatus] = []
        self.lock = threading.Lock()
        info = {"user": "root", "name": "task-group-test", "failover_timeout": 0.0}
        address = f"127.0.0.1:{cluster.master.port}"
        self.client = SchedulerClient(address, info, on_event=self.on_event)

    def on_event(self, event: Event) -> None:
        if isinstance(event, Offers):
            for offer in event.offers:
                self.offers.put(offer)
        elif isinstance(event, Update):
            with self.lock:
                self.updates.append(event.status)

    def states(self, task_id: str) -> list[str]:
        with self.lock:
            return [s.state for s in self.updates if s.task_id == task_id]

    def last(self, task_id: str) -> TaskStatus:
        with self.lock:
            return [s for s in self.updates if s.task_id == task_id][-1]

    def wait_terminal(self, *task_ids: str, timeout: float = 20.0) -> dict[str, str]:
        def terminal() -> dict[str, str] | None:
            last = {t: self.states(t)[-1] if self.states(t) else "" for t in task_ids}
            done = all(s in ("TASK_FINISHED", "TASK_FAILED", "TASK_KILLED") for s in last.values())
            return last if done else None

        result: dict[str, str] = wait_for(terminal, timeout, f"terminal states of {task_ids}")
        return result

    def launch_group(self, executor_id: str, tasks: list[tuple[str, str]]) -> str:
        """Accept the next offer with one LAUNCH_GROUP of `(task_id, command)`; the agent id."""
        offer = self.offers.get(timeout=20)
        fid = self.client.framework_id
        assert fid is not None
        executor = {
            "executor_id": {"value": executor_id},
            "framework_id": {"value": fid},
            "type": "DEFAULT",
            "resources": task_resources(0.1, 32),
        }
        infos = [command_task(t, t, offer.agent_id, 0.1, 32, cmd) for t, cmd in tasks]
        op = calls.launch_group(executor, infos)
        self.client.accept([offer.id], [op], refuse_seconds=0.0)  # offer the rest again soon
        return offer.agent_id


@pytest.fixture
def framework(cluster: Cluster) -> Iterator[GroupFramework]:
    fw = GroupFramework(cluster)
    fw.client.start()
    try:
        assert fw.client.wait_subscribed(20)
        yield fw
    finally:
        fw.client.close(teardown=True)


def used_is_zero(cluster: Cluster) -> bool:
    (slave,) = cluster.state()["slaves"]
    return all(v == 0 for k, v in slave["used_resources"].items() if k != "ports")


def agent_executor(cluster: Cluster, executor_id: str) -> JSON:
    """The executor's entry in the agent's /state (running or completed)."""
    state = get_json(f"{cluster.agents[0].url}/state")
    for framework in state["frameworks"] + state["completed_frameworks"]:
        for executor in framework["executors"] + framework["completed_executors"]:
            if executor["id"] == executor_id:
                return dict(executor)
    raise AssertionError(f"executor {executor_id} not in the agent's state")


def read_file(cluster: Cluster, path: str) -> str:
    response = requests.get(
        f"{cluster.agents[0].url}/files/read", params={"path": path, "offset": "0"}, timeout=10
    )
    response.raise_for_status()
    return str(response.json()["data"])


def no_containers_left(cluster: Cluster) -> Callable[[], bool]:
    root = cluster.agents[0].config["cgroups_root"]
    return lambda: not container_pids(root) and not container_cgroups(root)


def test_a_group_of_two_tasks_finishes_with_a_sandbox_per_task(
    cluster: Cluster, framework: GroupFramework
) -> None:
    framework.launch_group("group-ok", [("sleeper", "sleep 1"), ("greeter", "echo hi")])
    assert framework.wait_terminal("sleeper", "greeter") == {
        "sleeper": "TASK_FINISHED",
        "greeter": "TASK_FINISHED",
    }
    for task_id in ("sleeper", "greeter"):
        assert framework.states(task_id) == ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"]
        assert framework.last(task_id).executor_id == "group-ok"
    executor = wait_for(
        lambda: (e := agent_executor(cluster, "group-ok"))["completed_tasks"] and e, 20
    )
    assert executor["type"] == "DEFAULT"
    assert sorted(t["id"] for t in executor["completed_tasks"]) == ["greeter", "sleeper"]
    assert {t["executor_id"] for t in executor["completed_tasks"]} == {"group-ok"}
    directory = executor["directory"]
    assert read_file(cluster, f"{directory}/tasks/greeter/stdout") == "hi\n"
    assert read_file(cluster, f"{directory}/tasks/sleeper/stdout") == ""
    assert "hi" not in read_file(cluster, f"{directory}/stdout")  # the executor's own output
    wait_for(lambda: used_is_zero(cluster), 20, "resources released on the master")
    wait_for(no_containers_left(cluster), 20, "the executor's container gone")


def test_a_failing_task_kills_the_rest_of_its_group(
    cluster: Cluster, framework: GroupFramework
) -> None:
    framework.launch_group("group-bad", [("failer", "sleep 0.5; exit 2"), ("waiter", "sleep 600")])
    assert framework.wait_terminal("failer", "waiter") == {
        "failer": "TASK_FAILED",
        "waiter": "TASK_KILLED",
    }
    assert framework.last("failer").message == "Command exited with status 2"
    assert "failer" in (framework.last("waiter").message or "")
    wait_for(no_containers_left(cluster), 20, "no process left in the agent's cgroups")
    wait_for(lambda: used_is_zero(cluster), 20, "resources released on the master")
    executor = agent_executor(cluster, "group-bad")
    assert executor["type"] == "DEFAULT"


def test_a_second_group_joins_the_executor_and_a_kill_ends_only_its_group(
    cluster: Cluster, framework: GroupFramework
) -> None:
    agent_id = framework.launch_group("shared", [("long", "sleep 600"), ("mate", "sleep 600")])
    wait_for(lambda: framework.states("mate")[-1:] == ["TASK_RUNNING"], 20, "first group running")
    framework.launch_group("shared", [("later", "sleep 600")])
    wait_for(lambda: framework.states("later")[-1:] == ["TASK_RUNNING"], 20, "second group running")
    executor = agent_executor(cluster, "shared")
    assert sorted(t["id"] for t in executor["tasks"]) == ["later", "long", "mate"]
    # one container, grown for the executor and all three tasks: 0.4 cpus, 128 MB
    assert executor["resources"]["cpus"] == pytest.approx(0.4)
    assert executor["resources"]["mem"] == pytest.approx(128)
    cgroup = f"{cluster.agents[0].config['cgroups_root']}/{executor['container']}"
    assert (CGROUPS / "cpu" / cgroup / "cpu.cfs_quota_us").read_text().strip() == "40000"
    memory = (CGROUPS / "memory" / cgroup / "memory.limit_in_bytes").read_text().strip()
    assert int(memory) == 128 * 1024 * 1024
    framework.client.kill("long", agent_id)
    assert framework.wait_terminal("long", "mate") == {
        "long": "TASK_KILLED",
        "mate": "TASK_KILLED",
    }
    assert framework.states("later")[-1] == "TASK_RUNNING"  # the other group runs on
    framework.client.kill("later", agent_id)
    assert framework.wait_terminal("later") == {"later": "TASK_KILLED"}
    wait_for(no_containers_left(cluster), 20, "the executor's container gone")
    wait_for(lambda: used_is_zero(cluster), 20, "resources released on the master")


def test_a_running_group_survives_an_agent_restart(
    cluster: Cluster, framework: GroupFramework
) -> None:
    agent_id = framework.launch_group("durable", [("one", "sleep 600"), ("two", "sleep 600")])
    wait_for(lambda: framework.states("two")[-1:] == ["TASK_RUNNING"], 20, "group running")
    container = agent_executor(cluster, "durable")["container"]
    agent = cluster.agents[0]
    agent.kill(signal.SIGKILL)
    agent.restart()
    # the executor re-subscribed to the restarted agent, which re-registered with the same id
    wait_for(lambda: cluster.agent_id(agent) == agent_id, 20, "agent re-registered")
    recovered = wait_for(
        lambda: (e := agent_executor(cluster, "durable"))["tasks"] and e, 20, "recovered executor"
    )
    assert recovered["container"] == container and recovered["type"] == "DEFAULT"
    assert sorted(t["id"] for t in recovered["tasks"]) == ["one", "two"]
    framework.client.kill("two", agent_id)
    assert framework.wait_terminal("one", "two") == {"one": "TASK_KILLED", "two": "TASK_KILLED"}
    wait_for(no_containers_left(cluster), 20, "the executor's container gone")
    wait_for(lambda: used_is_zero(cluster), 20, "resources released on the master")
