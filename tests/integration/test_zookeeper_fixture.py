"""The ZooKeeper fixture gives a real server that kazoo can use, and survives a kill."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kazoo.client import KazooClient

if TYPE_CHECKING:
    from tests.integration.conftest import ZooKeeperServer


def _client(hosts: str) -> KazooClient:
    client = KazooClient(hosts=hosts, timeout=10.0)
    client.start(timeout=15.0)
    return client


def test_znode_round_trip(zookeeper: ZooKeeperServer, zk_url: str) -> None:
    assert zk_url.startswith(f"zk://{zookeeper.hosts}/mesos-")
    client = _client(zookeeper.hosts)
    try:
        client.create("/fixture-check/node", b"hello", makepath=True)
        data, stat = client.get("/fixture-check/node")
        assert data == b"hello"
        assert stat.version == 0
        assert "node" in client.get_children("/fixture-check")
    finally:
        client.delete("/fixture-check", recursive=True)
        client.stop()
        client.close()


def test_data_survives_a_kill_and_restart(zookeeper: ZooKeeperServer) -> None:
    client = _client(zookeeper.hosts)
    try:
        client.create("/fixture-durable", b"kept")
    finally:
        client.stop()
        client.close()

    with zookeeper.stopped():
        assert not zookeeper.is_ok()
    assert zookeeper.is_ok()

    client = _client(zookeeper.hosts)
    try:
        assert client.get("/fixture-durable")[0] == b"kept"
        client.delete("/fixture-durable")
    finally:
        client.stop()
        client.close()
