"""State in ZooKeeper survives a killed dcos-metronome; a standby proxies to the leader and takes
over with the same FrameworkID; a leader whose state a newer one has taken writes nothing and
exits; a `* * * * *` schedule starts a run within a minute."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from metronome_cluster import frameworks_named, get, job_history, master_tasks

from daemons.kit import zk
from daemons.metronome.store import JobStore
from tests.integration.e2e.e2e_cluster import wait_for
from tools import processes

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated create function")


def job(job_id: str, cmd: str) -> dict[str, Any]:
    return {"id": job_id, "run": {"cpus": 0.1, "mem": 32, "disk": 0, "cmd": cmd}}


def post(url: str, body: Any = None) -> requests.Response:
    return requests.post(url, json=body, timeout=10)


def active_task(url: str, job_id: str, run_id: str) -> str | None:
    run = requests.get(f"{url}/v1/jobs/{job_id}/runs/{run_id}", timeout=10).json()
    tasks = run.get("tasks") or []
    return tasks[0]["id"] if run.get("status") == "ACTIVE" and tasks else None


def test_state_survives_a_killed_daemon(metronome_cluster: Any) -> None:
    env = metronome_cluster()
    m = env.metronome
    client = env.client()
    assert (
        post(
            f"{m.url}/v0/scheduled-jobs",
            {
                **job("quick", "exit 0"),
                "schedules": [{"id": "yearly", "cron": "0 0 1 1 *", "timezone": "Asia/Tokyo"}],
            },
        ).status_code
        == 201
    )
    post(f"{m.url}/v1/jobs/quick/runs")
    wait_for(lambda: job_history(m, "quick")["successCount"] == 1, 60, "a successful run")
    assert post(f"{m.url}/v1/jobs", job("long", "sleep 300")).status_code == 201
    run_id = post(f"{m.url}/v1/jobs/long/runs").json()["id"]
    task_id = wait_for(lambda: active_task(m.url, "long", run_id), 60, "the long run")
    framework_id = frameworks_named(env.master_url, "metronome")[0]["id"]
    before = get(f"{m.url}/v1/jobs", embed=["schedules", "history"])

    m.kill()  # SIGKILL: no clean shutdown, the leader node stays until its session expires
    m.start()

    after = get(f"{m.url}/v1/jobs", embed=["schedules", "history"])
    for job_info in before + after:
        for schedule in job_info["schedules"]:
            schedule.pop("nextRunAt")
    assert after == before
    assert job_history(m, "quick")["successCount"] == 1
    assert [r.id for r in client.list_runs("long")] == [run_id]
    # The same framework, still running the same task, which the new process can stop.
    wait_for(lambda: frameworks_named(env.master_url, "metronome")[0]["active"], 30, "resubscribed")
    assert [f["id"] for f in frameworks_named(env.master_url, "metronome")] == [framework_id]
    assert active_task(m.url, "long", run_id) == task_id
    assert post(f"{m.url}/v1/jobs/long/runs/{run_id}/actions/stop").status_code == 200
    wait_for(lambda: job_history(m, "long")["failureCount"] == 1, 30, "the stopped run")
    assert master_tasks(env.master_url)[task_id] == "TASK_KILLED"


def test_a_standby_proxies_and_takes_over_with_the_same_framework(metronome_cluster: Any) -> None:
    env = metronome_cluster()
    leader = env.metronome
    assert env.start_metronome is not None
    standby = env.start_metronome(wait_leading=False)
    assert requests.get(f"{standby.url}/leader", timeout=10).json() == {"leader": leader.address}
    assert post(f"{standby.url}/v1/jobs", job("via-standby", "true")).status_code == 201
    assert [j["id"] for j in get(f"{leader.url}/v1/jobs")] == ["via-standby"]
    framework_id = frameworks_named(env.master_url, "metronome")[0]["id"]

    leader.kill()
    wait_for(
        lambda: requests.get(f"{standby.url}/v1/jobs", timeout=10).status_code == 200,
        30,
        "the standby to lead",
    )
    assert requests.get(f"{standby.url}/leader", timeout=10).json() == {"leader": standby.address}
    run_id = post(f"{standby.url}/v1/jobs/via-standby/runs").json()["id"]
    history = wait_for(
        lambda: (h := job_history(standby, "via-standby"))["successCount"] == 1 and h,
        60,
        "a run under the new leader",
    )
    assert history["successfulFinishedRuns"][0]["id"] == run_id
    assert [f["id"] for f in frameworks_named(env.master_url, "metronome")] == [framework_id]


def test_a_stale_leader_writes_nothing_and_exits(metronome_cluster: Any) -> None:
    """A leader that missed its own replacement (paused, cut off) still believes it leads: once
    a newer leader has loaded the state (taking its epoch), the old one's next write is
    refused, it answers 503 and the process exits, as Marathon's does; systemd restarts it as
    a standby."""
    env = metronome_cluster()
    m = env.metronome
    assert post(f"{m.url}/v1/jobs", job("before", "true")).status_code == 201
    hosts, path = zk.parse_zk_url(m.config["zk"])
    client = zk.connect(hosts, 4.0)
    try:
        JobStore(client, path).load()  # what a newer leader does first
        try:
            refused = post(f"{m.url}/v1/jobs", job("after", "true"))
            assert refused.status_code == 503, refused.text  # if it answers before it exits
        except requests.ConnectionError:
            pass  # it exited before answering
        assert processes.wait_exit(m.pid, 15.0), "the fenced leader did not exit"
        m.pid = None
        assert sorted(client.get_children(f"{path}/jobs")) == ["before"]
    finally:
        client.stop()
        client.close()


@pytest.mark.timeout(180)
def test_an_every_minute_schedule_starts_a_run(metronome_cluster: Any) -> None:
    env = metronome_cluster()
    url = env.metronome.url
    assert post(f"{url}/v1/jobs", job("tick", "echo tick")).status_code == 201
    response = post(f"{url}/v1/jobs/tick/schedules", {"id": "every-minute", "cron": "* * * * *"})
    assert response.status_code == 201 and response.json()["nextRunAt"].endswith(":00.000+0000")
    history = wait_for(
        lambda: (h := job_history(env.metronome, "tick"))["successCount"] >= 1 and h,
        90,
        "the scheduled run",
    )
    created = history["successfulFinishedRuns"][0]["createdAt"]
    assert int(created[17:19]) < 5  # started on the minute tick (the loop looks every second)
