"""SchedulerClient against the in-test fake master (conftest): subscribe, offers, accept, update
and auto-acknowledge, 307 and 503 on SUBSCRIBE, heartbeat watchdog failover, teardown."""

from __future__ import annotations

import base64
import json
import threading
import time
from typing import Any

import pytest

from daemons.mesos_client import (
    Backoff,
    CallRejected,
    Error,
    Event,
    MasterUnavailable,
    NotSubscribed,
    Offers,
    SchedulerClient,
    Subscribed,
    SubscriptionEnded,
    Update,
    command_task,
)
from daemons.protocols.recordio import encode_json

FAST = Backoff(initial=0.01, maximum=0.05)
FRAMEWORK = {"user": "root", "name": "test-framework", "failover_timeout": 60.0}
UUID1 = bytes(range(16))
UUID2 = bytes(range(16, 32))


def offers_event(offer_id: str = "O1") -> dict[str, Any]:
    return {
        "type": "OFFERS",
        "offers": {
            "offers": [
                {
                    "id": {"value": offer_id},
                    "framework_id": {"value": "fw-1"},
                    "agent_id": {"value": "S0"},
                    "hostname": "agent-1",
                    "resources": [
                        {"name": "cpus", "type": "SCALAR", "scalar": {"value": 4.0}},
                        {"name": "mem", "type": "SCALAR", "scalar": {"value": 2048.0}},
                    ],
                }
            ]
        },
    }


def update_event(task_id: str, state: str, uuid: bytes | None) -> dict[str, Any]:
    status: dict[str, Any] = {
        "task_id": {"value": task_id},
        "state": state,
        "agent_id": {"value": "S0"},
        "source": "SOURCE_EXECUTOR",
    }
    if uuid is not None:
        status["uuid"] = base64.b64encode(uuid).decode()
    return {"type": "UPDATE", "update": {"status": status}}


def client_for(master: Any, **kwargs: Any) -> SchedulerClient:
    client = SchedulerClient(master.address, FRAMEWORK, backoff=FAST, **kwargs)
    client.start()
    return client


def next_of(client: SchedulerClient, kind: type[Any]) -> Any:
    """The next event of `kind`, skipping others (heartbeats)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        event = client.next_event(timeout=0.5)
        if isinstance(event, kind):
            return event
    raise AssertionError(f"no {kind.__name__} event")


def test_subscribe_offer_accept_update_acknowledge(master: Any) -> None:
    client = client_for(master)
    try:
        subscribed = next_of(client, Subscribed)
        assert subscribed.framework_id == "fw-1"
        assert client.framework_id == "fw-1"
        first = master.subscribe_attempts[0]
        assert first == {"type": "SUBSCRIBE", "subscribe": {"framework_info": FRAMEWORK}}

        stream = master.wait_stream()
        stream.send(offers_event(), pieces=5)  # one record over five HTTP chunks
        offers = next_of(client, Offers)
        offer = offers.offers[0]
        assert offer.resources["*"].scalar("cpus") == 4.0

        task = command_task("sleep", "t1", offer.agent_id, 0.5, 64, "sleep 1")
        client.launch([offer.id], [task], refuse_seconds=5)
        accept, headers = master.wait_call("ACCEPT")
        assert headers["Mesos-Stream-Id"] == stream.stream_id
        assert accept == {
            "type": "ACCEPT",
            "framework_id": {"value": "fw-1"},
            "accept": {
                "offer_ids": [{"value": "O1"}],
                "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task]}}],
                "filters": {"refuse_seconds": 5.0},
            },
        }

        # Two records in one chunk; the one without uuid (master-generated) is not acknowledged.
        stream.send_raw(
            b"".join(
                encode_json(e)
                for e in (
                    update_event("t1", "TASK_LOST", None),
                    update_event("t1", "TASK_RUNNING", UUID1),
                )
            )
        )
        assert next_of(client, Update).status.uuid is None
        running = next_of(client, Update)
        assert running.status.state == "TASK_RUNNING"
        ack, headers = master.wait_call("ACKNOWLEDGE")
        assert headers["Mesos-Stream-Id"] == stream.stream_id
        assert ack == {
            "type": "ACKNOWLEDGE",
            "framework_id": {"value": "fw-1"},
            "acknowledge": {
                "agent_id": {"value": "S0"},
                "task_id": {"value": "t1"},
                "uuid": base64.b64encode(UUID1).decode(),
            },
        }
        assert len(master.calls_of("ACKNOWLEDGE")) == 1
    finally:
        client.close(teardown=True)
    teardown, _ = master.wait_call("TEARDOWN")
    assert teardown == {"type": "TEARDOWN", "framework_id": {"value": "fw-1"}}
    assert client.join(2)


def test_callback_api_acknowledges_only_after_a_successful_handler(master: Any) -> None:
    seen: list[Event] = []
    done = threading.Event()

    def on_event(event: Event) -> None:
        seen.append(event)
        if isinstance(event, Update) and event.status.task_id == "bad":
            raise RuntimeError("handler bug")
        if isinstance(event, Update) and event.status.task_id == "good":
            done.set()

    client = client_for(master, on_event=on_event)
    try:
        stream = master.wait_stream()
        stream.send(update_event("bad", "TASK_RUNNING", UUID1))
        stream.send(update_event("good", "TASK_RUNNING", UUID2))
        assert done.wait(5)
        ack, _ = master.wait_call("ACKNOWLEDGE")
        assert ack["acknowledge"]["task_id"] == {"value": "good"}
        assert len(master.calls_of("ACKNOWLEDGE")) == 1
        assert isinstance(seen[0], Subscribed)
        with pytest.raises(RuntimeError):
            client.next_event(0.01)
    finally:
        client.close()


def test_auto_acknowledge_can_be_turned_off(master: Any) -> None:
    client = client_for(master, auto_acknowledge=False)
    try:
        stream = master.wait_stream()
        stream.send(update_event("t1", "TASK_RUNNING", UUID1))
        update = next_of(client, Update)
        client.acknowledge(update.status)
        master.wait_call("ACKNOWLEDGE")
    finally:
        client.close()  # sends every acknowledgement still queued before it returns
    assert len(master.calls_of("ACKNOWLEDGE")) == 1  # ours: none went out by itself


def test_follows_307_to_the_leader(master: Any, standby: Any) -> None:
    standby.redirect_to = master.address
    client = client_for(standby)
    try:
        assert next_of(client, Subscribed).framework_id == "fw-1"
        assert len(standby.subscribe_attempts) == 1
        client.revive()
        revive, _ = master.wait_call("REVIVE")
        assert revive == {"type": "REVIVE", "framework_id": {"value": "fw-1"}}
    finally:
        client.close()


def test_retries_503_with_backoff(master: Any) -> None:
    master.subscribe_script.extend([(503, {}), (503, {})])
    client = client_for(master)
    try:
        next_of(client, Subscribed)
        assert len(master.subscribe_attempts) == 3
    finally:
        client.close()


def test_watchdog_resubscribes_with_the_same_framework_id(master: Any) -> None:
    master.heartbeat = 0.1  # watchdog = 0.1 s * 3 misses
    client = client_for(master, heartbeat_misses=3)
    try:
        assert next_of(client, Subscribed).framework_id == "fw-1"
        started = time.monotonic()
        master.wait_stream(2)
        assert time.monotonic() - started >= 0.25
        again = master.subscribe_attempts[1]
        assert again["framework_id"] == {"value": "fw-1"}
        assert again["subscribe"]["framework_info"]["id"] == {"value": "fw-1"}
        assert next_of(client, Subscribed).framework_id == "fw-1"
    finally:
        client.close()


def test_heartbeats_keep_the_stream_alive(master: Any) -> None:
    master.heartbeat = 0.1
    client = client_for(master)
    try:
        stream = master.wait_stream()
        for _ in range(6):
            stream.send({"type": "HEARTBEAT"})
            time.sleep(0.1)  # the interval the master announced
        # The last heartbeat went 0.5 s after SUBSCRIBED, past the 0.3 s watchdog: delivered
        # from the same stream (no second SUBSCRIBED before it), it shows the heartbeats kept
        # that stream alive. (Once they stop, the watchdog rightly ends it 0.3 s later.)
        kinds = [type(client.next_event(timeout=5)).__name__ for _ in range(7)]
        assert kinds == ["Subscribed"] + ["Heartbeat"] * 6
    finally:
        client.close()


def test_stream_end_resubscribes_with_suppressed_roles(master: Any) -> None:
    client = client_for(master)
    try:
        stream = master.wait_stream()
        next_of(client, Subscribed)
        client.suppress()
        master.wait_call("SUPPRESS")
        stream.end()
        master.wait_stream(2)
        again = master.subscribe_attempts[1]["subscribe"]
        assert again["suppressed_roles"] == ["*"]
        next_of(client, Subscribed)
        client.revive()
        master.streams[1].end()
        master.wait_stream(3)
        assert "suppressed_roles" not in master.subscribe_attempts[2]["subscribe"]
    finally:
        client.close()


def test_error_event_is_fatal(master: Any) -> None:
    client = client_for(master)
    stream = master.wait_stream()
    stream.send({"type": "ERROR", "error": {"message": "Framework has been removed"}})
    events = []
    with pytest.raises(SubscriptionEnded, match="removed"):
        for event in client.events():
            events.append(event)
    assert isinstance(events[-1], Error)
    assert client.join(2)
    assert len(master.subscribe_attempts) == 1
    client.close()


def test_rejected_subscribe_ends_the_client(master: Any) -> None:
    master.subscribe_script.append((400, {}))
    client = client_for(master)
    with pytest.raises(SubscriptionEnded, match="400"):
        client.next_event(5)
    client.close()


def test_calls_need_a_live_subscription(master: Any) -> None:
    master.subscribe_script.extend([(503, {})] * 1000)
    client = SchedulerClient(master.address, FRAMEWORK, backoff=Backoff(0.05, 0.05))
    client.start()
    try:
        with pytest.raises(NotSubscribed):
            client.decline(["O1"])
    finally:
        client.close()


def test_call_errors_are_raised(master: Any) -> None:
    client = client_for(master)
    try:
        next_of(client, Subscribed)
        master.call_status = 403
        with pytest.raises(CallRejected) as info:
            client.kill("t1")
        assert info.value.status == 403
    finally:
        client.close()


def test_call_redirect_means_resubscribe(master: Any) -> None:
    client = client_for(master)
    try:
        next_of(client, Subscribed)
        master.call_status = 307
        with pytest.raises(MasterUnavailable):
            client.reconcile()
        master.call_status = 202
        master.wait_stream(2)
        next_of(client, Subscribed)
    finally:
        client.close()


class FakeZooKeeper:
    """What `daemons.kit.zk.leading_master` reads: children and node data."""

    def __init__(self, info: dict[str, Any] | None) -> None:
        self.info = info

    def get_children(self, path: str) -> list[str]:
        return ["json.info_0000000003"] if self.info else []

    def get(self, path: str) -> tuple[bytes, None]:
        return json.dumps(self.info).encode(), None

    def stop(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_zookeeper_master_is_followed(master: Any) -> None:
    from daemons.mesos_client import ZooKeeperMaster

    host, port = master.address.split(":")
    info = {"hostname": "nowhere", "port": 1, "address": {"ip": host, "port": int(port)}}
    detector = ZooKeeperMaster("zk://127.0.0.1:1/mesos", connect=lambda hosts: FakeZooKeeper(info))
    client = SchedulerClient(detector, FRAMEWORK, backoff=FAST)
    client.start()
    try:
        assert next_of(client, Subscribed).framework_id == "fw-1"
    finally:
        client.close()
