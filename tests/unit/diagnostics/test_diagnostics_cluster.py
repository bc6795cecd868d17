"""The aggregation of the nodes' reports into DC/OS's views, node discovery from
/master/slaves, and the config's rules, as pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from daemons.diagnostics import cluster
from daemons.diagnostics.cluster import NodeReport
from daemons.diagnostics.config import DiagnosticsConfig
from daemons.diagnostics.units import HEALTHY, UNHEALTHY, UNKNOWN, Unit
from daemons.kit.config import ConfigError, from_mapping


def unit(unit_id: str, health: int = HEALTHY, output: str = "") -> Unit:
    return Unit(unit_id, unit_id.split(".")[0].upper(), f"{unit_id} desc", health, output)


M1 = NodeReport("10.0.0.1", "master", (unit("dcos-m.service"), unit("dcos-d.service")))
A1 = NodeReport("10.0.0.21", "agent", (unit("dcos-a.service"), unit("dcos-d.service")))
P1 = NodeReport(
    "10.0.0.31",
    "agent_public",
    (unit("dcos-a.service", UNHEALTHY, "boom"), unit("dcos-d.service")),
)
NODES = [M1, A1, P1]


def test_worst() -> None:
    assert cluster.worst([]) == HEALTHY
    assert cluster.worst([HEALTHY, HEALTHY]) == HEALTHY
    assert cluster.worst([HEALTHY, UNKNOWN]) == UNKNOWN
    assert cluster.worst([UNKNOWN, UNHEALTHY, HEALTHY]) == UNHEALTHY


def test_node_health_is_its_worst_unit() -> None:
    assert M1.health == HEALTHY
    assert P1.health == UNHEALTHY
    assert NodeReport("10.0.0.9", "agent").health == HEALTHY


def test_units_view_unhealthy_anywhere_is_unhealthy() -> None:
    assert cluster.units_view(NODES) == {
        "units": [
            {
                "id": "dcos-a.service",
                "name": "DCOS-A",
                "health": UNHEALTHY,
                "description": "dcos-a.service desc",
            },
            {
                "id": "dcos-d.service",
                "name": "DCOS-D",
                "health": HEALTHY,
                "description": "dcos-d.service desc",
            },
            {
                "id": "dcos-m.service",
                "name": "DCOS-M",
                "health": HEALTHY,
                "description": "dcos-m.service desc",
            },
        ]
    }


def test_unit_nodes_and_unit_node() -> None:
    assert cluster.unit_nodes(NODES, "dcos-a.service") == {
        "nodes": [
            {"host_ip": "10.0.0.21", "health": HEALTHY, "role": "agent"},
            {"host_ip": "10.0.0.31", "health": UNHEALTHY, "role": "agent_public"},
        ]
    }
    assert cluster.unit_node(NODES, "dcos-a.service", "10.0.0.31") == {
        "host_ip": "10.0.0.31",
        "health": UNHEALTHY,
        "role": "agent_public",
        "output": "boom",
        "help": "",
    }


def test_nodes_views() -> None:
    assert cluster.nodes_view(list(reversed(NODES))) == {
        "nodes": [
            {"host_ip": "10.0.0.1", "health": HEALTHY, "role": "master"},
            {"host_ip": "10.0.0.21", "health": HEALTHY, "role": "agent"},
            {"host_ip": "10.0.0.31", "health": UNHEALTHY, "role": "agent_public"},
        ]
    }
    assert cluster.node_view(NODES, "10.0.0.31")["health"] == UNHEALTHY
    assert [u["id"] for u in cluster.node_units(NODES, "10.0.0.1")["units"]] == [
        "dcos-m.service",
        "dcos-d.service",
    ]
    assert cluster.node_unit(NODES, "10.0.0.31", "dcos-a.service")["output"] == "boom"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: cluster.unit_view(NODES, "dcos-nope.service"), "Unit dcos-nope.service not found"),
        (lambda: cluster.unit_nodes(NODES, "nope"), "Unit nope not found"),
        (lambda: cluster.unit_node(NODES, "nope", "10.0.0.1"), "Unit nope not found"),
        (lambda: cluster.unit_node(NODES, "dcos-m.service", "10.9.9.9"), "Node 10.9.9.9 not found"),
        (
            lambda: cluster.unit_node(NODES, "dcos-m.service", "10.0.0.21"),
            "Unit dcos-m.service not found",
        ),
        (lambda: cluster.node_view(NODES, "10.9.9.9"), "Node 10.9.9.9 not found"),
        (lambda: cluster.node_units(NODES, "x"), "Node x not found"),
        (
            lambda: cluster.node_unit(NODES, "10.0.0.1", "dcos-a.service"),
            "Unit dcos-a.service not found",
        ),
    ],
)
def test_unknown_unit_or_node_is_404(call: Any, message: str) -> None:
    with pytest.raises(cluster.NotFound) as err:
        call()
    assert err.value.status == 404
    assert err.value.body() == {"message": message}


def test_an_unreachable_node_is_unknown_with_its_last_units() -> None:
    gone = cluster.unreachable("10.0.0.21", "agent", "timed out", A1)
    assert gone.health == UNKNOWN and not gone.reachable
    assert [u.health for u in gone.units] == [UNKNOWN, UNKNOWN]
    assert "timed out" in gone.units[0].output
    never = cluster.unreachable("10.0.0.22", "agent", "refused", None)
    assert never.health == UNKNOWN and never.units == ()
    views = [M1, gone, P1]
    assert cluster.node_view(views, "10.0.0.21")["health"] == UNKNOWN
    # dcos-d is healthy on the others, unknown on the silent node: unknown overall.
    assert cluster.unit_view(views, "dcos-d.service")["health"] == UNKNOWN
    # unhealthy somewhere wins over unknown.
    assert cluster.unit_view(views, "dcos-a.service")["health"] == UNHEALTHY


def test_report_from_json_round_trip_and_bad_shapes() -> None:
    body = {
        "units": [u.full() for u in P1.units],
        "hostname": "p1",
        "ip": "10.0.0.31",
        "mesos_id": "S1",
    }
    got = cluster.report_from_json("10.0.0.31", "agent_public", body)
    assert got.units == tuple(sorted(P1.units, key=lambda u: u.id))
    assert (got.hostname, got.mesos_id) == ("p1", "S1")
    for bad in (
        [],
        {"units": "x"},
        {"units": [1]},
        {"units": [{"id": "a", "health": 2}]},
        {"units": [{"id": "a", "health": True}]},
        {"units": [{"id": "", "health": 0}]},
        {"units": [{"id": "a", "health": 0, "name": 5}]},
        {"units": [], "hostname": 1},
    ):
        with pytest.raises(cluster.BadReport):
            cluster.report_from_json("10.0.0.31", "agent", bad)


def test_nodes_from_slaves() -> None:
    body = {
        "slaves": [
            {
                "id": "S2",
                "pid": "slave(1)@10.0.0.31:5051",
                "hostname": "p1",
                "attributes": {"public_ip": "true"},
            },
            {"id": "S1", "pid": "slave(1)@10.0.0.21:5051", "hostname": "a1", "attributes": {}},
            {"id": "S3", "hostname": "10.0.0.22", "reserved_resources": {"slave_public": {}}},
            {"id": "S4"},
            "junk",
        ]
    }
    assert cluster.nodes_from_slaves(body) == [
        ("10.0.0.21", "agent", "S1"),
        ("10.0.0.22", "agent_public", "S3"),
        ("10.0.0.31", "agent_public", "S2"),
    ]
    with pytest.raises(cluster.BadReport):
        cluster.nodes_from_slaves({"nodes": []})


def test_report_tree() -> None:
    gone = cluster.unreachable("10.0.0.21", "agent", "timed out", A1)
    tree = cluster.report([M1, gone, P1], "10.0.0.1", "2026-01-01T00:00:00Z")
    assert tree["UpdatedTime"] == "2026-01-01T00:00:00Z"
    assert tree["Units"]["dcos-a.service"]["Health"] == UNHEALTHY
    assert [n["host_ip"] for n in tree["Units"]["dcos-a.service"]["Nodes"]] == [
        "10.0.0.21",
        "10.0.0.31",
    ]
    assert tree["Nodes"]["10.0.0.1"]["Leader"] is True
    assert tree["Nodes"]["10.0.0.21"]["Health"] == UNKNOWN
    assert "timed out" in tree["Nodes"]["10.0.0.21"]["Output"][""]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"role": "boss"}, "role"),
        ({"node_ip": "nope"}, "node_ip"),
        ({"aggregate": True}, "masters"),
        ({"masters": ["x"]}, "masters"),
        ({"poll_interval": 1.0, "poll_timeout": 3.0}, "poll_timeout"),
        ({"port": 0}, "port"),
        ({"unit_prefix": ""}, "unit_prefix"),
        ({"pid_files": {"a": ""}}, "pid_files"),
        ({"journal_lines": -1}, "journal_lines"),
        ({"log_level": "loud"}, "log_level"),
        ({"nonsense": 1}, "nonsense"),
    ],
)
def test_config_problems(data: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        from_mapping(DiagnosticsConfig, data)
    assert any(problem in p for p in err.value.problems)


def test_config_defaults_are_dcos() -> None:
    config = from_mapping(DiagnosticsConfig, {"masters": ["10.0.0.1"], "aggregate": True})
    assert (config.port, config.poll_interval, config.poll_timeout) == (1050, 60.0, 3.0)
    assert config.masters == ("10.0.0.1",)
