"""The file store: compare-and-set on a real file, writers racing from several processes."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from daemons.kit.errors import Conflict, StoreUnavailable
from exhibitor.properties import make
from exhibitor.rolling import Shared
from exhibitor.stores import FileStore, StaticStore, read_or_seed

SEED = make("S:1:h1,S:2:h2,S:3:h3", {"tickTime": "500"})


def test_compare_and_set(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "exhibitor.json")
    assert store.read() is None
    first = read_or_seed(store, SEED)
    assert (first.version, first.shared) == (0, Shared(SEED))
    changed = Shared(make("S:1:h1,S:2:h2,S:3:h3", {"tickTime": "600"}))
    assert store.write(changed, 0) is True
    assert store.write(Shared(SEED), 0) is False  # stale: someone wrote version 1
    assert store.write(Shared(SEED), None) is False  # exists already
    found = store.read()
    assert found is not None and (found.version, found.shared) == (1, changed)


def _race(path: str, n: int, wins: multiprocessing.Queue[int]) -> None:  # type: ignore[type-arg]
    store = FileStore(Path(path))
    won = 0
    for _ in range(20):
        found = store.read()
        assert found is not None
        spec = make("S:1:h1,S:2:h2,S:3:h3", {"writer": str(n), "v": str(found.version)})
        won += store.write(Shared(spec), found.version)
    wins.put(won)


def test_racing_writers_never_overwrite_each_other(tmp_path: Path) -> None:
    path = tmp_path / "exhibitor.json"
    store = FileStore(path)
    read_or_seed(store, SEED)
    wins: multiprocessing.Queue[int] = multiprocessing.Queue()  # type: ignore[type-arg]
    workers = [multiprocessing.Process(target=_race, args=(str(path), n, wins)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    total = sum(wins.get(timeout=5) for _ in workers)
    found = store.read()
    assert found is not None
    # Each successful write bumped the version by exactly one: no write was lost or doubled.
    assert found.version == total
    assert found.shared.config.zoo_cfg_extra["v"] == str(total - 1)


def test_a_garbled_file_is_unavailable_not_guessed(tmp_path: Path) -> None:
    (tmp_path / "exhibitor.json").write_text('{"version": 3, "shared": {"config": {}}}')
    with pytest.raises(StoreUnavailable, match="unreadable"):
        FileStore(tmp_path / "exhibitor.json").read()


def test_the_static_store_is_read_only() -> None:
    store = StaticStore(SEED)
    assert read_or_seed(store, SEED).shared == Shared(SEED)
    with pytest.raises(Conflict, match="config_type is static"):
        store.write(Shared(SEED), 0)
