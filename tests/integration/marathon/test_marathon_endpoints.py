"""Every Marathon v2 endpoint on live data, with plain `requests` and marathon-python: /v2/apps
(embeds, filters, versions, rollback, replace, PATCH), /v2/groups, /v2/tasks and kills, /v2/queue,
/v2/info and friends; and every answer parsed by marathon-python's models, which refuse any key
they do not know."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from marathon_cluster import (
    JSON,
    SLEEP,
    WEB,
    api_of,
    assert_error,
    sleeper,
    wait_for,
)

from tests.clients import marathon_module

marathon = marathon_module()
from marathon.models import (  # noqa: E402
    MarathonApp,
    MarathonDeployment,
    MarathonGroup,
    MarathonInfo,
    MarathonQueueItem,
    MarathonTask,
)

# Every test here is bounded well below the suite's 600 s default.
pytestmark = pytest.mark.timeout(180)

# --- /v2/apps: embeds, filters, versions, rollback, replace, PATCH ---------------------------


def parse_app(doc: JSON) -> Any:
    """marathon-python's model of an app (tasks, health results and all nested ones)."""
    return MarathonApp.from_json(doc)


def test_apps_endpoints(marathon_cluster: Any) -> None:
    cluster = marathon_cluster()
    api = api_of(cluster)
    web = sleeper("/shop/web", labels={"tier": "web", "team": "a"}, env={"GREETING": "hi"})
    db = {**sleeper("/shop/db", labels={"tier": "db"}), "cmd": "sleep 601"}
    for body in (web, db):
        assert api.post("/v2/apps", body).status_code == 201
    cluster.wait_running("/shop/web", 1)
    cluster.wait_running("/shop/db", 1)

    plain = api.get("/v2/apps")["apps"]
    assert [a["id"] for a in plain] == ["/shop/db", "/shop/web"]
    for app in plain:  # counts and deployments always, tasks only when embedded
        assert app["tasksRunning"] == 1 and app["deployments"] == [] and "tasks" not in app
        assert {"cmd", "args", "container"} <= set(app)
        parse_app(app)
    for embed in (["apps.tasks"], ["app.tasks", "app.counts"], ["apps.tasks", "apps.counts"]):
        listed = api.call("GET", "/v2/apps", params={"embed": embed}).json()["apps"]
        assert all(len(a["tasks"]) == 1 and a["tasksRunning"] == 1 for a in listed), embed
        assert listed[0]["tasks"][0]["state"] == "TASK_RUNNING"
        [parse_app(a) for a in listed]
    one = api.get("/v2/apps/shop/web", embed="app.counts")["app"]
    assert len(one["tasks"]) == 1 and one["tasksStaged"] == 0, "a single app has its tasks"

    def ids(**params: Any) -> list[str]:
        return [a["id"] for a in api.get("/v2/apps", **params)["apps"]]

    assert ids(id="web") == ["/shop/web"] and ids(id="shop") == ["/shop/db", "/shop/web"]
    assert ids(id="nothing") == [] and ids(cmd="sleep 601") == ["/shop/db"]
    assert ids(cmd="sleep") == ["/shop/db", "/shop/web"]
    assert ids(label="tier==web") == ["/shop/web"] and ids(label="tier!=web") == ["/shop/db"]
    assert ids(label="team") == ["/shop/web"] and ids(label="tier,team==a") == ["/shop/web"]

    # Versions: newest first; each one readable; PUT {"version": v} rolls back to it.
    v1 = api.app("/shop/web")["version"]
    changed = api.put("/v2/apps/shop/web", {"env": {"GREETING": "bye"}, "cmd": "sleep 602"})
    assert changed.status_code == 200 and set(changed.json()) == {"deploymentId", "version"}
    v2 = changed.json()["version"]
    api.wait_deployed()
    versions = api.get("/v2/apps/shop/web/versions")["versions"]
    assert versions == [v2, v1], versions
    old = api.get(f"/v2/apps/shop/web/versions/{v1}")
    assert old["cmd"] == SLEEP and old["env"] == {"GREETING": "hi"} and old["version"] == v1
    parse_app(old)
    assert api.get(f"/v2/apps/shop/web/versions/{v2}")["cmd"] == "sleep 602"
    back = api.put("/v2/apps/shop/web", {"version": v1})
    assert back.status_code == 200, back.text
    api.wait_deployed()
    rolled = api.app("/shop/web")
    assert rolled["cmd"] == SLEEP and rolled["env"] == {"GREETING": "hi"}
    assert rolled["version"] == back.json()["version"] != v1
    assert rolled["labels"] == {"tier": "web", "team": "a"}
    assert api.get("/v2/apps/shop/web/versions")["versions"][0] == rolled["version"]
    assert rolled["tasks"][0]["version"] == rolled["versionInfo"]["lastConfigChangeAt"]

    # partialUpdate (default true) merges; partialUpdate=false replaces the whole definition.
    assert api.put("/v2/apps/shop/web", {"instances": 1, "mem": 48}).status_code == 200
    assert api.app("/shop/web")["labels"] == {"tier": "web", "team": "a"}
    api.wait_deployed()
    replaced = api.put(
        "/v2/apps/shop/web", {"cmd": SLEEP, "cpus": 0.1, "mem": 32}, partialUpdate="false"
    )
    assert replaced.status_code == 200, replaced.text
    app = api.app("/shop/web")
    assert app["labels"] == {} and app["env"] == {} and app["mem"] == 32
    assert app["instances"] == 1, "an omitted field takes its default"
    api.wait_deployed()
    # PATCH merges top-level fields.
    patched = api.call("PATCH", "/v2/apps/shop/web", json={"labels": {"tier": "web"}})
    assert patched.status_code == 200, patched.text
    app = api.app("/shop/web")
    assert app["labels"] == {"tier": "web"} and app["cmd"] == SLEEP and app["mem"] == 32
    api.wait_deployed()
    # PUT on an unknown id creates it: 201.
    created = api.put("/v2/apps/shop/cache", {"cmd": SLEEP, "cpus": 0.1, "mem": 32})
    assert created.status_code == 201, created.text
    cluster.wait_running("/shop/cache", 1)
    parse_app(api.app("/shop/cache"))


# --- /v2/groups ------------------------------------------------------------------------------


def test_groups_endpoints(marathon_cluster: Any) -> None:
    cluster = marathon_cluster()
    api = api_of(cluster)
    document = {
        "id": "/prod",
        "groups": [
            {
                "id": "/prod/back",
                "apps": [
                    sleeper("db"),
                    {**sleeper("api"), "dependencies": ["/prod/back/db"]},
                ],
            }
        ],
    }
    response = api.post("/v2/groups", document)
    assert response.status_code == 201, response.text
    result = response.json()
    assert set(result) == {"deploymentId", "version"}
    assert response.headers["Marathon-Deployment-Id"] == result["deploymentId"]
    plans = api.get("/v2/deployments")
    assert [p["id"] for p in plans] == [result["deploymentId"]]
    steps = [[a["action"] + " " + a["app"] for a in s["actions"]] for s in plans[0]["steps"]]
    # db scales before the app that depends on it.
    assert steps[-2:] == [["ScaleApplication /prod/back/db"], ["ScaleApplication /prod/back/api"]]
    MarathonDeployment.from_json(plans[0])
    assert_error(api.post("/v2/groups", document), 409)  # exists: use PUT
    cluster.wait_running("/prod/back/db", 1)
    cluster.wait_running("/prod/back/api", 1)

    embeds = ["group.groups", "group.apps", "group.apps.tasks", "group.apps.counts"]
    root = api.call("GET", "/v2/groups", params={"embed": embeds}).json()
    MarathonGroup.from_json(root)
    assert root["id"] == "/" and [g["id"] for g in root["groups"]] == ["/prod"]
    prod = api.call("GET", "/v2/groups/prod", params={"embed": embeds}).json()
    assert set(prod) == {"id", "apps", "groups", "pods", "dependencies", "version"}
    back = prod["groups"][0]
    assert back["id"] == "/prod/back" and [a["id"] for a in back["apps"]] == [
        "/prod/back/api",
        "/prod/back/db",
    ]
    assert all(len(a["tasks"]) == 1 and a["tasksRunning"] == 1 for a in back["apps"])
    assert back["apps"][0]["dependencies"] == ["/prod/back/db"]
    group = MarathonGroup.from_json(prod)
    assert group.groups[0].apps[1].id == "/prod/back/db"
    assert marathon.MarathonClient(api.url).get_group("/prod").id == "/prod"

    scaled = api.put("/v2/groups/prod", {"scaleBy": 2})
    assert scaled.status_code == 200 and set(scaled.json()) == {"deploymentId", "version"}
    cluster.wait_running("/prod/back/db", 2)
    cluster.wait_running("/prod/back/api", 2)

    deleted = api.delete("/v2/groups/prod")
    assert deleted.status_code == 200 and set(deleted.json()) == {"deploymentId", "version"}
    api.wait_deployed()
    assert api.get("/v2/apps")["apps"] == []
    assert_error(api.call("GET", "/v2/groups/prod"), 404)
    wait_for(lambda: not cluster.master_tasks(), 30, "the group's tasks gone at the master")


# --- /v2/tasks and killing tasks -------------------------------------------------------------


def test_tasks_endpoints(marathon_cluster: Any) -> None:
    cluster = marathon_cluster()
    api = api_of(cluster)
    body = sleeper("/t", instances=2, constraints=[["hostname", "UNIQUE"]])
    assert api.post("/v2/apps", body).status_code == 201
    app = cluster.wait_running("/t", 2)
    by_host = {t["host"]: t["id"] for t in app["tasks"]}
    assert sorted(by_host) == ["127.0.0.1", "127.0.0.2"]

    running = api.get("/v2/tasks", status="running")["tasks"]
    assert sorted(t["id"] for t in running) == sorted(by_host.values())
    for task in running:
        MarathonTask.from_json(task)
    assert api.get("/v2/tasks", status="staging")["tasks"] == []
    assert len(api.get("/v2/tasks")["tasks"]) == 2
    listed = marathon.MarathonClient(api.url).list_tasks("/t")
    assert sorted(t.id for t in listed) == sorted(by_host.values())
    text = api.call("GET", "/v2/apps/t/tasks", headers={"Accept": "text/plain"})
    assert text.status_code == 200 and text.text.startswith("t ")

    # DELETE /v2/apps/{id}/tasks?host=: only that host's task; Marathon replaces it.
    killed = api.delete("/v2/apps/t/tasks", host="127.0.0.2")
    assert killed.status_code == 200, killed.text
    assert [t["id"] for t in killed.json()["tasks"]] == [by_host["127.0.0.2"]]
    wait_for(
        lambda: (
            (a := api.app("/t"))["tasksRunning"] == 2
            and by_host["127.0.0.2"] not in {t["id"] for t in a["tasks"]}
            and by_host["127.0.0.1"] in {t["id"] for t in a["tasks"]}
        ),
        30,
        "a replacement on 127.0.0.2",
    )

    # wipe=true forgets the task at once (the answer lists it); a replacement follows.
    victim = by_host["127.0.0.1"]
    wiped = api.post("/v2/tasks/delete", {"ids": [victim, "t.unknown-task"]}, wipe="true")
    assert wiped.status_code == 200, wiped.text
    assert [t["id"] for t in wiped.json()["tasks"]] == [victim]
    wait_for(
        lambda: victim not in {t["id"] for t in api.get("/v2/tasks")["tasks"]}, 5, "wiped at once"
    )
    app = cluster.wait_running("/t", 2)

    # scale=true: kill and lower instances by the number killed (a deployment result).
    victim = app["tasks"][0]["id"]
    scaled = api.post("/v2/tasks/delete", {"ids": [victim]}, scale="True")
    assert scaled.status_code == 200, scaled.text
    assert set(scaled.json()) == {"deploymentId", "version"}
    app = cluster.wait_running("/t", 1)
    assert app["instances"] == 1 and victim not in {t["id"] for t in app["tasks"]}
    # The same on the app's own endpoint.
    last = app["tasks"][0]["id"]
    one = api.delete(f"/v2/apps/t/tasks/{last}", scale="true")
    assert one.status_code == 200 and "deploymentId" in one.json()
    cluster.wait_running("/t", 0)
    assert api.app("/t")["instances"] == 0
    wait_for(lambda: not cluster.master_tasks(), 30, "no task left at the master")


# --- /v2/queue -------------------------------------------------------------------------------


def test_queue_shows_an_app_waiting_for_resources(marathon_cluster: Any) -> None:
    cluster = marathon_cluster()
    api = api_of(cluster)
    hungry = {"id": "/hungry", "cmd": SLEEP, "cpus": 64, "mem": 32, "instances": 2}
    assert api.post("/v2/apps", hungry).status_code == 201

    def offered() -> JSON | None:
        queue = api.get("/v2/queue")["queue"]
        if queue and queue[0]["processedOffersSummary"]["processedOffersCount"] >= 2:
            return queue[0]
        return None

    item = wait_for(offered, 30, "offers processed for /hungry")
    assert item["app"]["id"] == "/hungry" and item["count"] == 2
    assert item["delay"] == {"timeLeftSeconds": 0, "overdue": True}
    summary = item["processedOffersSummary"]
    assert summary["unusedOffersCount"] >= 2 and summary["lastUnusedOfferAt"]
    assert summary["lastUsedOfferAt"] is None
    reasons = {r["reason"] for r in summary["rejectSummaryLastOffers"]}
    assert any("Cpu" in r or "cpu" in r.lower() for r in reasons), reasons
    queue = marathon.MarathonClient(api.url).list_queue()
    assert [q.app.id for q in queue] == ["/hungry"] and queue[0].count == 2
    assert queue[0].delay.overdue is True
    embedded = marathon.MarathonClient(api.url).list_queue(embed_last_unused_offers=True)
    assert embedded[0].app.id == "/hungry"
    # Each agent's last offer it could not use, with why (the UI's "why is it waiting").
    unused = api.get("/v2/queue", embed="lastUnusedOffers")["queue"][0]["lastUnusedOffers"]
    assert unused and all("InsufficientCpus" in u["reason"] for u in unused), unused
    assert len({u["offer"]["agentId"] for u in unused}) == len(unused)
    assert embedded[0].last_unused_offers and unused[0]["offer"]["hostname"]
    # The app is not delayed: resetting its delay is a 404.
    assert_error(api.delete("/v2/queue/hungry/delay"), 404)
    # Its deployment never finishes: deleting it needs force.
    assert_error(api.delete("/v2/apps/hungry"), 409)
    assert api.delete("/v2/apps/hungry", force="true").status_code == 200
    wait_for(lambda: api.get("/v2/queue")["queue"] == [], 10, "the queue empty")


# --- /v2/info, /v2/leader, /ping, /metrics, /v2/plugins --------------------------------------


def test_info_leader_ping_metrics_plugins(marathon_cluster: Any) -> None:
    cluster = marathon_cluster()
    api = api_of(cluster)
    info = wait_for(lambda: (i := api.get("/v2/info"))["frameworkId"] and i, 15, "subscribed")
    parsed = marathon.MarathonClient(api.url).get_info()
    assert isinstance(parsed, MarathonInfo) and parsed.elected is True
    assert parsed.name == "marathon" and parsed.framework_id == info["frameworkId"]
    assert parsed.leader == cluster.marathons[0].url.removeprefix("http://")
    assert parsed.marathon_config.mesos_role == "*"
    assert parsed.zookeeper_config.zk == cluster.marathons[0].config["zk"]
    frameworks = requests.get(cluster.master.url + "/master/frameworks", timeout=10).json()
    assert info["frameworkId"] in {f["id"] for f in frameworks["frameworks"]}
    assert api.get("/v2/leader") == {"leader": info["leader"]}
    assert marathon.MarathonClient(api.url).get_leader() == {"leader": info["leader"]}
    ping = api.call("GET", "/ping")
    assert ping.status_code == 200 and ping.text.strip() == "pong"
    assert ping.headers["Content-Type"].startswith("text/plain")
    metrics = api.get("/metrics")
    assert {"version", "gauges", "counters", "histograms", "meters", "timers"} <= set(metrics)
    assert metrics["gauges"]["marathon.leadership.elected"]["value"] == 1
    assert metrics["counters"]["marathon.tasks.launched.counter"] == {"count": 0}
    assert marathon.MarathonClient(api.url).get_metrics()["gauges"]
    assert api.get("/v2/plugins") == {"plugins": []}


# --- every answer through marathon-python's models (X7 on live data) -------------------------


def test_every_answer_parses_with_marathon_python_models(marathon_cluster: Any) -> None:
    cluster = marathon_cluster()
    api = api_of(cluster)
    web = {
        "id": "/x7/web",
        "cmd": WEB,
        "cpus": 0.1,
        "mem": 64,
        "instances": 2,
        "portDefinitions": [{"port": 0, "name": "http", "labels": {"vip": "web"}}],
        "constraints": [["hostname", "UNIQUE"]],
        "healthChecks": [
            {"protocol": "HTTP", "path": "/", "portIndex": 0, "intervalSeconds": 1},
            {"protocol": "TCP", "portIndex": 0, "intervalSeconds": 1},
        ],
        "upgradeStrategy": {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0},
        "unreachableStrategy": {"inactiveAfterSeconds": 5, "expungeAfterSeconds": 10},
        "taskKillGracePeriodSeconds": 3,
        "labels": {"tier": "web"},
    }
    crash = {**sleeper("/x7/crash"), "cmd": "exit 1", "backoffSeconds": 60}
    stuck = sleeper("/x7/stuck", instances=3, constraints=[["hostname", "UNIQUE"]])
    for body in (web, crash, stuck):
        assert api.post("/v2/apps", body).status_code == 201, body["id"]
    cluster.wait_running("/x7/web", 2, healthy=True)
    wait_for(lambda: "lastTaskFailure" in api.app("/x7/crash"), 30, "a task failure")
    wait_for(lambda: api.get("/v2/queue")["queue"], 30, "a queued app")

    everything = ["apps.tasks", "apps.counts", "apps.deployments", "apps.lastTaskFailure"]
    everything += ["apps.failures", "apps.taskStats", "apps.readiness"]
    apps = api.call("GET", "/v2/apps", params={"embed": everything}).json()["apps"]
    assert len(apps) == 3
    for app in apps:
        model = MarathonApp.from_json(app)
        assert model.id == app["id"]
    for app_id in ("/x7/web", "/x7/crash", "/x7/stuck"):
        MarathonApp.from_json(api.app(app_id))
        for version in api.get(f"/v2/apps{app_id}/versions")["versions"]:
            MarathonApp.from_json(api.get(f"/v2/apps{app_id}/versions/{version}"))
    web_app = MarathonApp.from_json(api.app("/x7/web"))
    assert web_app.tasks[0].health_check_results[0].alive is True
    assert MarathonApp.from_json(api.app("/x7/crash")).last_task_failure.state == "TASK_FAILED"
    for task in api.get("/v2/tasks")["tasks"]:
        MarathonTask.from_json(task)
    deployments = api.get("/v2/deployments")
    assert deployments and all(MarathonDeployment.from_json(d) for d in deployments)
    groups = api.call("GET", "/v2/groups", params={"embed": ["group.groups", "group.apps"]})
    MarathonGroup.from_json(groups.json())
    for item in api.get("/v2/queue", embed="lastUnusedOffers")["queue"]:
        MarathonQueueItem.from_json(item)
    MarathonInfo.from_json(api.get("/v2/info"))
    # And through the client's own calls.
    client = marathon.MarathonClient(api.url)
    assert len(client.list_apps(embed_tasks=True, embed_failures=True)) == 3
    assert client.get_app("/x7/web", embed_tasks=True).tasks_healthy == 2
    assert len(client.list_deployments()) >= 1 and client.list_queue()
    assert client.list_groups() is not None and client.get_info().elected
