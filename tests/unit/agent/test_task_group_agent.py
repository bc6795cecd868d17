"""Task groups, the agent's side: RUN_TASK_GROUP -> one default-executor container, LAUNCH_GROUP
on its stream, a later group added (container grown), kills of queued group members, `/state`.

The agent is real; its containerizer is a recording fake and executor streams are read with
`EventStream.pending()`: no process, no network.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daemons.agent import executor_api, master_events, state
from daemons.agent.agent import Agent
from daemons.agent.config import AgentConfig
from daemons.agent.containerizer.model import ContainerHandle, ContainerSpec
from daemons.agent.model import Executor, ExecutorKind, ExecutorState

JSON = dict[str, Any]
FID = "fw-1"


class FakeContainerizer:
    def __init__(self) -> None:
        self.launched: list[ContainerSpec] = []
        self.updates: list[tuple[str, float, float]] = []
        self.released = threading.Event()

    def launch(self, spec: ContainerSpec) -> ContainerHandle:
        self.launched.append(spec)
        return ContainerHandle(spec.container_id, 4242)

    def recover(self, container_id: str, pid: int) -> None:
        return None

    def update(self, container_id: str, cpus: float, mem_mb: float, pids_max: int | None) -> None:
        self.updates.append((container_id, cpus, mem_mb))

    def wait(self, container_id: str, timeout: float | None = None) -> None:
        self.released.wait()  # containers never exit in these tests

    def destroy(self, container_id: str, grace_period: float = 0.0) -> None:
        pass

    def limitation(self, container_id: str) -> str | None:
        return None

    def usage(self, container_id: str) -> dict[str, float]:
        return {}

    def containers(self) -> list[str]:
        return []


@pytest.fixture
def containerizer() -> Iterator[FakeContainerizer]:
    fake = FakeContainerizer()
    yield fake
    fake.released.set()


@pytest.fixture
def agent(tmp_path: Path, containerizer: FakeContainerizer) -> Iterator[Agent]:
    config = AgentConfig(master="127.0.0.1:5050", work_dir=str(tmp_path))
    agent = Agent(config, containerizer, base_environment={"PATH": "/bin"}, boot_id="boot")
    agent.agent_id = "A-S0"
    agent.recovered = True
    yield agent
    agent.monitor.stop()
    for framework in agent.frameworks.values():
        for executor in framework.executors.values():
            executor.cancel_timer()


def resources(cpus: float, mem: float) -> list[JSON]:
    return [
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus}},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": mem}},
    ]


def task(task_id: str, command: str = "sleep 60") -> JSON:
    return {
        "task_id": {"value": task_id},
        "name": task_id,
        "agent_id": {"value": "A-S0"},
        "resources": resources(0.5, 64),
        "command": {"value": command},
    }


def run_task_group(executor_id: str, *tasks: JSON, **executor_extra: Any) -> JSON:
    executor = {
        "executor_id": {"value": executor_id},
        "type": "DEFAULT",
        "resources": resources(0.1, 32),
        **executor_extra,
    }
    return {
        "type": "RUN_TASK_GROUP",
        "run_task_group": {
            "framework_info": {"id": {"value": FID}, "user": "root", "name": "fw"},
            "executor": executor,
            "task_group": {"tasks": list(tasks)},
        },
    }


def executor_of(agent: Agent, executor_id: str) -> Executor:
    executor = agent.executor(FID, executor_id)
    assert executor is not None
    return executor


def subscribe(agent: Agent, executor_id: str) -> list[JSON]:
    """The executor SUBSCRIBEs; the events queued on its stream behind SUBSCRIBED."""
    stream, first = executor_api.subscribe(agent, FID, executor_id, {})
    assert first["type"] == "SUBSCRIBED"
    return stream.pending()


def launched_ids(event: JSON) -> list[str]:
    assert event["type"] == "LAUNCH_GROUP", event
    return [t["task_id"]["value"] for t in event["launch_group"]["task_group"]["tasks"]]


def test_a_group_gets_one_default_executor_container_sized_for_all(
    agent: Agent, containerizer: FakeContainerizer
) -> None:
    master_events.handle_event(agent, run_task_group("pod", task("a"), task("b")))
    (spec,) = containerizer.launched
    assert spec.argv == agent.default_argv
    # executor 0.1 + 2 * 0.5 cpus; 32 + 2 * 64 MB
    assert (spec.cpus, spec.mem_mb) == (1.1, 160.0)
    assert spec.environment["MESOS_EXECUTOR_ID"] == "pod"
    executor = executor_of(agent, "pod")
    assert executor.kind is ExecutorKind.DEFAULT
    assert executor.resources == resources(0.1, 32)  # accounted by the master for the executor
    assert {t.group for t in executor.tasks.values()} == {"a"}
    assert [launched_ids(e) for e in subscribe(agent, "pod")] == [["a", "b"]]


def test_state_shows_a_default_executor_with_its_tasks(agent: Agent) -> None:
    master_events.handle_event(agent, run_task_group("pod", task("a"), task("b")))
    executor = executor_of(agent, "pod")
    queued = state.executor_state_json(agent, executor)
    assert queued["type"] == "DEFAULT"
    assert [t["id"] for t in queued["queued_tasks"]] == ["a", "b"]
    subscribe(agent, "pod")
    shown = state.executor_state_json(agent, executor)
    assert [t["id"] for t in shown["tasks"]] == ["a", "b"]
    assert {t["executor_id"] for t in shown["tasks"]} == {"pod"}
    assert shown["resources"]["cpus"] == pytest.approx(1.1)
    subscribe_payload = state.subscribe_payload(agent)
    assert [e["executor_id"] for e in subscribe_payload["executors"]] == [{"value": "pod"}]


def test_a_later_group_joins_the_running_executor_and_grows_its_container(
    agent: Agent, containerizer: FakeContainerizer
) -> None:
    master_events.handle_event(agent, run_task_group("pod", task("a")))
    subscribe(agent, "pod")
    executor = executor_of(agent, "pod")
    assert executor.stream is not None
    master_events.handle_event(agent, run_task_group("pod", task("b"), task("c")))
    assert len(containerizer.launched) == 1
    # executor 0.1 + 3 * 0.5 cpus; 32 + 3 * 64 MB
    assert containerizer.updates == [(executor.container_id, 1.6, 224.0)]
    assert [launched_ids(e) for e in executor.stream.pending()] == [["b", "c"]]
    assert executor.tasks["b"].group == executor.tasks["c"].group == "b"


def test_groups_queued_before_the_subscription_are_launched_separately(agent: Agent) -> None:
    master_events.handle_event(agent, run_task_group("pod", task("a")))
    master_events.handle_event(agent, run_task_group("pod", task("b"), task("c")))
    assert [launched_ids(e) for e in subscribe(agent, "pod")] == [["a"], ["b", "c"]]


def test_killing_a_queued_task_kills_its_whole_group_only(agent: Agent) -> None:
    master_events.handle_event(agent, run_task_group("pod", task("a"), task("b")))
    master_events.handle_event(agent, run_task_group("pod", task("c")))
    kill = {"framework_id": {"value": FID}, "task_id": {"value": "a"}}
    master_events.handle_event(agent, {"type": "KILL_TASK", "kill_task": kill})
    executor = executor_of(agent, "pod")
    assert {t: executor.tasks[t].state for t in "abc"} == {
        "a": "TASK_KILLED",
        "b": "TASK_KILLED",
        "c": "TASK_STAGING",
    }
    assert executor.state is ExecutorState.REGISTERING  # c still needs it
    assert [launched_ids(e) for e in subscribe(agent, "pod")] == [["c"]]


def test_a_custom_group_executor_runs_the_frameworks_command(
    agent: Agent, containerizer: FakeContainerizer
) -> None:
    event = run_task_group("mine", task("a"), type="CUSTOM", command={"value": "./my-executor"})
    master_events.handle_event(agent, event)
    (spec,) = containerizer.launched
    assert list(spec.argv) == ["/bin/sh", "-c", "./my-executor"]
    assert executor_of(agent, "mine").kind is ExecutorKind.CUSTOM
    assert [launched_ids(e) for e in subscribe(agent, "mine")] == [["a"]]


def test_a_group_for_a_terminating_executor_is_lost(agent: Agent) -> None:
    master_events.handle_event(agent, run_task_group("pod", task("a")))
    executor = executor_of(agent, "pod")
    executor.state = ExecutorState.TERMINATING
    master_events.handle_event(agent, run_task_group("pod", task("b")))
    assert "b" not in executor.tasks
    stream = agent.updates.get(FID, "b")
    assert stream is not None
    assert stream.latest_state == "TASK_LOST"


def test_a_group_with_a_task_the_agent_has_is_ignored(
    agent: Agent, containerizer: FakeContainerizer
) -> None:
    master_events.handle_event(agent, run_task_group("pod", task("a")))
    master_events.handle_event(agent, run_task_group("other", task("b"), task("a")))
    assert len(containerizer.launched) == 1
    assert agent.executor(FID, "other") is None
