"""The kit's fenced store on a real ZooKeeper: a new leader's epoch fences every write of an
older one (and tells it, so it steps down), refusals name the write and write nothing, and
ZooKeeper being away is `StoreUnavailable`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from daemons.kit import store as fenced
from daemons.kit import zk
from daemons.kit.errors import Fenced, StoreUnavailable

pytestmark = pytest.mark.integration


@pytest.fixture
def client(zk_url: str) -> Iterator[Any]:
    connection = zk.connect(zk.parse_zk_url(zk_url)[0], 4.0)
    yield connection
    connection.stop()
    connection.close()


@pytest.fixture
def path(zk_url: str) -> str:
    return zk.parse_zk_url(zk_url)[1] + "-store"


def test_a_newer_epoch_fences_every_write_of_the_older_holder(client: Any, path: str) -> None:
    told: list[str] = []
    old = fenced.FencedZkStore(client, path, on_fenced=told.append)
    old.take_epoch(b"old")
    assert old.commit([fenced.Create(old.node("a"), b"1")]) == [0]
    assert old.commit([fenced.SetData(old.node("a"), b"2")]) == [1]

    new = fenced.FencedZkStore(client, path)
    new.take_epoch(b"new")
    for write in (
        fenced.SetData(old.node("a"), b"stale"),
        fenced.Create(old.node("b"), b"stale"),
        fenced.Delete(old.node("a")),
    ):
        with pytest.raises(Fenced, match="fenced"):
            old.commit([write])
    assert len(told) == 3 and told[0].startswith("fenced")
    # None of the fenced writes reached ZooKeeper; the new holder writes as usual.
    assert client.get(old.node("a"))[0] == b"2"
    assert not client.exists(old.node("b"))
    assert client.get(new.epoch_path)[0] == b"new"
    assert new.commit([fenced.SetData(new.node("a"), b"3", 1), fenced.Create(new.node("b"), b"")])
    assert new.read(new.node("a")) == (b"3", 2)


def test_a_refused_write_names_itself_and_nothing_of_its_transaction_is_written(
    client: Any, path: str
) -> None:
    store = fenced.FencedZkStore(client, path)
    with pytest.raises(StoreUnavailable, match="not the leader"):  # before any epoch
        store.commit([fenced.Create(store.node("x"), b"")])
    store.take_epoch()
    store.ensure(store.node("folder"))
    store.commit([fenced.Create(store.node("folder", "child"), b"{}")])
    cases: list[tuple[fenced.Write, str]] = [
        (fenced.Create(store.node("folder", "child"), b""), fenced.NODE_EXISTS),
        (fenced.SetData(store.node("missing"), b""), fenced.NO_NODE),
        (fenced.SetData(store.node("folder", "child"), b"", version=7), fenced.BAD_VERSION),
        (fenced.Delete(store.node("folder")), fenced.NOT_EMPTY),
        (fenced.Check(store.node("folder", "child"), 3), fenced.BAD_VERSION),
    ]
    for write, reason in cases:
        with pytest.raises(fenced.Refused) as refused:
            store.commit([fenced.Create(store.node("first"), b"written?"), write])
        assert (refused.value.write, refused.value.reason) == (write, reason)
        assert write.path in refused.value.message and refused.value.status == 503
        assert not client.exists(store.node("first"))


def test_reads_and_their_absences(client: Any, path: str) -> None:
    store = fenced.FencedZkStore(client, path)
    store.take_epoch()
    assert store.children(store.node("nothing")) == []
    assert store.read(store.node("nothing")) is None
    store.ensure(store.node("d"))
    store.commit([fenced.Create(store.node("d", str(i)), str(i).encode()) for i in range(20)])
    found = store.read_all([*(store.node("d", str(i)) for i in range(20)), store.node("gone")])
    assert found == {store.node("d", str(i)): (str(i).encode(), 0) for i in range(20)}
    assert sorted(store.children(store.node("d")), key=int) == [str(i) for i in range(20)]


def test_zookeeper_away_is_store_unavailable(zookeeper: Any, zk_url: str) -> None:
    connection = zk.connect(zk.parse_zk_url(zk_url)[0], 4.0)
    try:
        store = fenced.FencedZkStore(
            connection, zk.parse_zk_url(zk_url)[1], write_timeout=2.0, read_timeout=2.0
        )
        store.take_epoch()
        with zookeeper.stopped():
            with pytest.raises(StoreUnavailable) as away:
                store.commit([fenced.Create(store.node("x"), b"")])
            assert not isinstance(away.value, Fenced)
            with pytest.raises(StoreUnavailable):
                store.read(store.node("x"))
    finally:
        connection.stop()
        connection.close()
