"""The agent's state and its transitions, driven with no thread: a task's life from RUN_TASK to
its acknowledged terminal update, executor exits, timeouts, kills and recovery, each read off
the plan a transition emits and the checkpoints it wrote (tests/unit/agent/state_harness.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from daemons.agent import containers, master_events, recovery
from daemons.agent.agent import Agent
from daemons.agent.checkpoint import Checkpoints
from daemons.agent.messages import Subscribed
from daemons.agent.model import ExecutorState
from daemons.agent.plan import (
    CancelTimer,
    CloseStream,
    DestroyContainer,
    LaunchContainer,
    RegistrationTimeout,
    SendExecutor,
    SendMaster,
    WatchContainer,
)
from daemons.agent.protocol import MEMORY_LIMITATION
from daemons.kit.errors import ServiceUnavailable
from daemons.protocols.fields import b64
from tests.unit.agent.state_harness import (
    AGENT_ID,
    COMMAND_ARGV,
    FID,
    Clock,
    acknowledge,
    executor_status,
    handle,
    kill_task,
    launch,
    make_agent,
    of,
    run_task,
    sent,
    subscribe,
    task,
    update,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def agent(tmp_path: Path, clock: Clock) -> Agent:
    return make_agent(tmp_path, clock)


def run_info(agent: Agent, executor_id: str, container_id: str) -> dict[str, object]:
    path = agent.checkpoints.run_dir(AGENT_ID, FID, executor_id, container_id) / "run.info"
    info: dict[str, object] = json.loads(path.read_text())
    return info


def due_states(agent: Agent, clock: Clock) -> list[tuple[str, str]]:
    """(task, state) of the updates the forwarder would send to the master now."""
    return [(s.task_id, s.state) for _, s in agent.updates.due(clock.mono)]


def test_run_task_checkpoints_the_executor_then_asks_for_its_container(agent: Agent) -> None:
    handle(agent, run_task(task("t1")))
    (started,) = agent.take_plan()
    assert isinstance(started, LaunchContainer)
    assert (started.framework_id, started.executor_id) == (FID, "t1")
    assert list(started.spec.argv) == COMMAND_ARGV
    assert started.spec.environment["MESOS_TASK_ID"] == "t1"
    executor = agent.executor(FID, "t1")
    assert executor is not None and executor.state is ExecutorState.REGISTERING
    assert executor.container_id == started.spec.container_id
    # Everything recovery needs is on disk before the container exists (no pid yet).
    info = run_info(agent, "t1", executor.container_id)
    assert info["pid"] is None and info["kind"] == "command"
    task_dir = agent.checkpoints.task_dir(AGENT_ID, FID, "t1", executor.container_id, "t1")
    assert (task_dir / "task.info").exists()


def test_a_launched_container_has_its_pid_checkpointed_is_watched_and_has_a_deadline(
    agent: Agent,
) -> None:
    started, plan = launch(agent, run_task(task("t1")), pid=4242)
    cid = started.spec.container_id
    assert run_info(agent, "t1", cid)["pid"] == 4242
    assert plan == [WatchContainer(cid), RegistrationTimeout(FID, "t1", cid, 60.0)]
    assert agent.counters["executors_launched"] == 1


def test_the_subscribed_executor_gets_its_task_and_its_deadline_is_cancelled(
    agent: Agent,
) -> None:
    launch(agent, run_task(task("t1")))
    stream, events = subscribe(agent, "t1")
    assert [e["type"] for e in events] == ["LAUNCH"]
    assert events[0]["launch"]["task"]["task_id"] == {"value": "t1"}
    executor = agent.executor(FID, "t1")
    assert executor is not None and executor.state is ExecutorState.RUNNING
    assert executor.stream is stream and executor.tasks["t1"].launched


def test_an_executor_update_is_checkpointed_queued_for_the_master_then_acknowledged(
    agent: Agent, clock: Clock
) -> None:
    started, _ = launch(agent, run_task(task("t1")))
    stream, _ = subscribe(agent, "t1")
    running = executor_status("t1", "TASK_RUNNING", 1)
    update(agent, "t1", running)
    assert sent(agent.take_plan(), stream) == [
        {
            "type": "ACKNOWLEDGED",
            "acknowledged": {"task_id": {"value": "t1"}, "uuid": running["uuid"]},
        }
    ]
    assert due_states(agent, clock) == [("t1", "TASK_RUNNING")]
    cid = started.spec.container_id
    snapshot = agent.checkpoints.task_dir(AGENT_ID, FID, "t1", cid, "t1") / "task.updates"
    assert json.loads(snapshot.read_text())["pending"][0]["uuid"] == running["uuid"]
    executor = agent.executor(FID, "t1")
    assert executor is not None and executor.tasks["t1"].state == "TASK_RUNNING"
    status = agent.updates.get(FID, "t1")
    assert status is not None
    head = status.pending[0]
    assert (head.agent_id, head.source, head.executor_id) == (AGENT_ID, "SOURCE_EXECUTOR", "t1")
    # What goes to the master (and into task.updates): the executor's status, the agent's
    # fields set.
    assert head.raw["agent_id"] == {"value": AGENT_ID} and head.raw["source"] == "SOURCE_EXECUTOR"
    assert head.raw["container_status"] == {"container_id": {"value": cid}, "executor_pid": 4242}


def test_the_same_update_twice_is_recorded_once_and_acknowledged_twice(agent: Agent) -> None:
    launch(agent, run_task(task("t1")))
    stream, _ = subscribe(agent, "t1")
    running = executor_status("t1", "TASK_RUNNING", 1)
    update(agent, "t1", running)
    update(agent, "t1", running)
    assert [e["type"] for e in sent(agent.take_plan(), stream)] == ["ACKNOWLEDGED"] * 2
    assert agent.counters["valid_status_updates"] == 1


def test_an_ack_of_the_terminal_update_completes_the_task_and_the_exited_executor(
    agent: Agent, clock: Clock
) -> None:
    started, _ = launch(agent, run_task(task("t1")))
    subscribe(agent, "t1")
    finished = executor_status("t1", "TASK_FINISHED", 1)
    update(agent, "t1", finished)
    containers.exited(agent, started.spec.container_id, 0, None)
    executor = agent.executor(FID, "t1")
    assert executor is not None and executor.state is ExecutorState.TERMINATED  # awaits the ACK
    handle(agent, acknowledge("t1", str(finished["uuid"])))
    assert agent.executor(FID, "t1") is None
    assert [t.task_id for t in executor.completed_tasks] == ["t1"]
    assert agent.frameworks == {} and [f.framework_id for f in agent.completed_frameworks] == [FID]
    assert due_states(agent, clock) == []
    # Nothing of the run is left to recover.
    assert not agent.checkpoints.run_dir(AGENT_ID, FID, "t1", started.spec.container_id).exists()


def test_an_executor_that_exits_fails_its_unfinished_tasks(agent: Agent, clock: Clock) -> None:
    started, _ = launch(agent, run_task(task("t1")))
    stream, _ = subscribe(agent, "t1")
    cid = started.spec.container_id
    containers.exited(agent, cid, 256, None)
    plan = agent.take_plan()
    assert plan[0] == CancelTimer(cid) and CloseStream(stream) in plan
    assert of(plan, SendMaster)[0].call["exited_executor"]["status"] == 256
    assert plan[-1] == DestroyContainer(cid)
    status = agent.updates.get(FID, "t1")
    assert status is not None
    failed = status.pending[-1]
    assert (failed.state, failed.reason, failed.source) == (
        "TASK_FAILED",
        "REASON_EXECUTOR_TERMINATED",
        "SOURCE_AGENT",
    )
    assert failed.message == "Executor exited with status 256"
    assert run_info(agent, "t1", cid)["completed"] is True


def test_an_executor_over_its_memory_fails_its_tasks_with_the_limitation(agent: Agent) -> None:
    started, _ = launch(agent, run_task(task("t1")))
    subscribe(agent, "t1")
    containers.exited(agent, started.spec.container_id, 9, MEMORY_LIMITATION, "OOM")
    status = agent.updates.get(FID, "t1")
    assert status is not None
    assert (status.latest_state, status.pending[-1].reason) == ("TASK_FAILED", MEMORY_LIMITATION)


def test_an_executor_that_never_subscribes_is_destroyed_and_its_tasks_fail(agent: Agent) -> None:
    started, _ = launch(agent, run_task(task("t1")))
    cid = started.spec.container_id
    containers.registration_timed_out(agent, FID, "t1", cid)
    assert agent.take_plan() == [CancelTimer(cid), DestroyContainer(cid)]
    containers.exited(agent, cid, 9, None)
    status = agent.updates.get(FID, "t1")
    assert status is not None
    assert status.pending[-1].reason == "REASON_EXECUTOR_REGISTRATION_TIMEOUT"


def test_a_kill_goes_to_the_executor_and_a_kill_of_an_unknown_task_is_lost(
    agent: Agent, clock: Clock
) -> None:
    launch(agent, run_task(task("t1")))
    stream, _ = subscribe(agent, "t1")
    handle(agent, kill_task("t1"))
    assert sent(agent.take_plan(), stream) == [
        {"type": "KILL", "kill": {"task_id": {"value": "t1"}}}
    ]
    handle(agent, kill_task("nobody"))
    assert ("nobody", "TASK_LOST") in due_states(agent, clock)


def test_shutdown_sends_shutdown_and_destroys_after_the_grace_period(agent: Agent) -> None:
    started, _ = launch(agent, run_task(task("t1")))
    stream, _ = subscribe(agent, "t1")
    cid = started.spec.container_id
    shutdown = {"framework_id": {"value": FID}, "executor_id": {"value": "t1"}}
    handle(agent, {"type": "SHUTDOWN_EXECUTOR", "shutdown_executor": shutdown})
    assert agent.take_plan() == [
        CancelTimer(cid),
        SendExecutor(stream, {"type": "SHUTDOWN"}),
        DestroyContainer(cid, after=5.0),
    ]


def test_a_launch_that_fails_fails_its_tasks(agent: Agent) -> None:
    handle(agent, run_task(task("t1")))
    (started,) = agent.take_plan()
    assert isinstance(started, LaunchContainer)
    containers.launch_failed(agent, FID, "t1", started.spec.container_id, "no such user")
    status = agent.updates.get(FID, "t1")
    assert status is not None
    failed = status.pending[-1]
    assert (failed.state, failed.reason) == ("TASK_FAILED", "REASON_CONTAINER_LAUNCH_FAILED")
    assert failed.message == "Failed to launch container: no such user"
    assert of(agent.take_plan(), SendMaster)[0].call["type"] == "EXITED_EXECUTOR"


def test_subscribed_checkpoints_the_agent_id_and_resends_every_head(
    tmp_path: Path, clock: Clock
) -> None:
    agent = make_agent(tmp_path, clock)
    agent.agent_id = None
    master_events.subscribed(agent, Subscribed("A-S7"))
    assert agent.agent_id == "A-S7"
    assert Checkpoints(tmp_path).latest_agent() == ("A-S7", agent.agent_info())
    assert Checkpoints(tmp_path).boot_id() == "boot-1"


# --- recovery ---------------------------------------------------------------------------------


def checkpointed_run(tmp_path: Path, clock: Clock) -> tuple[str, str]:
    """A previous run that launched t1 (pid 4242) and got TASK_RUNNING from it; (cid, uuid)."""
    first = make_agent(tmp_path, clock)
    first.checkpoints.write_boot_id("boot-1")
    first.checkpoints.write_agent(AGENT_ID, first.agent_info())
    started, _ = launch(first, run_task(task("t1")))
    subscribe(first, "t1")
    running = executor_status("t1", "TASK_RUNNING", 1)
    update(first, "t1", running)
    return started.spec.container_id, str(running["uuid"])


def test_recovery_re_attaches_a_live_executor_and_resends_its_unacknowledged_update(
    tmp_path: Path, clock: Clock
) -> None:
    cid, uuid = checkpointed_run(tmp_path, clock)
    agent = make_agent(tmp_path, clock)
    agent.agent_id = None
    found = recovery.read(agent.checkpoints, "boot-1", recovery.RECONNECT)
    assert found is not None and found.agent_id == AGENT_ID
    waiting = recovery.restore(agent, found, {cid: 4242}, [cid, "orphan"])
    assert [e.container_id for e in waiting] == [cid]
    assert waiting[0].state is ExecutorState.RECOVERING and waiting[0].pid == 4242
    assert agent.take_plan() == [WatchContainer(cid), DestroyContainer("orphan")]
    status = agent.updates.get(FID, "t1")
    assert status is not None and status.pending[0].uuid is not None
    assert b64(status.pending[0].uuid) == uuid
    recovery.reregistration_timed_out(agent, waiting)
    assert agent.take_plan() == [CancelTimer(cid), DestroyContainer(cid)]


def test_recovery_fails_the_tasks_of_an_executor_that_died_meanwhile(
    tmp_path: Path, clock: Clock
) -> None:
    checkpointed_run(tmp_path, clock)
    agent = make_agent(tmp_path, clock)
    found = recovery.read(agent.checkpoints, "boot-1", recovery.RECONNECT)
    assert found is not None
    assert recovery.restore(agent, found, {}, []) == []
    status = agent.updates.get(FID, "t1")
    assert status is not None
    assert status.pending[-1].message == "Executor terminated while the agent was down"


def test_recovery_after_a_reboot_or_a_cleanup_starts_afresh(tmp_path: Path, clock: Clock) -> None:
    checkpointed_run(tmp_path, clock)
    checkpoints = Checkpoints(tmp_path)
    assert recovery.read(checkpoints, "boot-2", recovery.RECONNECT) is None
    assert recovery.read(checkpoints, "boot-1", recovery.RECONNECT) is not None
    assert recovery.read(checkpoints, "boot-1", recovery.CLEANUP) is None
    assert recovery.read(checkpoints, "boot-1", recovery.RECONNECT) is None  # forgotten
    agent = make_agent(tmp_path, clock)
    recovery.start_afresh(agent, ["old"])
    assert agent.take_plan() == [DestroyContainer("old")]


def test_an_unreadable_checkpoint_stops_recovery_with_what_and_how(
    tmp_path: Path, clock: Clock
) -> None:
    cid, _ = checkpointed_run(tmp_path, clock)
    checkpoints = Checkpoints(tmp_path)
    run_file = checkpoints.run_dir(AGENT_ID, FID, "t1", cid) / "run.info"
    run_file.write_text('{"kind": "comm')
    with pytest.raises(recovery.RecoveryError) as refused:
        recovery.read(checkpoints, "boot-1", recovery.RECONNECT)
    message = str(refused.value)
    assert str(run_file) in message and "not JSON" in message
    assert 'recover = "cleanup"' in message and str(checkpoints.latest_link) in message


# --- checkpoints that cannot be written -------------------------------------------------------


def unwritable(path: Path) -> None:
    """Make writing `path` really fail: a directory now stands where the file goes, so the
    atomic rename of the new version onto it fails (EISDIR), even for root."""
    path.unlink(missing_ok=True)
    path.mkdir(parents=True)


def test_an_update_that_cannot_be_checkpointed_is_refused_never_acknowledged_and_taken_later(
    agent: Agent, clock: Clock
) -> None:
    started, _ = launch(agent, run_task(task("t1")))
    stream, _ = subscribe(agent, "t1")
    cid = started.spec.container_id
    updates = agent.checkpoints.task_dir(AGENT_ID, FID, "t1", cid, "t1") / "task.updates"
    unwritable(updates)
    running = executor_status("t1", "TASK_RUNNING", 1)
    with pytest.raises(ServiceUnavailable, match="not checkpointed"):
        update(agent, "t1", running)
    # No ACKNOWLEDGED; the stream ends, so that the executor sends it again when it re-subscribes.
    assert agent.take_plan() == [CloseStream(stream)]
    executor = agent.executor(FID, "t1")
    assert executor is not None and executor.stream is None
    assert executor.tasks["t1"].state == "TASK_STAGING"
    assert due_states(agent, clock) == []
    assert agent.counters["checkpoint_errors"] == 1
    # Still full: the re-subscription carrying it is refused too, and nothing changes.
    payload = {"unacknowledged_updates": [{"status": running}]}
    with pytest.raises(ServiceUnavailable):
        subscribe(agent, "t1", payload)
    assert executor.stream is None and agent.take_plan() == []
    updates.rmdir()
    _, events = subscribe(agent, "t1", payload)
    assert events[0] == {
        "type": "ACKNOWLEDGED",
        "acknowledged": {"task_id": {"value": "t1"}, "uuid": running["uuid"]},
    }
    assert due_states(agent, clock) == [("t1", "TASK_RUNNING")]
    assert json.loads(updates.read_text())["pending"][0]["uuid"] == running["uuid"]


def test_the_agents_own_updates_go_out_even_when_they_cannot_be_checkpointed(
    agent: Agent, clock: Clock
) -> None:
    """Nobody would send them again: they are kept in memory (and counted)."""
    started, _ = launch(agent, run_task(task("t1")))
    cid = started.spec.container_id
    unwritable(agent.checkpoints.task_dir(AGENT_ID, FID, "t1", cid, "t1") / "task.updates")
    containers.registration_timed_out(agent, FID, "t1", cid)
    containers.exited(agent, cid, 9, None)
    assert due_states(agent, clock) == [("t1", "TASK_FAILED")]
    assert agent.counters["checkpoint_errors"] >= 1


def test_a_pid_that_cannot_be_checkpointed_destroys_the_container_and_fails_its_task(
    agent: Agent, clock: Clock
) -> None:
    """Recovery finds executors by their checkpointed pid: one it could not find again must
    not run on."""
    handle(agent, run_task(task("t1")))
    (started,) = agent.take_plan()
    assert isinstance(started, LaunchContainer)
    cid = started.spec.container_id
    unwritable(agent.checkpoints.run_dir(AGENT_ID, FID, "t1", cid) / "run.info")
    containers.launched(agent, FID, "t1", cid, 4242)
    assert agent.take_plan() == [WatchContainer(cid), CancelTimer(cid), DestroyContainer(cid)]
    containers.exited(agent, cid, 9, None)
    status = agent.updates.get(FID, "t1")
    assert status is not None
    failed = status.pending[-1]
    assert (failed.state, failed.reason) == ("TASK_FAILED", "REASON_CONTAINER_LAUNCH_FAILED")
    assert failed.message is not None
    assert failed.message.startswith("Failed to checkpoint: cannot checkpoint")
    assert "run.info" in failed.message
