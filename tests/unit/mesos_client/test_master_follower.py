"""The master follower (`daemons.mesos_client.master_follower`) and the operator API's
subscription (`operator_subscription`) against the conftest's fake master on loopback: the
state read when a stream starts, events applied and handed on coalesced, a state read again
when an event does not fit or a stream starts again, a refused snapshot, no leader in time, and
the stream's first event and heartbeat watchdog."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from typing import Any

import pytest

from daemons.mesos_client.master_follower import MasterFollower, MasterSnapshot
from daemons.mesos_client.operator_subscription import OperatorSubscription
from daemons.mesos_client.subscription import Backoff
from daemons.mesos_client.transport import parse_endpoint
from tests.unit.mesos_client.conftest import FakeMesos, FakeStream

JSON = dict[str, Any]

STATE: JSON = {
    "leader": "master@127.0.0.1:5050",
    "slaves": [{"id": "S0", "pid": "slave(1)@10.0.6.21:5051", "hostname": "a1", "port": 5051}],
    "frameworks": [{"id": "F0", "name": "marathon", "hostname": "h", "pid": None, "tasks": []}],
}


class OperatorFake(FakeMesos):
    heartbeat = 15.0

    def __init__(self) -> None:
        super().__init__("/api/v1", self._subscribed)
        self.pages["/master/state"] = STATE

    def _subscribed(self, call: JSON) -> JSON | None:
        interval = self.heartbeat
        return {"type": "SUBSCRIBED", "subscribed": {"heartbeat_interval_seconds": interval}}


def task_added(name: str, framework: str = "F0") -> JSON:
    task = {
        "task_id": {"value": name},
        "name": name,
        "framework_id": {"value": framework},
        "agent_id": {"value": "S0"},
        "state": "TASK_RUNNING",
        "statuses": [{"task_id": {"value": name}, "state": "TASK_RUNNING", "timestamp": 1.0}],
    }
    return {"type": "TASK_ADDED", "task_added": {"task": task}}


def task_names(snapshot: MasterSnapshot) -> set[str]:
    return {t["name"] for f in snapshot.state["frameworks"] for t in f["tasks"]}


class Taken:
    """The consumer: every snapshot handed on, in order."""

    def __init__(self) -> None:
        self.snapshots: queue.SimpleQueue[MasterSnapshot] = queue.SimpleQueue()
        self.refuse = False

    def __call__(self, snapshot: MasterSnapshot) -> None:
        self.snapshots.put(snapshot)
        if self.refuse:
            raise ValueError("not a state this consumer can use")

    def until(self, check: Any, timeout: float = 5.0) -> MasterSnapshot:
        """The first snapshot from now on for which `check` holds."""
        deadline = time.monotonic() + timeout
        while True:
            snapshot = self.snapshots.get(timeout=max(0.01, deadline - time.monotonic()))
            if check(snapshot):
                return snapshot

    def drain(self) -> list[MasterSnapshot]:
        out = []
        while not self.snapshots.empty():
            out.append(self.snapshots.get())
        return out


@pytest.fixture
def fake() -> Iterator[OperatorFake]:
    master = OperatorFake()
    yield master
    master.close()


def follower_of(fake: OperatorFake, taken: Taken, **options: Any) -> MasterFollower:
    settings: JSON = {"masters": [fake.address], "refresh_seconds": 60.0, "coalesce": 0.05}
    return MasterFollower(taken, **{**settings, **options})


@pytest.fixture
def taken() -> Taken:
    return Taken()


@pytest.fixture
def stream(fake: OperatorFake, taken: Taken) -> Iterator[FakeStream]:
    """A follower of `fake` past its first snapshot and the state reads its start asks for;
    the event stream it holds."""
    follower = follower_of(fake, taken)
    follower.start()
    try:
        subscribed = fake.wait_stream()
        first = taken.until(lambda s: s.state.get("leader"))
        assert first.masters == (fake.address,)
        assert task_names(first) == set()
        assert follower.loaded.wait(2.0)
        time.sleep(0.2)  # the read the SUBSCRIBED event asks for, handed on too
        taken.drain()
        yield subscribed
    finally:
        follower.stop()


def state_task(name: str, framework: str) -> JSON:
    """A running task as `/master/state` lists it."""
    return {
        "id": name,
        "name": name,
        "slave_id": "S0",
        "framework_id": framework,
        "state": "TASK_RUNNING",
    }


def test_the_state_then_events_handed_on_coalesced(
    fake: OperatorFake, taken: Taken, stream: FakeStream
) -> None:
    # A burst of events (a deployment) inside one coalescing window: one snapshot.
    for n in range(20):
        stream.send(task_added(f"web{n}"))
    last = taken.until(lambda s: len(task_names(s)) == 20)
    time.sleep(0.2)
    assert len(taken.drain()) == 0  # nothing more: the burst made one snapshot
    assert task_names(last) == {f"web{n}" for n in range(20)}
    # Task events alone since the snapshot before: it says which tasks they were.
    assert last.changes is not None
    (changes,) = last.changes
    assert {t["name"] for t in changes.tasks} == task_names(last) and changes.ended == ()
    # Events change the view only: no state read for them.
    assert fake.gets.count("/master/state") <= 2


def test_an_event_that_does_not_fit_reads_the_state_again(
    fake: OperatorFake, taken: Taken, stream: FakeStream
) -> None:
    reads = fake.gets.count("/master/state")
    # A task of a framework the view does not know: read again, and the state read now (the
    # framework with its task, as the master knows them) is what is handed on.
    other = {"id": "F1", "name": "other", "tasks": [state_task("x", "F1")]}
    fake.pages["/master/state"] = {**STATE, "frameworks": [*STATE["frameworks"], other]}
    stream.send(task_added("x", framework="F1"))
    snapshot = taken.until(lambda s: "x" in task_names(s))
    assert fake.gets.count("/master/state") > reads
    assert snapshot.changes is None  # a new read: look at everything
    assert {f["name"] for f in snapshot.state["frameworks"]} == {"marathon", "other"}


def test_a_new_stream_reads_the_state_again(
    fake: OperatorFake, taken: Taken, stream: FakeStream
) -> None:
    reads = fake.gets.count("/master/state")
    marathon = {**STATE["frameworks"][0], "tasks": [state_task("db", "F0")]}
    fake.pages["/master/state"] = {**STATE, "frameworks": [marathon]}
    stream.end()  # the master went away and came back: the events between are lost
    fake.wait_stream(2)
    taken.until(lambda s: task_names(s) == {"db"})
    assert fake.gets.count("/master/state") > reads


def test_a_refused_snapshot_is_not_loaded(fake: OperatorFake, taken: Taken) -> None:
    taken.refuse = True
    follower = follower_of(fake, taken)
    follower.start()
    try:
        stream = fake.wait_stream()
        taken.until(lambda s: True)
        assert not follower.loaded.is_set()
        taken.refuse = False
        stream.send(task_added("web"))
        # The snapshot before was refused: this one is whole, not what changed since.
        assert taken.until(lambda s: task_names(s) == {"web"}).changes is None
        assert follower.loaded.wait(2.0)
        stream.send(task_added("api"))
        assert taken.until(lambda s: "api" in task_names(s)).changes is not None
    finally:
        follower.stop()


def test_no_leader_within_the_detection_timeout_is_fatal(taken: Taken) -> None:
    reasons: queue.SimpleQueue[str] = queue.SimpleQueue()
    follower = MasterFollower(
        taken,
        masters=["127.0.0.1:9"],  # nothing listens on the discard port
        detection_timeout=0.2,
        on_fatal=reasons.put,
        state_timeout=0.5,
    )
    follower.start()
    try:
        assert reasons.get(timeout=5.0) == "no leading master's state within 0.2s"
        assert taken.snapshots.empty() and not follower.loaded.is_set()
    finally:
        follower.stop()


def test_the_masters_or_zookeeper_are_required(taken: Taken) -> None:
    with pytest.raises(ValueError, match="masters or ZooKeeper"):
        MasterFollower(taken)


def test_the_operator_stream_must_start_with_subscribed_and_heartbeats_keep_it(
    fake: OperatorFake,
) -> None:
    events: queue.SimpleQueue[JSON] = queue.SimpleQueue()
    fake.first_event = lambda call: {"type": "HEARTBEAT"}
    subscription = OperatorSubscription(
        lambda: parse_endpoint(fake.address, 5050),
        events.put,
        backoff=Backoff(initial=0.05, maximum=0.05),
        timeout=2.0,
    )
    subscription.start()
    try:
        fake.wait_stream(2)  # not the operator API: dropped and tried again
        assert events.empty()  # nothing of that stream was delivered
        fake.heartbeat = 0.1
        fake.first_event = fake._subscribed
        stream = fake.wait_stream(3)
        assert events.get(timeout=2.0)["type"] == "SUBSCRIBED"
        assert subscription.endpoint == parse_endpoint(fake.address, 5050)
        stream.send({"type": "HEARTBEAT"})
        assert events.get(timeout=2.0)["type"] == "HEARTBEAT"
        # Three heartbeat intervals without one: the stream is dead, subscribed again.
        fake.wait_stream(4)
        subscription.reconnect()  # the leader moved: a new stream at once
        fake.wait_stream(5)
    finally:
        subscription.close()
