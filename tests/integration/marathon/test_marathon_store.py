"""Marathon's store on a real ZooKeeper: one transaction per change, and fencing — once a newer
leader has loaded the state, an older one's writes fail and write nothing."""

from __future__ import annotations

from typing import Any

import pytest

from daemons.kit import zk
from daemons.kit.zk import StoreUnavailable
from daemons.marathon.store import Delete, MarathonStore, Put, PutVersion

pytestmark = pytest.mark.integration


@pytest.fixture
def client(zk_url: str) -> Any:
    hosts, _ = zk.parse_zk_url(zk_url)
    connection = zk.connect(hosts, 4.0)
    yield connection
    connection.stop()
    connection.close()


def test_a_change_is_one_transaction_and_survives_a_new_store(client: Any, zk_url: str) -> None:
    path = zk.parse_zk_url(zk_url)[1] + "-marathon"
    store = MarathonStore(client, path)
    store.load()
    store.commit(
        [
            Put("apps", "web", {"id": "/web"}),
            PutVersion("/web", 1000, {"id": "/web"}),
            Put("deployments", "d1", {"id": "d1"}),
        ]
    )
    again = MarathonStore(client, path).load()
    assert again.apps == {"web": {"id": "/web"}} and again.deployments == {"d1": {"id": "d1"}}
    # A transaction with one failing op writes none of the others.
    bad = [Put("apps", "api", {"id": "/api"}), Delete("deployments", "nope")]
    store._known.add(f"{store.path}/deployments/nope")  # make it try to delete a missing node
    with pytest.raises(StoreUnavailable):
        store.commit(bad)
    assert "api" not in MarathonStore(client, path).load().apps


def test_an_older_leader_is_fenced(client: Any, zk_url: str) -> None:
    path = zk.parse_zk_url(zk_url)[1] + "-marathon"
    old = MarathonStore(client, path)
    old.load()
    old.commit([Put("apps", "web", {"id": "/web", "v": 1})])
    new = MarathonStore(client, path)
    new.load()  # a new leader takes the epoch
    with pytest.raises(StoreUnavailable, match="fenced"):
        old.commit([Put("apps", "web", {"id": "/web", "v": 2})])
    new.commit([Put("apps", "web", {"id": "/web", "v": 3})])
    assert MarathonStore(client, path).load().apps["web"]["v"] == 3
    unloaded = MarathonStore(client, path)
    with pytest.raises(StoreUnavailable, match="not loaded"):
        unloaded.commit([Put("apps", "x", {})])
