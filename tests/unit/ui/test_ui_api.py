"""The UI backend's HTTP API through Flask's test client, over the service fed by a reader
of state-summaries (the integration test reads a real master): one read per sample for any
number of streams, the ring's history, the SSE stream's events, and bad requests."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from daemons.mesos_client.leader import StaticMaster
from daemons.ui.app import create_app
from daemons.ui.config import UiConfig
from daemons.ui.service import UiService

API = "/ui/api/v1"


class Master:
    """What the reader answers: a state-summary, or an error to raise."""

    def __init__(self) -> None:
        self.cpus = 4.0
        self.error: Exception | None = None
        self.reads = 0

    def __call__(self) -> Any:
        self.reads += 1
        if self.error is not None:
            raise self.error
        return {
            "hostname": "m",
            "slaves": [
                {
                    "id": "S1",
                    "hostname": "h",
                    "resources": {"cpus": self.cpus, "mem": 100.0},
                    "used_resources": {"cpus": 1.0},
                }
            ],
            "frameworks": [],
        }


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += 5.0
        return self.now


@pytest.fixture
def master() -> Master:
    return Master()


@pytest.fixture
def ui(master: Master) -> Iterator[UiService]:
    service = UiService(
        UiConfig(master="127.0.0.1:1", max_streams=2, threads=8, history_seconds=60.0),
        lambda why: None,
        clock=Clock(),
        detector=StaticMaster,
        reader=master,
    )
    yield service
    service.stop()


@pytest.fixture
def client(ui: UiService) -> FlaskClient:
    return create_app(ui).test_client()


def events(chunks: Iterator[bytes], count: int) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            lines = block.decode().split("\n")
            kind = next((line[7:] for line in lines if line.startswith("event: ")), "")
            data = next((line[6:] for line in lines if line.startswith("data: ")), "")
            if kind:
                found.append((kind, json.loads(data)))
            if len(found) == count:
                return found
    return found


def test_summary_and_history_before_and_after_samples(client: FlaskClient, ui: UiService) -> None:
    empty = client.get(f"{API}/summary").get_json()
    assert empty["summary"] is None
    assert client.get(f"{API}/history").get_json() == {"samples": []}
    assert ui.sample_once() and ui.sample_once()
    body = client.get(f"{API}/summary").get_json()
    assert body["summary"]["dashboard"]["resources"]["cpus"] == {"used": 1.0, "total": 4.0}
    assert [n["id"] for n in body["summary"]["nodes"]] == ["S1"]
    assert body["status"]["ok"] and body["status"]["reads"] == 2
    samples = client.get(f"{API}/history").get_json()["samples"]
    assert [s["t"] for s in samples] == [1005.0, 1010.0]
    later = client.get(f"{API}/history", query_string={"since": "1005"}).get_json()["samples"]
    assert [s["t"] for s in later] == [1010.0]


def test_the_ring_is_bounded_by_history_over_interval(ui: UiService) -> None:
    for _ in range(20):
        ui.sample_once()
    assert ui.ring.capacity == 12 and len(ui.ring) == 12  # 60 s / 5 s


def test_bad_since_is_400_and_events_need_the_event_stream_type(client: FlaskClient) -> None:
    for bad in ("x", "nan"):
        response = client.get(f"{API}/history", query_string={"since": bad})
        assert response.status_code == 400
        assert "since" in response.get_json()["message"]
    response = client.get(f"{API}/events", headers={"Accept": "application/json"})
    assert response.status_code == 406


def test_streams_get_the_snapshot_then_each_sample_from_one_read(
    client: FlaskClient, ui: UiService, master: Master
) -> None:
    ui.sample_once()
    headers = {"Accept": "text/event-stream"}
    first = client.get(f"{API}/events", headers=headers, buffered=False)
    second = client.get(f"{API}/events", headers=headers, buffered=False)
    assert first.status_code == 200 and first.headers["X-Accel-Buffering"] == "no"
    third = client.get(f"{API}/events", headers=headers)
    assert third.status_code == 503  # max_streams = 2
    streams = [first.response, second.response]
    snapshots = [events(iter(s), 1)[0] for s in streams]
    for kind, data in snapshots:
        assert kind == "snapshot"
        assert len(data["history"]) == 1
        assert data["summary"]["dashboard"]["nodes"]["total"] == 1
    reads = master.reads
    master.cpus = 8.0  # the summary changes: both streams get it, and the sample
    ui.sample_once()
    ui.sample_once()  # unchanged: the sample only
    assert master.reads == reads + 2  # one read per sample, whatever the number of streams
    for stream in streams:
        got = events(iter(stream), 3)
        assert [k for k, _ in got] == ["summary", "sample", "sample"]
        assert got[0][1]["dashboard"]["resources"]["cpus"]["total"] == 8.0
        assert got[1][1]["cpus_total"] == 8.0
    for stream in (first, second):
        stream.close()
    assert ui.status()["streams"] == 0


def test_a_failed_read_is_reported_and_the_last_summary_kept(
    client: FlaskClient, ui: UiService, master: Master
) -> None:
    ui.sample_once()
    master.error = ValueError("not JSON")
    assert not ui.sample_once()
    body = client.get(f"{API}/summary").get_json()
    assert body["status"]["ok"] is False and body["status"]["error"] == "not JSON"
    assert body["status"]["failures"] == 1
    assert body["summary"]["dashboard"]["nodes"]["total"] == 1
    master.error = None
    assert ui.sample_once()
    assert client.get(f"{API}/status").get_json()["ok"] is True


def test_health(client: FlaskClient) -> None:
    assert client.get("/health").get_json()["ready"] is True


def test_a_stream_ends_after_max_stream_seconds(master: Master) -> None:
    """So that the browser reconnects through Admin Router, which checks the cookie again."""
    config = UiConfig(master="127.0.0.1:1", threads=8, max_streams=2, max_stream_seconds=0.2)
    ui = UiService(config, lambda why: None, detector=StaticMaster, reader=master)
    client = create_app(ui).test_client()
    started = time.monotonic()
    response = client.get(f"{API}/events", headers={"Accept": "text/event-stream"})
    assert response.status_code == 200
    assert [kind for kind, _ in events(iter([response.data]), 5)] == ["snapshot"]
    assert 0.2 <= time.monotonic() - started < 5.0
    assert ui.status()["streams"] == 0
