"""Real clients through the door: a master, two agents, dcos-marathon and dcos-metronome behind
the real nginx, dcos-adminrouter-auth and dcos-iam. marathon-python 0.13.0 and dcos-metronome
0.3.0, unmodified, with `auth_token=` (both send `Authorization: token=<jwt>`), `curl` on
`/mesos/master/state`, a Marathon app reached at `/service/<DCOS_SERVICE_NAME>/`, an agent at
`/agent/<id>/`, and Marathon's real event stream."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))
sys.path.insert(0, str(Path(__file__).parents[1] / "marathon"))
sys.path.insert(0, str(Path(__file__).parents[1] / "metronome"))
from marathon_cluster import start_cluster, wait_for
from metronome_cluster import start_metronome

from daemons.protocols import recordio
from tests.clients import marathon_module, metronome_module
from tests.integration.adminrouter.front_door import TIMEOUT, FrontDoor, start_front_door
from tests.integration.conftest import Daemons

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated create function")

marathon = marathon_module()


def operator_events(response: requests.Response) -> Iterator[dict[str, Any]]:
    """The RecordIO events of a streaming operator API response, as they arrive."""
    decoder = recordio.Decoder()
    for chunk in response.iter_content(chunk_size=None):
        for record in decoder.decode(chunk):
            yield json.loads(record)


@pytest.fixture
def cluster_door(
    work_root: Path,
    daemons: Daemons,
    start_master: Any,
    start_agent: Any,
    zk_url: str,
    tmp_path: Path,
) -> Iterator[FrontDoor]:
    cluster = start_cluster(work_root, daemons, start_master, start_agent, zk_url)
    metronome_process = start_metronome(daemons, zk_url)
    marathon_address = cluster.marathons[0].url.removeprefix("http://")
    door = start_front_door(
        daemons,
        zk_url,
        tmp_path,
        upstreams={"marathon": marathon_address, "metronome": metronome_process.address},
        master=zk_url,
        marathon=cluster.marathons[0].url,
    )
    try:
        yield door
    finally:
        door.stop()


def test_real_clients_through_the_door(cluster_door: FrontDoor) -> None:
    door = cluster_door
    token = door.login()

    # curl, as an operator would.
    curl = subprocess.run(
        [
            "curl",
            "-sS",
            "--fail",
            "-H",
            f"Authorization: token={token}",
            door.url("/mesos/master/state"),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert curl.returncode == 0, curl.stderr
    state = json.loads(curl.stdout)
    assert len(state["slaves"]) == 2
    assert {f["name"] for f in state["frameworks"]} >= {"marathon", "metronome"}
    refused = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", door.url("/mesos/master/state")],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert refused.stdout == "401"

    # An agent through /agent/<id>/.
    agent_id = state["slaves"][0]["id"]
    agent_state = requests.get(
        door.url(f"/agent/{agent_id}/state"), headers=door.auth(token), timeout=TIMEOUT
    )
    assert agent_state.status_code == 200, agent_state.text
    assert agent_state.json()["id"] == agent_id

    # The master's operator event stream through the door, opened before the app below
    # exists: its SUBSCRIBED, then the app's TASK_ADDED arrive while the stream stays open.
    subscription = requests.post(
        door.url("/mesos/api/v1"),
        json={"type": "SUBSCRIBE"},
        headers={**door.auth(token), "Accept": "application/json"},
        stream=True,
        timeout=TIMEOUT,
    )
    assert subscription.status_code == 200, subscription.text
    events = operator_events(subscription)
    assert next(events)["type"] == "SUBSCRIBED"

    # marathon-python with the token: an app labelled DCOS_SERVICE_NAME, then reached at
    # /service/<name>/ through the door.
    client = marathon.MarathonClient(door.url("/service/marathon"), auth_token=token)
    app = marathon.models.MarathonApp(
        id="/hello",
        cmd="cd $MESOS_SANDBOX && echo door-ok > index.html && "
        "python3 -m http.server $PORT0 --bind 0.0.0.0",
        cpus=0.1,
        mem=64,
        instances=1,
        port_definitions=[marathon.models.app.PortDefinition(port=0, protocol="tcp")],
        labels={"DCOS_SERVICE_NAME": "hello", "DCOS_SERVICE_PORT_INDEX": "0"},
    )
    assert client.create_app("/hello", app).id == "/hello"
    assert [a.id for a in client.list_apps()] == ["/hello"]
    wait_for(lambda: client.get_app("/hello").tasks_running == 1, 60, "/hello running")

    def served() -> bool:
        page = requests.get(door.url("/service/hello/"), headers=door.auth(token), timeout=TIMEOUT)
        return page.status_code == 200 and page.text.strip() == "door-ok"

    wait_for(served, 30, "/service/hello/ through the door")
    assert "TASK_ADDED" in (e["type"] for e in itertools.islice(events, 50))
    subscription.close()
    anonymous = marathon.MarathonClient(door.url("/service/marathon"))
    with pytest.raises(marathon.exceptions.MarathonHttpError) as refused_client:
        anonymous.list_apps()
    assert refused_client.value.status_code == 401

    # Marathon's event stream through the door: an event arrives while the stream is open.
    with requests.get(
        door.url("/service/marathon/v2/events"),
        headers={**door.auth(token), "Accept": "text/event-stream"},
        stream=True,
        timeout=TIMEOUT,
    ) as events:
        assert events.status_code == 200
        first = next(line for line in events.iter_lines() if line)
        assert first.startswith(b"event:"), first

    # dcos-metronome's client with the token.
    metronome = metronome_module()
    jobs = metronome.MetronomeClient(door.url("/service/metronome"), auth_token=token)
    assert jobs.ping() == "pong"
    spec = metronome.models.JobSpec()
    spec.id = "hello-job"
    spec.run.cpus = 0.1
    spec.run.mem = 32
    spec.run.disk.value = 0
    spec.run.cmd = "true"
    assert jobs.create_job(spec).id == "hello-job"
    assert [j.id for j in jobs.list_jobs()] == ["hello-job"]
    run = jobs.run_job("hello-job")
    assert run.id
    started = time.monotonic()
    wait_for(
        lambda: (
            requests.get(
                door.url("/service/metronome/v1/jobs/hello-job?embed=history"),
                headers=door.auth(token),
                timeout=TIMEOUT,
            ).json()["history"]["successCount"]
            == 1
        ),
        60,
        "the job run to succeed",
    )
    assert time.monotonic() - started < 60
    anonymous_jobs = metronome.MetronomeClient(door.url("/service/metronome"))
    with pytest.raises(metronome.exceptions.MetronomeHttpError) as refused_jobs:
        anonymous_jobs.list_jobs()
    assert refused_jobs.value.status_code == 401
