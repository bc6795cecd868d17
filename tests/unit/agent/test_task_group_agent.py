"""Task groups, the agent's side: RUN_TASK_GROUP -> one default-executor container, LAUNCH_GROUP
on its stream, a later group added (container grown), kills of queued group members, `/state`.

The agent's state is driven with no thread: the plans say what would be launched, resized and
sent (tests/unit/agent/state_harness.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from daemons.agent import state
from daemons.agent.agent import Agent
from daemons.agent.model import Executor, ExecutorKind, ExecutorState
from daemons.agent.plan import LaunchContainer, ResizeContainer, SendExecutor
from daemons.protocols.resources import from_v1
from tests.unit.agent.state_harness import (
    FID,
    FRAMEWORK_INFO,
    handle,
    kill_task,
    launch,
    make_agent,
    of,
    resources,
    subscribe,
    task,
)

JSON = dict[str, Any]


@pytest.fixture
def agent(tmp_path: Path) -> Agent:
    return make_agent(tmp_path)


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
            "framework_info": FRAMEWORK_INFO,
            "executor": executor,
            "task_group": {"tasks": list(tasks)},
        },
    }


def executor_of(agent: Agent, executor_id: str) -> Executor:
    executor = agent.executor(FID, executor_id)
    assert executor is not None
    return executor


def launched_ids(event: JSON) -> list[str]:
    assert event["type"] == "LAUNCH_GROUP", event
    return [t["task_id"]["value"] for t in event["launch_group"]["task_group"]["tasks"]]


def test_a_group_gets_one_default_executor_container_sized_for_all(agent: Agent) -> None:
    started, _ = launch(agent, run_task_group("pod", task("a"), task("b")))
    spec = started.spec
    assert list(spec.argv) == agent.default_argv
    # executor 0.1 + 2 * 0.5 cpus; 32 + 2 * 64 MB
    assert (spec.cpus, spec.mem_mb) == (1.1, 160.0)
    assert spec.environment["MESOS_EXECUTOR_ID"] == "pod"
    executor = executor_of(agent, "pod")
    assert executor.kind is ExecutorKind.DEFAULT
    # accounted by the master for the executor
    assert executor.resources == from_v1(resources(0.1, 32))
    assert {t.group for t in executor.tasks.values()} == {"a"}
    _, events = subscribe(agent, "pod")
    assert [launched_ids(e) for e in events] == [["a", "b"]]


def test_state_shows_a_default_executor_with_its_tasks(agent: Agent) -> None:
    launch(agent, run_task_group("pod", task("a"), task("b")))
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


def test_a_later_group_joins_the_running_executor_and_grows_its_container_first(
    agent: Agent,
) -> None:
    launch(agent, run_task_group("pod", task("a")))
    stream, _ = subscribe(agent, "pod")
    executor = executor_of(agent, "pod")
    handle(agent, run_task_group("pod", task("b"), task("c")))
    plan = agent.take_plan()
    assert of(plan, LaunchContainer) == []
    # executor 0.1 + 3 * 0.5 cpus; 32 + 3 * 64 MB, written before the group reaches the executor
    resize, handover = plan
    assert resize == ResizeContainer(executor.container_id, 1.6, 224.0, 1024)
    assert isinstance(handover, SendExecutor) and handover.stream is stream
    assert launched_ids(handover.event) == ["b", "c"]
    assert executor.tasks["b"].group == executor.tasks["c"].group == "b"


def test_groups_queued_before_the_subscription_are_launched_separately(agent: Agent) -> None:
    launch(agent, run_task_group("pod", task("a")))
    handle(agent, run_task_group("pod", task("b"), task("c")))
    agent.take_plan()
    _, events = subscribe(agent, "pod")
    assert [launched_ids(e) for e in events] == [["a"], ["b", "c"]]


def test_killing_a_queued_task_kills_its_whole_group_only(agent: Agent) -> None:
    launch(agent, run_task_group("pod", task("a"), task("b")))
    handle(agent, run_task_group("pod", task("c")))
    handle(agent, kill_task("a"))
    executor = executor_of(agent, "pod")
    assert {t: executor.tasks[t].state for t in "abc"} == {
        "a": "TASK_KILLED",
        "b": "TASK_KILLED",
        "c": "TASK_STAGING",
    }
    assert executor.state is ExecutorState.REGISTERING  # c still needs it
    agent.take_plan()
    _, events = subscribe(agent, "pod")
    assert [launched_ids(e) for e in events] == [["c"]]


def test_a_custom_group_executor_runs_the_frameworks_command(agent: Agent) -> None:
    event = run_task_group("mine", task("a"), type="CUSTOM", command={"value": "./my-executor"})
    started, _ = launch(agent, event)
    assert list(started.spec.argv) == ["/bin/sh", "-c", "./my-executor"]
    assert executor_of(agent, "mine").kind is ExecutorKind.CUSTOM
    _, events = subscribe(agent, "mine")
    assert [launched_ids(e) for e in events] == [["a"]]


def test_a_group_for_a_terminating_executor_is_lost(agent: Agent) -> None:
    launch(agent, run_task_group("pod", task("a")))
    executor = executor_of(agent, "pod")
    executor.state = ExecutorState.TERMINATING
    handle(agent, run_task_group("pod", task("b")))
    assert "b" not in executor.tasks
    stream = agent.updates.get(FID, "b")
    assert stream is not None
    assert stream.latest_state == "TASK_LOST"


def test_a_group_with_a_task_the_agent_has_is_ignored(agent: Agent) -> None:
    launch(agent, run_task_group("pod", task("a")))
    handle(agent, run_task_group("other", task("b"), task("a")))
    assert of(agent.take_plan(), LaunchContainer) == []
    assert agent.executor(FID, "other") is None
