"""The UI backend's pure cores: the ring of samples, a state-summary turned into the
dashboard's numbers and the nodes table, and the config's checks."""

from __future__ import annotations

from typing import Any

import pytest

from daemons.ui import summary
from daemons.ui.config import UiConfig
from daemons.ui.ring import Ring, Sample


def point(t: float, cpus: float = 1.0) -> Sample:
    return Sample(t, cpus, 4.0, 10.0, 100.0, 0.0, 50.0, 0.0, 0.0, 1, 1)


def test_ring_keeps_the_newest_capacity_samples_oldest_first() -> None:
    ring = Ring(3)
    for t in range(1, 6):
        assert ring.push(point(float(t)))
    assert [s.t for s in ring] == [3.0, 4.0, 5.0]
    assert len(ring) == 3
    assert ring.latest() == point(5.0)
    assert [s.t for s in ring.since(3.0)] == [4.0, 5.0]
    assert ring.since(5.0) == []


def test_ring_refuses_a_sample_not_newer_than_the_newest() -> None:
    ring = Ring(5)
    ring.push(point(10.0))
    assert not ring.push(point(10.0))
    assert not ring.push(point(9.0))
    assert [s.t for s in ring] == [10.0]


def test_ring_of_no_capacity_is_an_error() -> None:
    with pytest.raises(ValueError):
        Ring(0)
    assert Ring(1).latest() is None


def agent(aid: str, host: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": aid,
        "hostname": host,
        "pid": f"slave(1)@{host}:5051",
        "resources": {"cpus": 4.0, "mem": 4096.0, "disk": 10000.0, "ports": "[31000-32000]"},
        "used_resources": {"cpus": 1.5, "mem": 512.0, "disk": 0.0},
        "reserved_resources": {},
        "attributes": {},
        "active": True,
        "TASK_RUNNING": 2,
        "TASK_STAGING": 1,
        "TASK_FINISHED": 7,
        **extra,
    }


SUMMARY: dict[str, Any] = {
    "hostname": "m1",
    "cluster": "test",
    "slaves": [
        agent("S2", "10.0.0.2", reserved_resources={"slave_public": {"cpus": 4.0}}),
        agent("S1", "10.0.0.1", active=False, used_resources={}),
        {"hostname": "no id"},
        "not an object",
    ],
    "removed_slaves": [
        {
            "id": "S4",
            "state": "gone",
            "time": 5.0,
            "hostname": "10.0.0.4",
            "resources": {"cpus": 2.0},
            "reserved_resources": {"slave_public": {"cpus": 2.0}},
        },
        {
            "id": "S3",
            "state": "unreachable",
            "time": 9.0,
            "hostname": "10.0.0.3",
            "resources": {"cpus": 4.0, "mem": 1024.0},
        },
        {"id": "S9", "state": "gone", "time": 1.0},  # its info no longer parsed at the master
        {"id": "S2", "state": "unreachable", "time": 2.0, "hostname": "10.0.0.2"},
        {"state": "gone"},
    ],
    "frameworks": [
        {"id": "F1", "TASK_RUNNING": 2, "TASK_FAILED": 3},
        {"id": "F2", "TASK_RUNNING": 1, "TASK_STAGING": 1, "TASK_FINISHED": "x"},
    ],
}


def test_node_rows_sum_live_tasks_and_tell_public_from_private() -> None:
    rows = summary.nodes(SUMMARY)
    # By hostname; entries without an id skipped; S2 is registered, so its stale removal is not.
    assert [r["id"] for r in rows] == ["S9", "S1", "S2", "S3", "S4"]
    s9, s1, s2, s3, s4 = rows
    assert (s3["status"], s3["since"], s3["tasks"]) == ("unreachable", 9.0, 0)
    assert s3["cpus"] == {"used": 0.0, "total": 4.0} and s3["type"] == "private"
    assert (s4["status"], s4["type"]) == ("gone", "public")
    assert (s9["status"], s9["hostname"], s9["cpus"]["total"]) == ("gone", "", 0.0)
    assert s1["status"] == "inactive" and s2["status"] == "active"
    assert s1["type"] == "private" and s2["type"] == "public"
    assert s2["ip"] == "10.0.0.2"
    assert s2["tasks"] == 3  # running + staging; finished tasks hold nothing
    assert s2["cpus"] == {"used": 1.5, "total": 4.0}
    assert s1["mem"] == {"used": 0.0, "total": 4096.0}
    assert s1["gpus"] == {"used": 0.0, "total": 0.0}


def test_public_ip_attribute_makes_a_public_node() -> None:
    row = summary.node_row(agent("S3", "h", attributes={"public_ip": "true"}))
    assert row is not None and row["type"] == "public"


def test_dashboard_totals_node_counts_and_tasks_by_state() -> None:
    board = summary.dashboard(SUMMARY)
    assert board["cluster"] == "test" and board["leader"] == "m1"
    # Removed agents pool nothing: the totals and the types are the registered agents'.
    assert board["resources"]["cpus"] == {"used": 1.5, "total": 8.0}
    assert board["resources"]["mem"] == {"used": 512.0, "total": 8192.0}
    assert board["nodes"] == {
        "total": 2,
        "active": 1,
        "inactive": 1,
        "unreachable": 1,
        "gone": 2,
        "public": 1,
        "private": 1,
    }
    assert board["frameworks"] == 2
    assert board["tasks"]["TASK_RUNNING"] == 3
    assert board["tasks"]["TASK_FAILED"] == 3
    assert board["tasks"]["TASK_STAGING"] == 1
    assert board["tasks"]["TASK_FINISHED"] == 0  # a non-number counts as 0


def test_empty_and_malformed_summaries() -> None:
    board = summary.dashboard({})
    assert board["nodes"]["total"] == 0
    assert board["resources"]["cpus"] == {"used": 0.0, "total": 0.0}
    with pytest.raises(summary.SummaryProblem):
        summary.dashboard({"slaves": {"not": "a list"}})
    for not_an_object in ([], None, "text"):
        with pytest.raises(summary.SummaryProblem):
            summary.nodes(not_an_object)  # type: ignore[arg-type]
        with pytest.raises(summary.SummaryProblem):
            summary.dashboard(not_an_object)  # type: ignore[arg-type]


def test_sample_of_a_dashboard() -> None:
    s = summary.sample(42.0, summary.dashboard(SUMMARY))
    assert (s.t, s.cpus_used, s.cpus_total, s.mem_total, s.nodes, s.tasks_running) == (
        42.0,
        1.5,
        8.0,
        8192.0,
        2,
        3,
    )
    assert s.to_json()["disk_total"] == 20000.0


def test_config_defaults_are_valid_and_bad_values_are_named() -> None:
    assert UiConfig().validate() == []
    assert UiConfig().ring_capacity == 720
    problems = UiConfig(
        master="zk://nohostpath",
        sample_interval=0.1,
        history_seconds=10,
        max_streams=40,
        max_stream_seconds=1.0,
        threads=8,
        port=0,
        log_level="loud",
    ).validate()
    fields = ("master", "sample_interval", "history_seconds", "max_stream_seconds", "threads")
    for field in (*fields, "port", "log_level"):
        assert any(p.startswith(field) for p in problems), field
    assert UiConfig(sample_interval=1.0, history_seconds=7 * 24 * 3600.0).validate() == [
        "history_seconds / sample_interval: at most 100,000 samples"
    ]
