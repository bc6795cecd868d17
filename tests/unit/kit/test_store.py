"""The fenced store's pure parts: what a refusal says, and no write without an epoch (no
ZooKeeper needed to refuse it). The fencing itself runs on a real ZooKeeper in
tests/integration/kit/test_fenced_store.py."""

from __future__ import annotations

import pytest

from daemons.kit import store as fenced
from daemons.kit.errors import Fenced, ServiceUnavailable, StoreUnavailable


def test_the_error_tree() -> None:
    # A fenced write and a refused one are store failures: 503 to a client, and a step-down
    # for whoever catches StoreUnavailable around its writes (the master).
    assert issubclass(Fenced, StoreUnavailable) and issubclass(fenced.Refused, StoreUnavailable)
    assert issubclass(StoreUnavailable, ServiceUnavailable) and StoreUnavailable.status == 503
    assert not issubclass(fenced.Refused, Fenced)


def test_a_refusal_names_the_write_and_the_reason() -> None:
    write = fenced.SetData("/marathon/state/apps/web", b"{}", version=3)
    refused = fenced.Refused(write, fenced.BAD_VERSION)
    assert refused.message == ("ZooKeeper refused SetData /marathon/state/apps/web: bad version")
    assert refused.body() == {"message": refused.message}


def test_nothing_is_written_without_an_epoch() -> None:
    store = fenced.FencedZkStore(None, "/metronome/")
    assert (store.path, store.epoch_path, store.node("jobs", "a")) == (
        "/metronome",
        "/metronome/epoch",
        "/metronome/jobs/a",
    )
    assert store.commit([]) == []
    with pytest.raises(StoreUnavailable, match="no epoch taken"):
        store.commit([fenced.Delete("/metronome/jobs/a")])
    assert fenced.FencedZkStore(None, "/").node("epoch") == "/epoch"
