"""Exhibitor's REST API against a real ZooKeeper (Debian's, standalone on loopback).

The ensemble is the real server on 127.0.0.1 plus two loopback addresses where nothing listens
(127.0.0.2, 127.0.0.3), so one API answers for a serving member and for down ones.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from kazoo.client import KazooClient

from daemons.kit.config import from_mapping
from exhibitor import fourletter
from exhibitor.api import create_app
from exhibitor.config import ExhibitorConfig

pytestmark = pytest.mark.integration


@pytest.fixture
def client(zookeeper: Any) -> Iterator[FlaskClient]:
    zookeeper.ensure_running()
    for _ in range(100):  # `ruok` answers before the server serves; `srvr` says when it does
        if "Mode: standalone" in (fourletter.ask("127.0.0.1", zookeeper.port, "srvr") or ""):
            break
        time.sleep(0.1)
    config = from_mapping(
        ExhibitorConfig,
        {
            "hostname": "127.0.0.1",
            "servers_spec": "S:1:127.0.0.1,S:2:127.0.0.2,S:3:127.0.0.3",
            "client_port": zookeeper.port,
        },
    )
    app = create_app(config)
    with app.test_client() as test_client:
        yield test_client
    zk = app.config["EXHIBITOR_ZK"]["client"]
    if zk is not None:
        zk.stop()
        zk.close()


def test_cluster_status_asks_every_member(client: FlaskClient) -> None:
    answer = client.get("/exhibitor/v1/cluster/status")
    assert answer.status_code == 200
    assert answer.get_json() == [
        {"hostname": "127.0.0.1", "code": 3, "description": "serving", "isLeader": True},
        {"hostname": "127.0.0.2", "code": 1, "description": "down", "isLeader": False},
        {"hostname": "127.0.0.3", "code": 1, "description": "down", "isLeader": False},
    ]


def test_cluster_list_in_both_formats(client: FlaskClient, zookeeper: Any) -> None:
    hosts = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert client.get("/exhibitor/v1/cluster/list").get_json() == {
        "servers": hosts,
        "port": zookeeper.port,
    }
    form = client.get(
        "/exhibitor/v1/cluster/list", headers={"Accept": "application/x-www-form-urlencoded"}
    )
    assert form.get_data(as_text=True) == (
        f"count=3&server0=127.0.0.1&server1=127.0.0.2&server2=127.0.0.3&port={zookeeper.port}"
    )


def test_state_and_four_letter_words(client: FlaskClient) -> None:
    mine = client.get("/exhibitor/v1/cluster/state").get_json()
    assert (mine["state"], mine["description"], mine["isLeader"]) == (3, "serving", True)
    assert client.get("/exhibitor/v1/cluster/state/127.0.0.2").get_json()["state"] == 1
    assert client.get("/exhibitor/v1/cluster/4ltr/ruok").get_json() == "imok"
    assert "Mode: standalone" in client.get("/exhibitor/v1/cluster/4ltr/srvr/127.0.0.1").get_json()
    state = client.get("/exhibitor/v1/config/get-state").get_json()
    assert state["running"] is True
    assert state["config"]["serversSpec"] == "S:1:127.0.0.1,S:2:127.0.0.2,S:3:127.0.0.3"
    assert state["config"]["serverId"] == 1


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/exhibitor/v1/cluster/4ltr/kill", 400, "unknown four-letter word"),
        ("/exhibitor/v1/cluster/4ltr/ruok/10.9.9.9", 404, "not a server of this ensemble"),
        ("/exhibitor/v1/cluster/state/10.9.9.9", 404, "not a server of this ensemble"),
        ("/exhibitor/v1/explorer/node", 400, "absolute znode path"),
        ("/exhibitor/v1/explorer/node?key=mesos", 400, "absolute znode path"),
        ("/exhibitor/v1/explorer/node?key=/a/../b", 400, "not a canonical znode path"),
        ("/exhibitor/v1/explorer/node-data?key=/a//b", 400, "not a canonical znode path"),
    ],
)
def test_bad_requests_are_refused_with_a_message(
    client: FlaskClient, path: str, status: int, message: str
) -> None:
    answer = client.get(path)
    assert answer.status_code == status
    assert message in answer.get_json()["message"]


def test_explorer_reads_znodes(client: FlaskClient, zookeeper: Any) -> None:
    zk = KazooClient(hosts=zookeeper.hosts)
    zk.start(timeout=10)
    try:
        zk.ensure_path("/exhibitor-test/a")
        zk.create("/exhibitor-test/b", b"hello \xff")
        children = client.get("/exhibitor/v1/explorer/node?key=/exhibitor-test").get_json()
        assert children == [
            {"title": "a", "key": "/exhibitor-test/a", "isLazy": True, "expand": False},
            {"title": "b", "key": "/exhibitor-test/b", "isLazy": True, "expand": False},
        ]
        data = client.get("/exhibitor/v1/explorer/node-data?key=/exhibitor-test/b").get_json()
        assert data["bytes"] == b"hello \xff".hex()
        assert data["str"] == "hello \ufffd"
        assert "dataLength: 7" in data["stat"]
        gone = client.get("/exhibitor/v1/explorer/node-data?key=/exhibitor-test/none").get_json()
        assert gone["stat"] == "* not found * "
        assert client.get("/exhibitor/v1/explorer/node?key=/nothing-here").get_json() == []
        root = client.get("/exhibitor/v1/explorer/node?key=/").get_json()
        assert {
            "title": "exhibitor-test",
            "key": "/exhibitor-test",
            "isLazy": True,
            "expand": False,
        } in root
    finally:
        zk.delete("/exhibitor-test", recursive=True)
        zk.stop()
        zk.close()
