"""The master's HTTP surface through Flask's test client: status codes, framing, bad input.

Each bad input to the scheduler and operator APIs (malformed or oversized body, wrong media
type, missing or wrong stream id) answers with its code and a JSON message, and changes nothing
(no framework, no task appears).
"""

from __future__ import annotations

import json

import pytest

from daemons.master.app import create_app
from daemons.protocols.recordio import Decoder
from tests.unit.master.factories import make_master

SCHED = "/api/v1/scheduler"
SUBSCRIBE = {"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "u", "name": "n"}}}


@pytest.fixture
def master():
    m, _ = make_master(max_body_bytes=64 * 1024)
    return m


@pytest.fixture
def client(master):
    return create_app(master).test_client()


def post(client, path=SCHED, body=None, raw=None, **headers):
    data = raw if raw is not None else json.dumps(body if body is not None else {})
    return client.post(path, data=data, headers=headers)


def subscribed(client):
    response = client.post(
        SCHED,
        data=json.dumps(SUBSCRIBE),
        headers={"Content-Type": "application/json"},
        buffered=False,
    )
    assert response.status_code == 200
    stream_id = response.headers["Mesos-Stream-Id"]
    chunk = next(response.response)
    first = json.loads(Decoder().decode(chunk)[0])
    return response, stream_id, first["subscribed"]["framework_id"]["value"]


def test_subscribe_streams_recordio_with_stream_id(client):
    response, stream_id, framework_id = subscribed(client)
    assert response.headers["Content-Type"].startswith("application/json")
    assert "Content-Length" not in response.headers
    assert len(stream_id) == 36 and framework_id.startswith("m1-")
    response.close()


def test_subscribed_record_is_followed_by_a_heartbeat_for_line_splitting_clients(client):
    r = client.post(
        SCHED,
        data=json.dumps(SUBSCRIBE),
        headers={"Content-Type": "application/json"},
        buffered=False,
    )
    records = Decoder().decode(next(r.response))
    assert [json.loads(x)["type"] for x in records] == ["SUBSCRIBED", "HEARTBEAT"]
    r.close()


@pytest.mark.parametrize(
    ("headers", "raw", "status", "fragment"),
    [
        ({}, "{}", 400, "Content-Type"),
        ({"Content-Type": "application/json"}, "{not json", 400, "parse"),
        ({"Content-Type": "application/json"}, '{"type": 5}', 400, "type"),
        ({"Content-Type": "application/json"}, "[1, 2]", 400, "object"),
        ({"Content-Type": "text/plain"}, "{}", 415, "Content-Type"),
        ({"Content-Type": "application/x-protobuf"}, "{}", 415, "protobuf"),
        ({"Content-Type": "application/json"}, "[" * 60_000, 400, "nested"),
        ({"Content-Type": "application/json"}, b"\xff\xfe", 400, "UTF-8"),
    ],
)
def test_bad_bodies(client, master, headers, raw, status, fragment):
    response = client.post(SCHED, data=raw, headers=headers)
    assert response.status_code == status
    assert fragment.lower() in response.get_json()["message"].lower()
    assert master.frameworks == {}


def test_not_acceptable(client, master):
    response = post(
        client, body=SUBSCRIBE, **{"Content-Type": "application/json", "Accept": "foo/bar"}
    )
    assert response.status_code == 406
    assert master.frameworks == {}


def test_oversized_body_is_413(client, master):
    raw = json.dumps({"type": "SUBSCRIBE", "pad": "x" * 100_000})
    response = client.post(SCHED, data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "message" in response.get_json()


def test_wrong_method_is_405_with_allow(client):
    response = client.get(SCHED)
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert response.get_json()["message"]


def test_subscribe_with_stream_id_is_400(client, master):
    response = post(
        client, body=SUBSCRIBE, **{"Content-Type": "application/json", "Mesos-Stream-Id": "x"}
    )
    assert response.status_code == 400
    assert master.frameworks == {}


def test_teardown_without_or_with_wrong_stream_id_is_400(client, master):
    r, stream_id, framework_id = subscribed(client)
    body = {"type": "TEARDOWN", "framework_id": {"value": framework_id}}
    ct = {"Content-Type": "application/json"}
    assert post(client, body=body, **ct).status_code == 400
    assert post(client, body=body, **ct, **{"Mesos-Stream-Id": "wrong"}).status_code == 400
    assert framework_id in master.frameworks
    ok = post(client, body=body, **ct, **{"Mesos-Stream-Id": stream_id})
    assert ok.status_code == 202 and ok.headers["Content-Length"] == "0"
    assert framework_id not in master.frameworks
    r.close()


def test_acknowledge_with_malformed_uuid_is_400(client):
    r, stream_id, framework_id = subscribed(client)
    body = {
        "type": "ACKNOWLEDGE",
        "framework_id": {"value": framework_id},
        "acknowledge": {"agent_id": {"value": "a"}, "task_id": {"value": "t"}, "uuid": "%%%"},
    }
    response = post(
        client, body=body, **{"Content-Type": "application/json", "Mesos-Stream-Id": stream_id}
    )
    assert response.status_code == 400
    assert "UUID" in response.get_json()["message"]
    r.close()


def test_missing_framework_info_is_400(client, master):
    response = post(
        client,
        body={"type": "SUBSCRIBE", "subscribe": {"framework_info": {"name": "no user"}}},
        **{"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "user" in response.get_json()["message"]
    assert master.frameworks == {}


@pytest.mark.parametrize("target", ["/master/state%zz", "/master/state%", "/master/%2"])
def test_bad_percent_encoding_is_400(client, target):
    response = client.get(target, environ_overrides={"RAW_URI": target})
    assert response.status_code == 400
    assert "percent" in response.get_json()["message"]


def test_standby_redirects_and_answers_503_without_leader(master):
    master.is_leader = False
    client = create_app(master).test_client()
    assert client.get("/master/state").status_code == 503
    master.leader_info = {"address": {"hostname": "10.0.0.9", "port": 5050}, "port": 5050}
    response = client.get("/master/state?jsonp=x")
    assert response.status_code == 307
    assert response.headers["Location"] == "//10.0.0.9:5050/master/state?jsonp=x"
    assert client.get("/health").status_code == 200


def test_operator_calls(client):
    ct = {"Content-Type": "application/json"}
    health = post(client, "/api/v1", {"type": "GET_HEALTH"}, **ct).get_json()
    assert health == {"type": "GET_HEALTH", "get_health": {"healthy": True}}
    version = post(client, "/api/v1/operator", {"type": "GET_VERSION"}, **ct).get_json()
    assert version["get_version"]["version_info"]["version"] == "1.11.0"
    for kind in ("GET_STATE", "GET_AGENTS", "GET_FRAMEWORKS", "GET_TASKS", "GET_MASTER"):
        body = post(client, "/master/api/v1", {"type": kind}, **ct).get_json()
        assert body["type"] == kind and kind.lower() in body
    assert post(client, "/api/v1", {"type": "NOPE"}, **ct).status_code == 400


def test_operator_subscribe_streams_state_first(client):
    r = client.post(
        "/api/v1",
        data=json.dumps({"type": "SUBSCRIBE"}),
        headers={"Content-Type": "application/json"},
        buffered=False,
    )
    first = json.loads(Decoder().decode(next(r.response))[0])
    assert first["type"] == "SUBSCRIBED"
    assert set(first["subscribed"]["get_state"]) == {
        "get_tasks",
        "get_executors",
        "get_frameworks",
        "get_agents",
    }
    r.close()


@pytest.mark.parametrize(
    "path",
    [
        "/master/state",
        "/master/state.json",
        "/state",
        "/state.json",
        "/master/state-summary",
        "/state-summary",
        "/master/tasks",
        "/tasks.json",
        "/master/slaves",
        "/master/frameworks",
        "/version",
        "/metrics/snapshot",
        "/master/flags",
        "/master/roles",
    ],
)
def test_read_only_endpoints(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    assert isinstance(response.get_json(), dict)


def test_state_has_the_keys_dcoscli_reads(client):
    state = client.get("/master/state.json").get_json()
    for key in ("frameworks", "completed_frameworks", "slaves", "leader", "leader_info", "id"):
        assert key in state
    version = client.get("/version").get_json()["version"]
    assert tuple(int(n) for n in version.split(".")) >= (1, 0, 0)  # pymesos parses it so


def test_redirect_and_tasks_params(client):
    response = client.get("/master/redirect")
    assert response.status_code == 307
    assert response.headers["Location"] == "//127.0.0.1:5050"
    assert client.get("/master/tasks?limit=-1").status_code == 400
    assert client.get("/master/tasks?offset=x").status_code == 400
    assert client.get("/master/state?jsonp=alert(1)").status_code == 400


def test_standby_whose_leader_entry_is_itself_answers_503_not_a_redirect_loop(master):
    master.is_leader = False
    master.leader_info = {"address": {"hostname": "127.0.0.1", "ip": "127.0.0.1", "port": 5050}}
    response = create_app(master).test_client().get("/master/state")
    assert response.status_code == 503
    assert "session" in response.get_json()["message"]


def test_a_master_named_leader_answers_once_it_has_taken_office() -> None:
    """ZooKeeper names this master before it has read the registry: a call arriving then waits
    for it to take office instead of being sent away to retry (agents back off up to 1 s)."""
    import threading

    from daemons.kit.config import from_mapping
    from daemons.master import leadership
    from daemons.master.config import MasterConfig
    from daemons.master.ids import IdGenerator
    from daemons.master.master import Master
    from tests.unit.master.factories import Clock

    config = from_mapping(MasterConfig, {"zk": "zk://127.0.0.1:2181/mesos"})
    m = Master(config, Clock(), IdGenerator("m1"))
    m.leader_info = m.master_info  # the election's watch has fired; take_office has not run
    client = create_app(m).test_client()
    later = threading.Timer(0.2, leadership.take_office, (m,))
    later.start()
    try:
        response = client.post(
            SCHED,
            data=json.dumps(SUBSCRIBE),
            headers={"Content-Type": "application/json"},
            buffered=False,
        )
        assert response.status_code == 200, response.get_data()
        response.close()
    finally:
        later.join()


def test_a_master_that_led_and_stepped_down_answers_at_once(monkeypatch) -> None:
    """A stopping leader has deleted its ZooKeeper node, but its own view still names it: it
    will never take office again, so a call (an agent following a standby's stale redirect
    there) gets its 503 at once, not after waiting for an office that never comes (F2's agents
    were back 2.5-3 s after a clean handover)."""
    import time

    from daemons.kit.config import from_mapping
    from daemons.master import http as master_http
    from daemons.master import leadership
    from daemons.master.config import MasterConfig
    from daemons.master.ids import IdGenerator
    from daemons.master.master import Master
    from tests.unit.master.factories import Clock

    monkeypatch.setattr(master_http, "TAKING_OFFICE_WAIT", 60.0)
    config = from_mapping(MasterConfig, {"zk": "zk://127.0.0.1:2181/mesos"})
    m = Master(config, Clock(), IdGenerator("m1"))
    m.leader_info = m.master_info
    assert master_http.taking_office(m)
    leadership.take_office(m)
    m.demote()
    assert not master_http.taking_office(m)
    started = time.monotonic()
    response = (
        create_app(m)
        .test_client()
        .post(SCHED, data=json.dumps(SUBSCRIBE), headers={"Content-Type": "application/json"})
    )
    assert response.status_code == 503
    assert time.monotonic() - started < 30.0  # the 60 s wait did not happen
