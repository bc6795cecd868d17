"""The status-update manager: per-task order, retries with backoff, ACK handling, durability."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemons.agent.protocol import built
from daemons.agent.status_updates import StatusUpdateManager, TaskStream
from daemons.protocols.models import TaskStatus


def status(task: str, state: str, n: int) -> TaskStatus:
    return built(TaskStatus(task_id=task, state=state, uuid=n.to_bytes(16, "big")))


def uuid(status: TaskStatus) -> bytes:
    assert status.uuid is not None
    return status.uuid


def manager(persisted: list[dict[str, object]] | None = None) -> StatusUpdateManager:
    def persist(stream: TaskStream) -> None:
        if persisted is not None:
            persisted.append(stream.snapshot())

    return StatusUpdateManager(initial=10.0, maximum=40.0, persist=persist)


def test_head_is_sent_at_once_then_retried_with_doubling_backoff_up_to_the_maximum() -> None:
    sum_ = manager()
    running = status("t", "TASK_RUNNING", 1)
    assert sum_.update("f", running, now=0.0)
    assert sum_.due(0.0) == [("f", running)]
    assert sum_.due(9.9) == []
    # retries at +10, then +20, then capped at +40: t = 10, 30, 70, 110
    assert sum_.due(10.0) == [("f", running)]
    assert sum_.due(29.9) == []
    assert sum_.due(30.0) == [("f", running)]
    assert sum_.due(70.0) == [("f", running)]
    assert sum_.next_deadline() == 110.0


def test_only_the_head_is_in_flight_and_an_ack_releases_the_next_at_once() -> None:
    sum_ = manager()
    running, finished = status("t", "TASK_RUNNING", 1), status("t", "TASK_FINISHED", 2)
    sum_.update("f", running, 0.0)
    sum_.update("f", finished, 0.0)
    assert sum_.due(0.0) == [("f", running)]
    assert sum_.acknowledge("f", "t", uuid(finished), 1.0) is None  # not the head
    assert sum_.acknowledge("f", "t", uuid(running), 1.0) == running
    assert sum_.due(1.0) == [("f", finished)]


def test_duplicates_and_unexpected_acks_are_harmless() -> None:
    sum_ = manager()
    running = status("t", "TASK_RUNNING", 1)
    assert sum_.update("f", running, 0.0)
    assert not sum_.update("f", dataclasses.replace(running), 0.0)  # same uuid: a duplicate
    assert sum_.acknowledge("f", "other", uuid(running), 0.0) is None
    assert sum_.acknowledge("g", "t", uuid(running), 0.0) is None
    assert sum_.acknowledge("f", "t", uuid(running), 0.0) == running
    assert sum_.acknowledge("f", "t", uuid(running), 0.0) is None  # duplicate ack
    assert list(sum_.pending()) == []


def test_a_terminated_stream_rejects_later_updates() -> None:
    sum_ = manager()
    finished = status("t", "TASK_FINISHED", 1)
    sum_.update("f", finished, 0.0)
    sum_.acknowledge("f", "t", uuid(finished), 0.0)
    assert not sum_.update("f", status("t", "TASK_FAILED", 2), 0.0)
    stream = sum_.get("f", "t")
    assert stream is not None and stream.terminated and stream.latest_state == "TASK_FINISHED"


def test_every_change_is_persisted_before_it_is_visible() -> None:
    def failing(_: TaskStream) -> None:
        raise OSError("disk full")

    sum_ = StatusUpdateManager(10.0, 40.0, persist=failing)
    with pytest.raises(OSError):
        sum_.update("f", status("t", "TASK_RUNNING", 1), 0.0)
    assert list(sum_.pending()) == []
    persisted: list[dict[str, object]] = []
    sum_ = manager(persisted)
    running = status("t", "TASK_RUNNING", 1)
    sum_.update("f", running, 0.0)
    sum_.acknowledge("f", "t", uuid(running), 0.0)
    assert [len(p["pending"]) for p in persisted] == [1, 0]  # type: ignore[arg-type]


def test_resume_resends_every_head_now_and_resets_the_backoff() -> None:
    sum_ = manager()
    a, b = status("a", "TASK_RUNNING", 1), status("b", "TASK_RUNNING", 2)
    sum_.update("f", a, 0.0)
    sum_.update("f", b, 0.0)
    sum_.due(0.0)
    sum_.due(10.0)
    sum_.resume(12.0)
    assert sorted(s.task_id for _, s in sum_.due(12.0)) == ["a", "b"]
    assert sum_.next_deadline() == 22.0


def test_a_recovered_stream_resends_its_head() -> None:
    persisted: list[dict[str, object]] = []
    first = manager(persisted)
    running = status("t", "TASK_RUNNING", 1)
    first.update("f", running, 0.0)
    second = manager()
    second.recover(TaskStream.from_snapshot(persisted[-1]), now=100.0)
    assert second.due(100.0) == [("f", running)]
    assert not second.update("f", dataclasses.replace(running), 100.0)  # still a duplicate


def test_cleanup_drops_a_framework_and_only_that_framework() -> None:
    sum_ = manager()
    sum_.update("f", status("t", "TASK_RUNNING", 1), 0.0)
    sum_.update("g", status("t", "TASK_RUNNING", 2), 0.0)
    sum_.cleanup("f")
    assert [fid for fid, _ in sum_.pending()] == ["g"]


@given(st.lists(st.sampled_from(["TASK_STARTING", "TASK_RUNNING"]), min_size=1, max_size=20))
def test_updates_reach_the_master_in_the_order_they_arrived(states: list[str]) -> None:
    sum_ = manager()
    sent = [status("t", s, i) for i, s in enumerate(states)]
    for s in sent:
        sum_.update("f", s, 0.0)
    delivered = []
    now = 0.0
    while True:
        due = sum_.due(now)
        if not due:
            break
        ((_, head),) = due
        delivered.append(head)
        sum_.acknowledge("f", "t", uuid(head), now)
        now += 1.0
    assert delivered == sent
