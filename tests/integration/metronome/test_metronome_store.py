"""The leader's state on a real ZooKeeper, driven with a fake clock (no master needed): schedule
ticks across a restart, versioned writes, the node layout, transactions that write all or none,
and fencing: once a newer leader has loaded the state, an older one writes nothing more."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from daemons.kit import zk
from daemons.kit.errors import Fenced
from daemons.metronome import runs as r
from daemons.metronome.errors import ConcurrentChange, JobExists
from daemons.metronome.jobspec import parse_job
from daemons.metronome.metronome import Metronome
from daemons.metronome.schedule import parse_schedule
from daemons.metronome.store import JobStore


class Clock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def at(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


@pytest.fixture
def zk_client(zk_url: str) -> Iterator[Any]:
    hosts, _ = zk.parse_zk_url(zk_url)
    client = zk.connect(hosts, 10.0)
    try:
        yield client
    finally:
        client.stop()
        client.close()


@pytest.fixture
def path(zk_url: str) -> str:
    return zk.parse_zk_url(zk_url)[1].replace("/mesos-", "/metronome-")


def metronome(
    client: Any, path: str, clock: Clock, on_fenced: Callable[[str], None] | None = None
) -> Metronome:
    suffixes = iter(f"R{i:04d}" for i in range(1000))
    m = Metronome(clock=clock, run_suffix=lambda: next(suffixes), history_limit=3)
    m.load(JobStore(client, path, on_fenced=on_fenced))
    return m


def job(job_id: str, **extra: Any) -> Any:
    return parse_job({"id": job_id, "run": {"cpus": 0.1, "mem": 32, "cmd": "true"}, **extra})


def test_schedules_fire_on_time_and_after_a_restart_within_the_deadline_only(
    zk_client: Any, path: str
) -> None:
    clock = Clock(at(2024, 1, 1, 10, 0, 30))
    m = metronome(zk_client, path, clock)
    m.create_job(job("hourly"))
    m.create_schedule(
        "hourly", parse_schedule({"id": "s", "cron": "0 * * * *", "startingDeadlineSeconds": 120})
    )
    clock.now = at(2024, 1, 1, 10, 59, 59)
    assert m.tick(clock.now) == []
    clock.now = at(2024, 1, 1, 11, 0, 0)
    (first,) = m.tick(clock.now)
    assert first.id == "20240101110000R0000"
    assert m.tick(at(2024, 1, 1, 11, 0, 1)) == []  # once per tick

    # "Restart" at 12:01:30: the 12:00 tick is 90 s late, within the 120 s deadline: it runs.
    clock.now = at(2024, 1, 1, 12, 1, 30)
    restarted = metronome(zk_client, path, clock)
    assert [x.id for x in restarted.active_runs("hourly")] == [first.id]
    (late,) = restarted.tick(clock.now)
    assert late.created_at == clock.now
    # Down from 12:01:30 to 13:05: the 13:00 tick is 5 minutes late: skipped, not run late.
    clock.now = at(2024, 1, 1, 13, 5)
    again = metronome(zk_client, path, clock)
    assert again.tick(clock.now) == []
    assert len(again.active_runs("hourly")) == 2


def test_forbid_skips_a_tick_while_a_run_is_active(zk_client: Any, path: str) -> None:
    clock = Clock(at(2024, 1, 1, 0, 0, 30))
    m = metronome(zk_client, path, clock)
    m.create_job(job("one-at-a-time"))
    m.create_schedule(
        "one-at-a-time",
        parse_schedule({"id": "s", "cron": "* * * * *", "concurrencyPolicy": "FORBID"}),
    )
    assert len(m.tick(at(2024, 1, 1, 0, 1))) == 1
    assert m.tick(at(2024, 1, 1, 0, 2)) == []


def test_a_run_goes_through_zookeeper_into_the_history(zk_client: Any, path: str) -> None:
    clock = Clock(1000.0)
    m = metronome(zk_client, path, clock)
    m.create_job(job("j"))
    run = m.start_run("j")
    assert [w.id for w in m.waiting(clock.now)] == [run.id]
    assert m.launching("j", run.id, "j_task", "agent-1")
    assert not m.launching("j", run.id, "j_task2", "agent-1")  # no longer waiting
    assert m.task_update("j_task", "TASK_RUNNING", "agent-1") is False
    assert m.run("j", run.id).status == r.ACTIVE
    assert m.task_update("someone_else", "TASK_RUNNING", None) is True  # an orphan: kill it
    assert m.task_update("someone_else", "TASK_FINISHED", None) is False
    clock.now = 1005.0
    m.task_update("j_task", "TASK_FINISHED", "agent-1")
    assert m.active_runs("j") == [] and m.history("j").success_count == 1

    # The nodes: epoch, jobs/, schedules/, history/, runs/<job>/ (empty again).
    assert sorted(zk_client.get_children(path)) == ["epoch", "history", "jobs", "runs", "schedules"]
    assert zk_client.get_children(f"{path}/runs/j") == []
    history = json.loads(zk_client.get(f"{path}/history/j")[0])
    assert history["successCount"] == 1
    assert history["successfulFinishedRuns"][0]["finishedAt"] == 1005.0


def test_writes_are_versioned_and_transactions_all_or_nothing(zk_client: Any, path: str) -> None:
    clock = Clock(1000.0)
    m = metronome(zk_client, path, clock)
    m.create_job(job("j"))
    with pytest.raises(JobExists):
        m.create_job(job("j"))
    # Another writer changes the job behind this leader's back: the next update loses.
    zk_client.set(f"{path}/jobs/j", zk_client.get(f"{path}/jobs/j")[0])
    with pytest.raises(ConcurrentChange):
        m.update_job(job("j", description="mine"))
    assert "description" not in json.loads(zk_client.get(f"{path}/jobs/j")[0])
    # A job whose schedules node already exists (left by someone): nothing of it is created.
    zk_client.create(f"{path}/schedules/k", b"{}")
    with pytest.raises(JobExists):
        m.create_job(job("k"))
    assert not zk_client.exists(f"{path}/jobs/k")
    assert not zk_client.exists(f"{path}/history/k")


def test_an_older_leader_is_fenced_and_told_to_step_down(zk_client: Any, path: str) -> None:
    clock = Clock(at(2024, 1, 1, 0, 0, 30))
    told: list[str] = []
    old = metronome(zk_client, path, clock, on_fenced=told.append)
    old.create_job(job("j"))
    old.create_schedule("j", parse_schedule({"id": "s", "cron": "* * * * *"}))
    run = old.start_run("j")

    new = metronome(zk_client, path, clock)  # a newer leader loads the state: the epoch is its
    writes: list[tuple[str, Callable[[], object]]] = [
        ("create a job", lambda: old.create_job(job("k"))),
        ("start a run", lambda: old.start_run("j")),
        ("a scheduled run", lambda: old.tick(at(2024, 1, 1, 0, 1))),
        ("launch", lambda: old.launching("j", run.id, "j_task", "agent-1")),
        ("stop a run", lambda: old.stop_run("j", run.id)),
        ("delete the job", lambda: old.delete_job("j", stop_current_runs=True)),
    ]
    for what, write in writes:
        with pytest.raises(Fenced):
            write()
        assert told and told[-1].startswith("fenced"), what
    assert len(told) == len(writes)
    # Nothing of it reached ZooKeeper: the newer leader reads what it loaded.
    assert sorted(zk_client.get_children(f"{path}/jobs")) == ["j"]
    assert zk_client.get_children(f"{path}/runs/j") == [run.id]
    assert json.loads(zk_client.get(f"{path}/runs/j/{run.id}")[0])["tasks"] == []
    assert new.create_job(job("k")).id == "k"  # ...while the newer one writes as usual
    again = metronome(zk_client, path, clock)
    assert [x.id for x in again.active_runs("j")] == [run.id]
    assert [x.id for x in again.jobs()] == ["j", "k"]
