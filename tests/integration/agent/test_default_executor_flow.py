"""The default executor process (task groups) against the fake agent of the command executor's
flow tests: a sandbox per task, Mesos' kill-the-group policy, groups independent of each other,
KILL with its policy, SHUTDOWN, LAUNCH refused, re-subscription listing unacknowledged tasks.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_command_executor_flow import FakeAgent, executor_starter

import daemons.agent.executors

pytestmark = pytest.mark.integration

SCRIPT = Path(daemons.agent.executors.__file__).parent / "default.py"
JSON = dict[str, Any]


@pytest.fixture
def agent() -> Iterator[FakeAgent]:
    fake = FakeAgent()
    yield fake
    fake.close()


@pytest.fixture
def start(agent: FakeAgent, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    with executor_starter(agent, tmp_path, SCRIPT) as run:
        yield run


def group(*tasks: tuple[str, JSON]) -> JSON:
    infos = [{"task_id": {"value": t}, "name": t, "command": c} for t, c in tasks]
    return {"type": "LAUNCH_GROUP", "launch_group": {"task_group": {"tasks": infos}}}


def states(agent: FakeAgent, task_id: str) -> list[str]:
    with agent.cond:
        return [s["state"] for s in agent.statuses if s["task_id"] == {"value": task_id}]


def wait_last(agent: FakeAgent, task_id: str, state: str) -> JSON:
    agent.wait_for(lambda: states(agent, task_id)[-1:] == [state])
    return [s for s in agent.statuses if s["task_id"] == {"value": task_id}][-1]


def ack_all(agent: FakeAgent) -> None:
    with agent.cond:
        statuses = list(agent.statuses)
    for status in statuses:
        agent.ack(status)


def test_a_group_runs_each_task_in_its_own_sandbox_and_exits_after_the_acks(
    agent: FakeAgent, start: Callable[..., Any], tmp_path: Path
) -> None:
    executor = start()
    where = {"value": 'echo "$MESOS_SANDBOX $MESOS_TASK_ID $(pwd)"; echo oops >&2'}
    agent.send(group(("a", where), ("b", {"value": "sleep 0.3"})))
    wait_last(agent, "a", "TASK_FINISHED")
    wait_last(agent, "b", "TASK_FINISHED")
    for task_id in ("a", "b"):
        assert states(agent, task_id) == ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"]
    sandbox = tmp_path / "tasks" / "a"
    assert (sandbox / "stdout").read_text() == f"{sandbox} a {sandbox}\n"
    assert (sandbox / "stderr").read_text() == "oops\n"
    assert (tmp_path / "tasks" / "b" / "stdout").exists()
    with agent.cond:
        statuses = list(agent.statuses)
    for status in statuses[:-1]:
        agent.ack(status)
    refused = agent.handled_so_far("marker")  # the ACKNOWLEDGEDs too: an exit would have come
    assert executor.poll() is None  # one terminal update is still unacknowledged
    agent.ack(refused)
    agent.ack(statuses[-1])
    assert executor.wait(10) == 0


def test_a_task_that_cannot_start_fails_and_its_group_is_killed(
    agent: FakeAgent, start: Callable[..., Any]
) -> None:
    executor = start()
    missing = {"shell": False, "value": "/nonexistent/program", "arguments": ["program"]}
    agent.send(group(("bad", missing), ("good", {"value": "sleep 60"})))
    failed = wait_last(agent, "bad", "TASK_FAILED")
    assert failed["reason"] == "REASON_CONTAINER_LAUNCH_FAILED"
    assert "Failed to launch the command" in failed["message"]
    killed = wait_last(agent, "good", "TASK_KILLED")
    assert states(agent, "good") == ["TASK_STARTING", "TASK_RUNNING", "TASK_KILLED"]
    assert "task bad of its group ended TASK_FAILED" in killed["message"]
    ack_all(agent)
    assert executor.wait(10) == 0


def test_a_finished_task_leaves_its_group_alone_and_groups_are_independent(
    agent: FakeAgent, start: Callable[..., Any]
) -> None:
    # With the killing capability, a kill's first sign is TASK_KILLING, sent while the executor
    # handles the end that caused it: before anything it handles later says a word.
    executor = start(MESOS_TASK_KILLING_STATE="1")
    agent.send(group(("quick", {"value": "true"}), ("slow", {"value": "sleep 60"})))
    wait_last(agent, "quick", "TASK_FINISHED")
    agent.send(group(("other", {"value": "sleep 60"})))
    wait_last(agent, "other", "TASK_RUNNING")  # handled after quick's end
    assert states(agent, "slow") == ["TASK_STARTING", "TASK_RUNNING"]
    agent.send({"type": "KILL", "kill": {"task_id": {"value": "slow"}}})
    wait_last(agent, "slow", "TASK_KILLED")
    agent.handled_so_far("marker")  # handled after slow's end
    assert states(agent, "other") == ["TASK_STARTING", "TASK_RUNNING"]  # another group: not killed
    agent.send({"type": "KILL", "kill": {"task_id": {"value": "other"}}})
    wait_last(agent, "other", "TASK_KILLED")
    ack_all(agent)
    assert executor.wait(10) == 0


def test_kill_with_its_policy_sends_killing_then_killed_and_kills_the_group(
    agent: FakeAgent, start: Callable[..., Any], tmp_path: Path
) -> None:
    executor = start(MESOS_TASK_KILLING_STATE="1")
    stubborn = {"value": "trap '' TERM; touch ../../ready; sleep 60"}  # needs the SIGKILL
    agent.send(group(("stubborn", stubborn), ("mate", {"value": "sleep 60"})))
    wait_last(agent, "stubborn", "TASK_RUNNING")
    deadline = time.monotonic() + 10
    while not (tmp_path / "ready").exists():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    begin = time.monotonic()
    policy = {"grace_period": {"nanoseconds": 300_000_000}}
    kill = {"task_id": {"value": "stubborn"}, "kill_policy": policy}
    agent.send({"type": "KILL", "kill": kill})
    killed = wait_last(agent, "stubborn", "TASK_KILLED")
    assert time.monotonic() - begin >= 0.3
    assert killed["message"] == "Command terminated with signal Killed"
    assert states(agent, "stubborn")[-2:] == ["TASK_KILLING", "TASK_KILLED"]
    wait_last(agent, "mate", "TASK_KILLED")
    assert states(agent, "mate")[-2:] == ["TASK_KILLING", "TASK_KILLED"]
    ack_all(agent)
    assert executor.wait(10) == 0


def test_shutdown_kills_every_task_and_launch_is_refused(
    agent: FakeAgent, start: Callable[..., Any]
) -> None:
    executor = start()
    launch = {"task_id": {"value": "single"}, "name": "single", "command": {"value": "true"}}
    agent.send({"type": "LAUNCH", "launch": {"task": launch}})
    refused = wait_last(agent, "single", "TASK_FAILED")
    assert "LAUNCH_GROUP" in refused["message"]
    agent.send(group(("x", {"value": "sleep 60"})))
    agent.send(group(("y", {"value": "sleep 60"})))
    wait_last(agent, "y", "TASK_RUNNING")
    agent.send({"type": "SHUTDOWN"})
    wait_last(agent, "x", "TASK_KILLED")
    wait_last(agent, "y", "TASK_KILLED")
    ack_all(agent)
    assert executor.wait(10) == 0


def test_resubscribing_lists_the_unacknowledged_tasks_and_updates(
    agent: FakeAgent, start: Callable[..., Any]
) -> None:
    executor = start()
    agent.send(group(("acked", {"value": "sleep 60"})))
    wait_last(agent, "acked", "TASK_RUNNING")
    agent.ack(next(s for s in agent.statuses if s["task_id"] == {"value": "acked"}))
    agent.send(group(("unacked", {"value": "sleep 60"})))
    wait_last(agent, "unacked", "TASK_RUNNING")  # handled in order: the ACKNOWLEDGED came first
    port = agent.port
    agent.close()
    time.sleep(0.3)  # how long the agent stays down (a fault's duration)
    restarted = FakeAgent(port)
    try:
        restarted.wait_for(lambda: bool(restarted.subscribes))
        subscribe = restarted.subscribes[-1]
        assert [t["task_id"] for t in subscribe["unacknowledged_tasks"]] == [{"value": "unacked"}]
        assert len(subscribe["unacknowledged_updates"]) == 3  # acked: RUNNING; unacked: both
        restarted.send({"type": "SHUTDOWN"})
        wait_last(restarted, "acked", "TASK_KILLED")
        wait_last(restarted, "unacked", "TASK_KILLED")
        ack_all(restarted)
        assert executor.wait(10) == 0
    finally:
        restarted.close()
