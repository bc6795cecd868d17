"""The JobRun state machine, restart policies, stop, history and the JSON of runs."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemons.metronome import runs as r
from daemons.metronome.jobspec import JobSpec, RestartSpec, RunSpec
from daemons.metronome.timestamps import format_time, parse_time, run_stamp
from tests.clients import metronome_module

# dcos-metronome's generated protobuf module uses an API protobuf 3.20 marks deprecated.
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated create function")

T0 = 1_468_587_779.735  # 2016-07-15T13:02:59.735Z


def job(policy: str = "NEVER", deadline: int | None = None, max_delay: int = 3600) -> JobSpec:
    return JobSpec(
        "prod",
        RunSpec(
            cpus=0.1,
            mem=32,
            cmd="true",
            restart=RestartSpec(policy, deadline),
            max_launch_delay=max_delay,
        ),
    )


def launched_run(spec: JobSpec, at: float = T0) -> r.JobRun:
    run = r.new_run(spec, at, "A34HX")
    return r.launched(run, r.task_id_for(run, "t1"), "agent-1", at + 1)


def test_ids_and_times_have_metronomes_format() -> None:
    run = r.new_run(job(), T0, "A34HX")
    assert run.id == "20160715130259A34HX"
    assert r.task_id_for(run, "abc") == "prod_20160715130259A34HX.abc"
    assert format_time(T0) == "2016-07-15T13:02:59.735+0000"
    assert parse_time("2016-07-15T13:02:59.735+0000") == pytest.approx(T0)
    assert run_stamp(0) == "19700101000000"


@pytest.mark.parametrize(
    ("mesos", "shown"),
    [
        ("TASK_STAGING", "TASK_STAGING"),
        ("TASK_STARTING", "TASK_STARTING"),
        ("TASK_RUNNING", "TASK_RUNNING"),
        ("TASK_KILLING", "TASK_RUNNING"),
        ("TASK_UNREACHABLE", "TASK_RUNNING"),
        ("TASK_FINISHED", "TASK_FINISHED"),
        ("TASK_FAILED", "TASK_FAILED"),
        ("TASK_KILLED", "TASK_KILLED"),
        ("TASK_LOST", "TASK_FAILED"),
        ("TASK_DROPPED", "TASK_FAILED"),
        ("TASK_GONE", "TASK_FAILED"),
        ("TASK_GONE_BY_OPERATOR", "TASK_FAILED"),
        ("TASK_ERROR", "TASK_FAILED"),
        ("TASK_UNKNOWN", "TASK_FAILED"),
        ("TASK_SOMETHING_NEW", "TASK_FAILED"),
    ],
)
def test_task_states_use_the_names_the_client_knows(mesos: str, shown: str) -> None:
    assert r.task_status(mesos) == shown


def test_a_run_goes_initial_starting_active_success() -> None:
    run = r.new_run(job(), T0, "A34HX")
    assert run.status == r.INITIAL and r.wants_launch(run, T0)
    task_id = r.task_id_for(run, "t1")
    run = r.launched(run, task_id, "agent-1", T0 + 1)
    assert run.status == r.STARTING and not r.wants_launch(run, T0 + 1)
    run = r.task_update(run, task_id, "TASK_RUNNING", T0 + 2)
    assert run.status == r.ACTIVE
    run = r.task_update(run, task_id, "TASK_FINISHED", T0 + 3)
    assert (run.status, run.completed_at) == (r.SUCCESS, T0 + 3)
    assert run.tasks[0].status == "TASK_FINISHED" and run.tasks[0].completed_at == T0 + 3
    # Finished runs and terminal tasks never change again.
    assert r.task_update(run, task_id, "TASK_FAILED", T0 + 4) == run


def test_never_fails_the_run_on_the_first_failure() -> None:
    run = launched_run(job("NEVER"))
    run = r.task_update(run, run.tasks[0].id, "TASK_FAILED", T0 + 5)
    assert (run.status, run.completed_at, run.failures) == (r.FAILED, T0 + 5, 1)


def test_on_failure_relaunches_with_backoff_within_the_deadline() -> None:
    spec = job("ON_FAILURE", deadline=60, max_delay=3)
    run = launched_run(spec)
    run = r.task_update(run, run.tasks[0].id, "TASK_FAILED", T0 + 10)
    # back to INITIAL; relaunch after 1 s (1st failure), then 2 s, then capped at 3 s
    assert (run.status, run.failures, run.launch_after) == (r.INITIAL, 1, T0 + 11)
    assert not r.wants_launch(run, T0 + 10.5) and r.wants_launch(run, T0 + 11)
    run = r.launched(run, r.task_id_for(run, "t2"), "agent-1", T0 + 11)
    run = r.task_update(run, run.tasks[1].id, "TASK_LOST", T0 + 20)
    assert (run.status, run.launch_after) == (r.INITIAL, T0 + 22)
    run = r.launched(run, r.task_id_for(run, "t3"), "agent-1", T0 + 22)
    run = r.task_update(run, run.tasks[2].id, "TASK_KILLED", T0 + 30)
    assert (run.status, run.launch_after) == (r.INITIAL, T0 + 33)
    assert [t.status for t in run.tasks] == ["TASK_FAILED", "TASK_FAILED", "TASK_KILLED"]


def test_on_failure_gives_up_once_the_deadline_from_creation_has_passed() -> None:
    spec = job("ON_FAILURE", deadline=60)
    run = launched_run(spec)
    run = r.task_update(run, run.tasks[0].id, "TASK_FAILED", T0 + 60)
    assert (run.status, run.completed_at) == (r.FAILED, T0 + 60)


def test_on_failure_without_a_deadline_keeps_trying() -> None:
    run = launched_run(job("ON_FAILURE"))
    run = r.task_update(run, run.tasks[0].id, "TASK_FAILED", T0 + 86_400 * 365)
    assert run.status == r.INITIAL


def test_stop_kills_the_live_task_and_the_run_ends_failed() -> None:
    run = launched_run(job("ON_FAILURE"))
    run = r.task_update(run, run.tasks[0].id, "TASK_RUNNING", T0 + 2)
    stopped, kill = r.stop(run, T0 + 3)
    assert [t.id for t in kill] == ["prod_20160715130259A34HX.t1"]
    assert stopped.stopping and stopped.status == r.ACTIVE
    assert not r.wants_launch(stopped, T0 + 100)
    # ON_FAILURE does not relaunch a stopped run; even a task that finished ends it FAILED.
    assert r.task_update(stopped, kill[0].id, "TASK_KILLED", T0 + 4).status == r.FAILED
    assert r.task_update(stopped, kill[0].id, "TASK_FINISHED", T0 + 4).status == r.FAILED


def test_stop_without_a_live_task_fails_at_once_and_a_finished_run_stays() -> None:
    waiting = r.new_run(job(), T0, "A34HX")
    stopped, kill = r.stop(waiting, T0 + 1)
    assert kill == () and (stopped.status, stopped.completed_at) == (r.FAILED, T0 + 1)
    assert r.stop(stopped, T0 + 2) == (stopped, ())


def test_updates_of_unknown_tasks_are_ignored() -> None:
    run = launched_run(job())
    assert r.task_update(run, "someone-else", "TASK_FAILED", T0 + 2) == run


def test_history_counts_and_keeps_the_latest_runs() -> None:
    history = r.JobHistory()
    for i in range(5):
        run = launched_run(job(), T0 + i)
        state = "TASK_FINISHED" if i % 2 == 0 else "TASK_FAILED"
        history = r.record_finished(
            history, r.task_update(run, run.tasks[0].id, state, T0 + i + 0.5), limit=2
        )
    assert (history.success_count, history.failure_count) == (3, 2)
    assert history.last_success_at == T0 + 4.5 and history.last_failure_at == T0 + 3.5
    assert [x.finished_at for x in history.successful_runs] == [T0 + 4.5, T0 + 2.5]
    assert len(history.failed_runs) == 2
    with pytest.raises(ValueError):
        r.record_finished(history, launched_run(job()), limit=2)


def test_json_shapes_and_the_client_parses_runs() -> None:
    run = launched_run(job())
    out = r.run_json(run)
    assert out == {
        "id": "20160715130259A34HX",
        "jobId": "prod",
        "status": "STARTING",
        "createdAt": "2016-07-15T13:02:59.735+0000",
        "completedAt": None,
        "tasks": [
            {
                "id": "prod_20160715130259A34HX.t1",
                "startedAt": "2016-07-15T13:03:00.735+0000",
                "completedAt": None,
                "status": "TASK_STAGING",
            }
        ],
    }
    metronome_module()
    from google.protobuf.json_format import Parse
    from metronome.models import JobRun

    assert Parse(json.dumps(out), JobRun()).tasks[0].status == JobRun.JobRunTask.TASK_STAGING
    done = r.task_update(run, run.tasks[0].id, "TASK_FINISHED", T0 + 2)
    history = r.record_finished(r.JobHistory(), done, 20)
    assert r.history_json(history) == {
        "successCount": 1,
        "failureCount": 0,
        "lastSuccessAt": "2016-07-15T13:03:01.735+0000",
        "lastFailureAt": None,
        "successfulFinishedRuns": [
            {
                "id": "20160715130259A34HX",
                "createdAt": "2016-07-15T13:02:59.735+0000",
                "finishedAt": "2016-07-15T13:03:01.735+0000",
                "tasks": ["prod_20160715130259A34HX.t1"],
            }
        ],
        "failedFinishedRuns": [],
    }
    assert set(r.history_summary_json(history)) == {
        "successCount",
        "failureCount",
        "lastSuccessAt",
        "lastFailureAt",
    }


def test_stored_forms_round_trip() -> None:
    run = launched_run(job("ON_FAILURE", 30))
    run = r.task_update(run, run.tasks[0].id, "TASK_RUNNING", T0 + 2)
    run = r.stop(run, T0 + 3)[0]
    assert r.run_from_record(json.loads(json.dumps(r.run_record(run)))) == run
    done = r.task_update(run, run.tasks[0].id, "TASK_KILLED", T0 + 4)
    history = r.record_finished(r.JobHistory(), done, 5)
    assert r.history_from_record(json.loads(json.dumps(r.history_record(history)))) == history


STATES = st.sampled_from([*sorted(r.TASK_STATUS), "TASK_WEIRD"])


@given(
    policy=st.sampled_from(["NEVER", "ON_FAILURE"]),
    steps=st.lists(
        st.tuples(st.sampled_from(["launch", "update", "stop"]), STATES, st.floats(0, 50)),
        max_size=30,
    ),
)
def test_finished_runs_never_change_and_one_task_at_most_is_live(
    policy: str, steps: list[tuple[str, str, float]]
) -> None:
    run = r.new_run(job(policy, deadline=100), T0, "AAAAA")
    now = T0
    for i, (action, state, dt) in enumerate(steps):
        now += dt
        before = run
        if action == "launch" and r.wants_launch(run, now):
            run = r.launched(run, r.task_id_for(run, str(i)), "a", now)
        elif action == "update" and run.tasks:
            run = r.task_update(run, run.tasks[-1].id, state, now)
        elif action == "stop":
            run = r.stop(run, now)[0]
        if before.is_finished:
            assert run == before
        assert len(run.live_tasks) <= 1
        for old, new in zip(before.tasks, run.tasks, strict=False):
            if old.is_terminal and old.id == new.id:
                assert new == old
        if run.is_finished:
            assert run.completed_at is not None and not run.live_tasks
