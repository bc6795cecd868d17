"""dcos-metronome with the unmodified dcos-metronome 0.3.0 client: jobs, schedules, runs that
really run on a PyDCOS agent, history."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from metronome_cluster import frameworks_named, get, job_history, master_tasks

from tests.clients import metronome_module
from tests.integration.e2e.e2e_cluster import wait_for

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated create function")


def job_spec(job_id: str, cmd: str, **restart: Any) -> Any:
    models = metronome_module().models
    spec = models.JobSpec()
    spec.id = job_id
    spec.description = f"{job_id} test job"
    spec.labels["team"] = "pydcos"
    spec.run.cpus = 0.1
    spec.run.mem = 32
    spec.run.disk.value = 0
    spec.run.cmd = cmd
    spec.run.env["GREETING"] = "hi"
    spec.run.maxLaunchDelay = 5
    spec.run.restart.policy = models.JobSpec.RunSpec.RestartSpec.RestartPolicy.Value(
        restart.get("policy", "NEVER")
    )
    if "deadline" in restart:
        spec.run.restart.activeDeadlineSeconds = restart["deadline"]
    return spec


def run_status(name: str) -> int:
    return int(metronome_module().models.JobRun.Status.Value(name))


def schedule_spec(schedule_id: str, cron: str, timezone: str = "UTC") -> Any:
    models = metronome_module().models
    spec = models.ScheduleSpec()
    spec.id = schedule_id
    spec.cron = cron
    spec.timezone = timezone
    spec.startingDeadlineSeconds = 60
    spec.concurrencyPolicy = models.ScheduleSpec.ConcurrencyPolicy.Value("ALLOW")
    spec.enabled = True
    return spec


def test_a_job_runs_a_command_to_success_with_history(metronome_cluster: Any) -> None:
    env = metronome_cluster()
    client = env.client()
    assert client.ping() == "pong"

    created = client.create_job(job_spec("hello", 'echo "$GREETING"; exit 0'))
    assert created.id == "hello" and created.run.cmd.startswith("echo")
    assert created.labels["team"] == "pydcos" and created.run.env["GREETING"] == "hi"
    schedule = client.create_schedule(
        "hello", schedule_spec("nightly", "0 3 * * *", "Europe/Berlin")
    )
    assert schedule.nextRunAt.endswith("+0000") and schedule.timezone == "Europe/Berlin"
    assert [s.id for s in client.list_schedules("hello")] == ["nightly"]
    assert client.get_schedule("hello", "nightly").cron == "0 3 * * *"
    assert [j.id for j in client.list_jobs(active_runs=True, schedules=True)] == ["hello"]
    assert client.get_job("hello").run.mem == 32
    bigger = job_spec("hello", 'echo "$GREETING"; exit 0')
    bigger.run.mem = 64
    assert client.update_job("hello", bigger).run.mem == 64
    weekly = schedule_spec("nightly", "0 3 * * 1", "Europe/Berlin")
    assert client.update_schedule("hello", "nightly", weekly).cron == "0 3 * * 1"

    run = client.run_job("hello")
    assert run.jobId == "hello" and len(run.id) == 19
    history = wait_for(
        lambda: (h := job_history(env.metronome, "hello"))["successCount"] == 1 and h,
        60,
        "the run to succeed",
    )
    finished = history["successfulFinishedRuns"]
    assert [r["id"] for r in finished] == [run.id]
    assert history["failureCount"] == 0 and history["lastSuccessAt"].endswith("+0000")
    assert finished[0]["finishedAt"] >= finished[0]["createdAt"]
    (task_id,) = finished[0]["tasks"]
    assert task_id.startswith(f"hello_{run.id}.")
    assert master_tasks(env.master_url)[task_id] == "TASK_FINISHED"
    assert client.list_runs("hello") == []  # active runs only
    with pytest.raises(metronome_module().exceptions.NotFoundError):
        client.get_run("hello", run.id)

    info = get(
        f"{env.metronome.url}/v1/jobs/hello",
        embed=["activeRuns", "schedules", "historySummary"],
    )
    assert info["activeRuns"] == [] and info["schedules"][0]["id"] == "nightly"
    assert info["historySummary"]["successCount"] == 1
    listing = get(f"{env.metronome.url}/v1/jobs", embed="activeRuns,history")
    assert "activeRuns" not in listing[0] and listing[0]["history"]["successCount"] == 1
    assert len(frameworks_named(env.master_url, "metronome")) == 1
    assert client.delete_schedule("hello", "nightly").status_code == 200
    assert client.list_schedules("hello") == []


def test_on_failure_restarts_until_the_deadline(metronome_cluster: Any) -> None:
    env = metronome_cluster()
    client = env.client()
    client.create_job(job_spec("flaky", "exit 3", policy="ON_FAILURE", deadline=6))
    run = client.run_job("flaky")
    history = wait_for(
        lambda: (h := job_history(env.metronome, "flaky"))["failureCount"] == 1 and h,
        60,
        "the run to fail for good",
    )
    (failed,) = history["failedFinishedRuns"]
    assert failed["id"] == run.id
    assert len(failed["tasks"]) >= 2, "ON_FAILURE relaunched the failed task"
    states = master_tasks(env.master_url)
    assert {states[t] for t in failed["tasks"]} == {"TASK_FAILED"}


def test_a_stopped_run_is_killed_and_fails_and_delete_needs_stop(metronome_cluster: Any) -> None:
    env = metronome_cluster()
    client = env.client()
    errors = metronome_module().exceptions
    client.create_job(job_spec("sleepy", "sleep 300"))
    client.create_job(job_spec("idle", "true"))
    run = client.run_job("sleepy")
    wait_for(
        lambda: client.get_run("sleepy", run.id).status == run_status("ACTIVE"),
        60,
        "the run to be ACTIVE",
    )
    assert [r.id for r in client.list_runs("sleepy")] == [run.id]
    listing = {j["id"]: j for j in get(f"{env.metronome.url}/v1/jobs", embed="activeRuns")}
    assert [r["id"] for r in listing["sleepy"]["activeRuns"]] == [run.id]
    assert "activeRuns" not in listing["idle"]  # only jobs that have active runs

    task_id = client.get_run("sleepy", run.id).tasks[0].id
    assert client.stop_run("sleepy", run.id).status_code == 200
    history = wait_for(
        lambda: (h := job_history(env.metronome, "sleepy"))["failureCount"] == 1 and h,
        30,
        "the stopped run to fail",
    )
    assert history["failedFinishedRuns"][0]["id"] == run.id
    assert master_tasks(env.master_url)[task_id] == "TASK_KILLED"

    second = client.run_job("sleepy")
    wait_for(
        lambda: client.get_run("sleepy", second.id).status == run_status("ACTIVE"),
        60,
        "the second run",
    )
    with pytest.raises(errors.MetronomeHttpError) as conflict:
        client.delete_job("sleepy")
    assert conflict.value.status_code == 409
    assert client.get_job("sleepy").id == "sleepy"  # nothing deleted
    second_task = client.get_run("sleepy", second.id).tasks[0].id
    assert client.delete_job("sleepy", stop_current_job_runs=True).status_code == 200
    with pytest.raises(errors.NotFoundError):
        client.get_job("sleepy")
    wait_for(
        lambda: master_tasks(env.master_url).get(second_task) == "TASK_KILLED",
        30,
        "the deleted job's task to be killed",
    )
    response = requests.delete(f"{env.metronome.url}/v1/jobs/idle?stopCurrentJobRuns=TRUE")
    assert response.status_code == 200 and response.json()["id"] == "idle"
