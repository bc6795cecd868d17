"""Bad input gets a clear 4xx with the body Metronome sends, and changes nothing (read back)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.clients import metronome_module

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated create function")

JOB = {"id": "kept", "run": {"cpus": 0.1, "mem": 32, "disk": 0, "cmd": "true"}}


def post(url: str, body: Any = None, **kwargs: Any) -> requests.Response:
    return requests.post(url, json=body, timeout=10, **kwargs)


def test_bad_input_is_refused_and_nothing_is_written(metronome_cluster: Any) -> None:
    env = metronome_cluster(zk_max_node_size=16384)
    url = env.metronome.url
    client = env.client()
    errors = metronome_module().exceptions

    # Not JSON: 400; a wrong media type, or none (what a web page can send to any origin
    # without a CORS preflight): 415, as Metronome answers.
    response = requests.post(
        f"{url}/v1/jobs", data=b"{nope", headers={"Content-Type": "application/json"}, timeout=10
    )
    assert response.status_code == 400 and "JSON" in response.json()["message"]
    response = requests.post(
        f"{url}/v1/jobs", data=b"id=x", headers={"Content-Type": "text/plain"}, timeout=10
    )
    assert response.status_code == 415
    response = requests.post(f"{url}/v1/jobs", data=b'{"id": "no-type"}', timeout=10)
    assert response.status_code == 415 and "application/json" in response.json()["message"]
    assert requests.get(f"{url}/v1/jobs/no-type", timeout=10).status_code == 404

    # Invalid: 422 with every problem at its path; the job does not exist afterwards.
    bad = {"id": "Bad_Id", "run": {"cpus": 0, "mem": 8, "docker": {"image": "busybox"}}}
    response = post(f"{url}/v1/jobs", bad)
    assert response.status_code == 422
    body = response.json()
    assert body["message"] == "Object is not valid"
    paths = {d["path"]: d["errors"] for d in body["details"]}
    assert paths["/run/cpus"] == ["must be at least 0.01"]
    assert paths["/run/mem"] == ["must be at least 32"]
    assert paths["/run/docker"] == ["container images are not supported"]
    assert set(paths) == {"/id", "/run/cpus", "/run/mem", "/run/docker", "/run"}
    assert requests.get(f"{url}/v1/jobs", timeout=10).json() == []

    # Too large for a ZooKeeper node (16 KiB here): 422 before anything is written.
    huge = {**JOB, "id": "huge", "description": "x" * 20000}
    response = post(f"{url}/v1/jobs", huge)
    assert response.status_code == 422
    assert "ZooKeeper node holds at most 16384" in response.json()["details"][0]["errors"][0]
    assert requests.get(f"{url}/v1/jobs/huge", timeout=10).status_code == 404

    # Duplicate: 409 and the original is unchanged.
    assert post(f"{url}/v1/jobs", JOB).status_code == 201
    response = post(f"{url}/v1/jobs", {**JOB, "description": "second"})
    assert response.status_code == 409
    assert response.json() == {"message": "Job with this id already exists"}
    assert "description" not in requests.get(f"{url}/v1/jobs/kept", timeout=10).json()

    # An invalid update: 422, the stored job is unchanged; an id that differs from the URL too.
    response = requests.put(
        f"{url}/v1/jobs/kept", json={**JOB, "run": {**JOB["run"], "mem": 1}}, timeout=10
    )
    assert response.status_code == 422
    response = requests.put(f"{url}/v1/jobs/kept", json={**JOB, "id": "other"}, timeout=10)
    assert response.status_code == 422
    assert client.get_job("kept").run.mem == 32

    # Schedules: invalid -> 422; a second one -> 409; neither is written.
    response = post(f"{url}/v1/jobs/kept/schedules", {"id": "s", "cron": "61 * * * *"})
    assert response.status_code == 422 and response.json()["details"][0]["path"] == "/cron"
    response = post(
        f"{url}/v1/jobs/kept/schedules", {"id": "s", "cron": "* * * * *", "timezone": "Nowhere/X"}
    )
    assert response.status_code == 422
    assert client.list_schedules("kept") == []
    assert (
        post(f"{url}/v1/jobs/kept/schedules", {"id": "s", "cron": "0 0 1 1 *"}).status_code == 201
    )
    response = post(f"{url}/v1/jobs/kept/schedules", {"id": "t", "cron": "0 0 1 1 *"})
    assert response.status_code == 409
    assert "Only one schedule" in response.json()["message"]
    assert [s.id for s in client.list_schedules("kept")] == ["s"]

    # 404 bodies name what was not found.
    response = requests.get(f"{url}/v1/jobs/missing", timeout=10)
    assert (response.status_code, response.json()) == (
        404,
        {"id": "missing", "message": "Job not found"},
    )
    response = requests.get(f"{url}/v1/jobs/kept/schedules/nope", timeout=10)
    assert response.json() == {"id": "nope", "message": "Schedule not found"}
    response = requests.get(f"{url}/v1/jobs/kept/runs/20200101000000ABCDE", timeout=10)
    assert (response.status_code, response.json()) == (
        404,
        {"jobSpec": "kept", "id": "20200101000000ABCDE", "message": "Job Run not found"},
    )
    assert post(f"{url}/v1/jobs/missing/runs").status_code == 404
    assert post(f"{url}/v1/jobs/kept/runs/nope/actions/stop").status_code == 404
    with pytest.raises(errors.NotFoundError):
        client.delete_job("missing")
    response = requests.delete(f"{url}/v1/jobs/kept?stopCurrentJobRuns=maybe", timeout=10)
    assert response.status_code == 400
    assert client.get_job("kept").id == "kept"

    # Unknown query parameters are ignored; booleans in any case.
    assert requests.get(f"{url}/v1/jobs?foo=bar&activeRuns=TRUE", timeout=10).status_code == 200


def test_v0_writes_a_job_and_its_schedules_at_once(metronome_cluster: Any) -> None:
    env = metronome_cluster()
    url = env.metronome.url
    bad = {**JOB, "schedules": [{"id": "s", "cron": "0 0 * * *", "timezone": "Bad/Zone"}]}
    response = post(f"{url}/v0/scheduled-jobs", bad)
    assert response.status_code == 422
    assert response.json()["details"][0]["path"] == "/schedules/0/timezone"
    assert requests.get(f"{url}/v1/jobs/kept", timeout=10).status_code == 404

    good = {**JOB, "schedules": [{"id": "s", "cron": "0 0 * * *"}]}
    response = post(f"{url}/v0/scheduled-jobs", good)
    assert response.status_code == 201
    assert [s["id"] for s in response.json()["schedules"]] == ["s"]
    response = requests.put(
        f"{url}/v0/scheduled-jobs/kept",
        json={**JOB, "schedules": [{"id": "s", "cron": "5 4 * * *"}]},
        timeout=10,
    )
    assert response.status_code == 200
    schedules = requests.get(f"{url}/v1/jobs/kept/schedules", timeout=10).json()
    assert [(s["id"], s["cron"]) for s in schedules] == [("s", "5 4 * * *")]
    # An update whose schedule is invalid changes neither the job nor the schedule.
    response = requests.put(
        f"{url}/v0/scheduled-jobs/kept",
        json={**JOB, "description": "new", "schedules": [{"id": "s", "cron": "bad"}]},
        timeout=10,
    )
    assert response.status_code == 422
    assert "description" not in requests.get(f"{url}/v1/jobs/kept", timeout=10).json()
    schedules = requests.get(f"{url}/v1/jobs/kept/schedules", timeout=10).json()
    assert schedules[0]["cron"] == "5 4 * * *"
    # The info endpoints.
    assert requests.get(f"{url}/ping", timeout=10).text == "pong"
    assert set(requests.get(f"{url}/v1/info", timeout=10).json()) == {"version", "libVersion"}
    assert requests.get(f"{url}/leader", timeout=10).json() == {"leader": env.metronome.address}
    metrics = requests.get(f"{url}/v1/metrics", timeout=10).json()
    assert metrics["gauges"]["jobs.count"] == {"value": 1}
    assert requests.get(f"{url}/v1/queue", timeout=10).json() == []
