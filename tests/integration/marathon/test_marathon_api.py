"""Marathon's v2 HTTP semantics on a real dcos-marathon (ZooKeeper, master, two agents):
validation (422 with per-field paths and nothing written, proved by reading ZooKeeper), 400, 413
and 415, 409 locks and `force` (booleans in any case), deployment rollback and forced cancel, 404
messages, path normalisation, and /v2/events filters and Accept. The endpoints' shapes are in
test_marathon_endpoints.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from marathon_cluster import (
    JSON,
    SLEEP,
    api_of,
    assert_error,
    assert_invalid,
    sleeper,
    wait_for,
    zk_tree,
)

# Every test here is bounded well below the suite's 600 s default.
pytestmark = pytest.mark.timeout(180)

# --- bad input: 422 / 400 / 413 / 415 and nothing written -------------------------------------

BIG_ENV = {f"VAR_{i}": "x" * 100 for i in range(60)}  # ~7 KB stored, over 4096
BAD_APPS: list[tuple[str, JSON, tuple[str, ...]]] = [
    ("parent-ref", sleeper("/a/../b"), ("/id",)),
    ("uppercase", sleeper("/Web"), ("/id",)),
    ("double-slash", sleeper("/a//b"), ("/id",)),
    ("too-long", sleeper("/" + "a" * 256), ("/id",)),
    ("negative-instances", sleeper("/neg", instances=-1), ("/instances",)),
    ("no-cmd-or-args", {"id": "/nocmd", "cpus": 0.1, "mem": 32}, ("/",)),
    (
        "unknown-operator",
        sleeper("/op", constraints=[["hostname", "SOMETIMES"]]),
        ("/constraints(0)",),
    ),
    ("several-fields", sleeper("/Multi", instances=-2, cpus=-1), ("/id", "/instances", "/cpus")),
    ("over-node-size", sleeper("/big", env=BIG_ENV), ("/",)),
]


def test_bad_input_is_refused_and_nothing_is_written(marathon_cluster: Any) -> None:
    cluster = marathon_cluster(zk_max_node_size=4096, max_body_bytes=64 * 1024)
    api = api_of(cluster)
    created = api.post("/v2/apps", sleeper("/keep", instances=0))
    assert created.status_code == 201, created.text
    api.wait_deployed()
    apps_before, deployments_before = api.get("/v2/apps"), api.get("/v2/deployments")
    tree_before = zk_tree(cluster)
    assert any(node.endswith("/state/apps/keep") for node in tree_before), sorted(tree_before)

    for name, body, paths in BAD_APPS:
        response = api.post("/v2/apps", body)
        details = assert_invalid(response, *paths)["details"]
        print(f"{name}: {details}")
    # The same through PUT (create and update), PATCH and a group document.
    assert_invalid(api.put("/v2/apps/new", {"cmd": SLEEP, "instances": -1}), "/instances")
    assert_invalid(api.put("/v2/apps/keep", {"instances": -1}), "/instances")
    assert_invalid(api.put("/v2/apps/keep", {"env": BIG_ENV}), "/")
    assert_invalid(api.call("PATCH", "/v2/apps/keep", json={"cpus": "many"}), "/cpus")
    group = {"id": "/grp", "apps": [sleeper("ok"), sleeper("bad", instances=-1)]}
    assert_invalid(api.post("/v2/groups", group), "/apps(1)/instances")
    assert_invalid(api.post("/v2/groups", {"id": "/grp", "apps": [sleeper("x", env=BIG_ENV)]}))

    # Not JSON at all: 400 with a message; an empty body too.
    headers = {"Content-Type": "application/json"}
    for raw in (b'{"id": "/x", "cmd": ', b"[[[", b""):
        assert_error(api.call("POST", "/v2/apps", data=raw, headers=headers), 400)
    assert_error(api.call("PUT", "/v2/apps/keep", data=b"{nope", headers=headers), 400)
    # A body not declared as JSON: 415, as Marathon answers. A web page can POST text/plain, a
    # form, or a Blob with no Content-Type at all to any origin without a CORS preflight; none
    # of them may create or change anything.
    raw_app = json.dumps(sleeper("/csrf")).encode()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        plain = {} if content_type is None else {"Content-Type": content_type}
        assert_error(api.call("POST", "/v2/apps", data=raw_app, headers=plain), 415)
        assert_error(api.call("PUT", "/v2/apps/csrf", data=raw_app, headers=plain), 415)
        assert_error(api.call("PUT", "/v2/apps/keep", data=b'{"instances": 3}', headers=plain), 415)
        group = json.dumps({"id": "/csrf-group", "apps": [sleeper("a")]}).encode()
        assert_error(api.call("POST", "/v2/groups", data=group, headers=plain), 415)
        ids = json.dumps({"ids": ["keep.x"]}).encode()
        assert_error(api.call("POST", "/v2/tasks/delete", data=ids, headers=plain), 415)
    # Over max_body_bytes: 413 (Content-Length known up front), and the connection is closed
    # (gunicorn reads at most 64 KiB of an unread body): the next call on the same keep-alive
    # session reconnects and works (daemons/kit/serve.py).
    huge = json.dumps(sleeper("/huge", env={"X": "y" * (100 * 1024)})).encode()
    with requests.Session() as session:
        too_big = session.post(api.url + "/v2/apps", data=huge, headers=headers, timeout=15)
        assert_error(too_big, 413)
        assert too_big.headers.get("Connection", "").lower() == "close"
        assert session.get(api.url + "/v2/apps", timeout=15).status_code == 200

    assert api.get("/v2/apps") == apps_before
    assert api.get("/v2/deployments") == deployments_before
    assert zk_tree(cluster) == tree_before, "a refused request wrote to ZooKeeper"


# --- 409 locks, force, deployment rollback and forced cancel ---------------------------------

LOCK_MESSAGE = (
    "App is locked by one or more deployments. Override with the option '?force=true'."
    " View details at '/v2/deployments/{}'."
)


def test_locked_app_409_then_force_and_deployment_cancel(marathon_cluster: Any) -> None:
    cluster = marathon_cluster()
    api = api_of(cluster)
    # 3 instances, UNIQUE hostname, 2 agents: the deployment can never finish.
    stuck = sleeper("/locked", instances=3, constraints=[["hostname", "UNIQUE"]])
    created = api.post("/v2/apps", stuck)
    assert created.status_code == 201, created.text
    first = created.json()["deployments"][0]["id"]
    assert created.headers["Marathon-Deployment-Id"] == first
    wait_for(lambda: api.app("/locked")["tasksRunning"] == 2, 30, "2 of 3 running")
    assert api.deployment_ids() == {first}

    for method, path, body in (
        ("PUT", "/v2/apps/locked", {"instances": 1}),
        ("POST", "/v2/apps/locked/restart", None),
        ("DELETE", "/v2/apps/locked", None),
        ("PUT", "/v2/groups", {"id": "/", "apps": [stuck]}),
        ("PUT", "/v2/apps/locked", {"instances": 1}),  # force=false is no force
    ):
        params = {"force": "false"} if path.endswith("locked") and method == "PUT" else {}
        response = api.call(method, path, json=body, params=params)
        conflict = assert_error(response, 409)
        assert conflict == {"message": LOCK_MESSAGE.format(first), "deployments": [{"id": first}]}
    assert api.deployment_ids() == {first}
    assert api.app("/locked")["instances"] == 3

    # force cancels the running deployment and proceeds; query booleans in any case (X8).
    current = first
    for form, instances in (("true", 4), ("True", 5), ("TRUE", 3)):
        response = api.put("/v2/apps/locked", {"instances": instances}, force=form)
        assert response.status_code == 200, (form, response.text)
        result = response.json()
        assert set(result) == {"deploymentId", "version"}
        assert result["deploymentId"] != current
        current = result["deploymentId"]
        assert api.deployment_ids() == {current}, form
        assert api.app("/locked")["instances"] == instances
    assert api.app("/locked")["tasksRunning"] == 2, "forcing a scale kills nothing"

    # DELETE /v2/deployments/{id}: a rollback deployment to the app before it (5 instances).
    rollback = api.delete(f"/v2/deployments/{current}")
    assert rollback.status_code == 200, rollback.text
    back = rollback.json()
    assert set(back) == {"deploymentId", "version"} and back["deploymentId"] != current
    assert rollback.headers["Marathon-Deployment-Id"] == back["deploymentId"]
    assert api.deployment_ids() == {back["deploymentId"]}
    assert api.app("/locked")["instances"] == 5
    # ... and with force=true it just stops: 202, an empty body, Content-Length 0 (X2).
    stopped = api.delete(f"/v2/deployments/{back['deploymentId']}", force="true")
    assert stopped.status_code == 202 and stopped.content == b""
    assert stopped.headers["Content-Length"] == "0"
    assert api.get("/v2/deployments") == []
    app = api.app("/locked")
    assert app["instances"] == 5 and app["tasksRunning"] == 2 and app["deployments"] == []
    # Unlocked now: a plain change goes through and finishes.
    assert api.put("/v2/apps/locked", {"instances": 2}).status_code == 200
    api.wait_deployed(30)

    # Deleted, its stop still killing its task (which ignores SIGTERM: 3 s of grace before
    # the SIGKILL): an app of the same id is refused with 409 (it would take the old task for
    # its own), and accepted once the stop has ended.
    stubborn = sleeper("/stopping", cmd="trap '' TERM; sleep 600", taskKillGracePeriodSeconds=3)
    assert api.post("/v2/apps", stubborn).status_code == 201
    wait_for(lambda: api.app("/stopping")["tasksRunning"] == 1, 30, "/stopping running")
    api.wait_deployed(30)
    deleted = api.delete("/v2/apps/stopping")
    assert deleted.status_code == 200, deleted.text
    stop = deleted.json()["deploymentId"]
    conflict = assert_error(api.post("/v2/apps", sleeper("/stopping")), 409)
    assert conflict == {"message": LOCK_MESSAGE.format(stop), "deployments": [{"id": stop}]}
    api.wait_deployed(30)
    assert api.post("/v2/apps", sleeper("/stopping")).status_code == 201
    api.wait_deployed(30)

    # A group whose apps each fit a node but whose one transaction is over ZooKeeper's 1 MiB
    # (jute.maxbuffer): 422 with the reason, nothing created (ZooKeeper dropped the
    # connection before: a 503).
    tree_before = zk_tree(cluster)
    many = {"id": "/many", "apps": [sleeper(f"app{i}") for i in range(1000)]}
    refused = assert_error(api.post("/v2/groups", many), 422)
    assert "one ZooKeeper transaction" in json.dumps(refused), refused
    assert zk_tree(cluster) == tree_before
    assert api.call("GET", "/v2/groups/many").status_code == 404


# --- 404s ------------------------------------------------------------------------------------


def test_unknown_things_are_404_with_a_message(marathon_cluster: Any) -> None:
    cluster = marathon_cluster()
    api = api_of(cluster)
    assert api.post("/v2/apps", sleeper("/known")).status_code == 201
    cluster.wait_running("/known", 1)
    version = api.app("/known")["version"]

    cases: list[tuple[str, str, str]] = [
        ("GET", "/v2/apps/nope", "App '/nope' does not exist"),
        ("GET", "/v2/apps/deep/nope", "App '/deep/nope' does not exist"),
        ("POST", "/v2/apps/nope/restart", "App '/nope' does not exist"),
        ("DELETE", "/v2/apps/nope", "App '/nope' does not exist"),
        ("GET", "/v2/apps/nope/tasks", "App '/nope' does not exist"),
        ("DELETE", "/v2/apps/nope/tasks", "App '/nope' does not exist"),
        ("DELETE", "/v2/apps/known/tasks/known.no-such-task", "Task 'known.no-such-task'"),
        ("GET", "/v2/apps/nope/versions", "App '/nope' does not exist"),
        ("GET", "/v2/apps/known/versions/2015-09-29T15:59:51.164Z", "Version"),
        ("GET", "/v2/apps/known/versions/not-a-version", "Version"),
        ("PUT", "/v2/apps/known", "Version"),  # a rollback to a version never stored
        ("GET", "/v2/groups/nope", "Group '/nope' does not exist"),
        ("DELETE", "/v2/groups/nope", "Group '/nope' does not exist"),
        ("PUT", "/v2/groups/nope", "Group '/nope' does not exist"),  # scaleBy
        ("DELETE", "/v2/deployments/no-such-deployment", "no-such-deployment"),
        ("DELETE", "/v2/queue/nope/delay", "nope"),
        ("DELETE", "/v2/queue/known/delay", "/known"),  # an app with no delay
    ]
    for method, path, message in cases:
        body: Any = None
        if path == "/v2/apps/known" and method == "PUT":
            body = {"version": "2015-09-29T15:59:51.164Z"}
        elif path == "/v2/groups/nope":
            body = {"scaleBy": 2}
        response = api.call(method, path, json=body)
        found = assert_error(response, 404)
        assert message in found["message"], (path, found)
    # The existing version is found, in both forms marathon-python and the UI use.
    assert api.get(f"/v2/apps/known/versions/{version}")["id"] == "/known"
    assert api.get(f"/v2/apps//known/versions/{version}")["version"] == version


# --- path normalisation (X9) -----------------------------------------------------------------


def test_paths_are_normalised(marathon_cluster: Any) -> None:
    cluster = marathon_cluster()
    api = api_of(cluster)
    response = api.post("/v2/groups", {"id": "/prod", "apps": [sleeper("web", instances=0)]})
    assert response.status_code == 201, response.text
    api.wait_deployed()
    for path in (
        "/v2/apps/prod/web",
        "/v2/apps//prod/web",
        "/v2/apps/prod/web/",
        "/v2/apps//prod//web/",
        "/v2/apps/%2Fprod%2Fweb",
        "/v2/apps/%2fprod/web",
        "//v2/apps/prod/web",
    ):
        assert api.get(path)["app"]["id"] == "/prod/web", path
    for path in ("/v2/groups/prod", "/v2/groups//prod", "/v2/groups/%2Fprod", "/v2/groups/prod/"):
        assert api.get(path)["id"] == "/prod", path
    assert api.get("/v2/groups/%2F")["id"] == "/"
    assert api.get("/v2/apps/")["apps"][0]["id"] == "/prod/web"
    assert api.get("/v2/apps//prod/web/versions")["versions"]
    # Changes by a normalised path reach the same app.
    assert api.put("/v2/apps//prod/web/", {"instances": 0, "labels": {"a": "b"}}).ok
    assert api.get("/v2/apps/%2Fprod%2Fweb")["app"]["labels"] == {"a": "b"}
    api.wait_deployed()
    assert api.delete("/v2/groups/%2Fprod").status_code == 200
    wait_for(lambda: api.get("/v2/apps")["apps"] == [], 30, "the group's apps gone")


# --- /v2/events ------------------------------------------------------------------------------


def test_events_filters_and_accept(marathon_cluster: Any, event_stream: Any) -> None:
    cluster = marathon_cluster()
    api = api_of(cluster)
    for accept in (None, "application/json", "text/html"):
        headers = {"Accept": accept} if accept else {"Accept": ""}
        refused = api.call("GET", "/v2/events", headers=headers, stream=True)
        assert_error(refused, 406)
    everything = event_stream(api.url)
    only_done = event_stream(api.url, event_type="deployment_success")
    two = event_stream(api.url, event_type=["deployment_info", "status_update_event"])
    assert everything.events[0]["eventType"] == "event_stream_attached"

    assert api.post("/v2/apps", sleeper("/ev")).status_code == 201
    cluster.wait_running("/ev", 1)
    wait_for(lambda: len(only_done.seen) >= 2, 15, "deployment_success on the filtered stream")
    # Each stream gets the events in the order they are published. Once the unfiltered one has
    # the deployment_success and `two` has every event of its types published before it, every
    # event that a filter let through wrongly until then has arrived as well.
    wait_for(lambda: everything.of("deployment_success"), 15, "deployment_success, unfiltered")
    kinds = [e["eventType"] for e in everything.events]
    wanted = ("deployment_info", "status_update_event")
    published = [k for k in kinds[: kinds.index("deployment_success")] if k in wanted]
    wait_for(lambda: len(two.events) > len(published), 15, f"{len(published)} events on `two`")
    types = {e["eventType"] for e in everything.events}
    assert {"deployment_info", "deployment_success", "status_update_event"} <= types, types
    assert {"api_post_event", "instance_changed_event"} <= types, types
    assert {e["eventType"] for e in only_done.events[1:]} == {"deployment_success"}
    assert {e["eventType"] for e in two.events[1:]} == {"deployment_info", "status_update_event"}
    assert all("timestamp" in e for e in everything.events)
    assert not types & {"scheduler_registered_event", "scheduler_reregistered_event"}
