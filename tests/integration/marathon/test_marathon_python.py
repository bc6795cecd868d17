"""marathon-python 0.13.0, unmodified, against a real dcos-marathon on a real master and agents:
apps with health checks, constraints and ports; scale; restart; list and kill tasks; delete;
events."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from marathon_cluster import wait_for

from tests.clients import marathon_module

pytestmark = pytest.mark.integration

marathon = marathon_module()
from marathon.models import MarathonApp, MarathonConstraint, MarathonHealthCheck  # noqa: E402

WEB = "python3 -m http.server $PORT0 --bind 0.0.0.0"


def web_app(app_id: str, instances: int = 2, **extra: Any) -> Any:
    return MarathonApp(
        id=app_id,
        cmd=WEB,
        cpus=0.1,
        mem=64,
        instances=instances,
        constraints=[MarathonConstraint("hostname", "UNIQUE")],
        health_checks=[
            MarathonHealthCheck(
                protocol="HTTP",
                path="/",
                port_index=0,
                grace_period_seconds=30,
                interval_seconds=1,
                timeout_seconds=2,
                max_consecutive_failures=3,
            )
        ],
        port_definitions=[marathon.models.app.PortDefinition(port=0, protocol="tcp", name="http")],
        env={"GREETING": "hello"},
        # Two agents and UNIQUE hostname: a rolling restart has no room for extra instances,
        # so it replaces one at a time (Marathon's advice for this case).
        upgrade_strategy=marathon.models.app.MarathonUpgradeStrategy(
            minimum_health_capacity=0.5, maximum_over_capacity=0
        ),
        labels={"tier": "web"},
        **extra,
    )


def test_app_lifecycle_with_marathon_python(marathon_cluster: Any) -> None:
    cluster = marathon_cluster()
    client = marathon.MarathonClient(cluster.url)

    created = client.create_app("/web", web_app("/web"))
    assert created.id == "/web"
    assert created.deployments, "a new app comes with its deployment"

    app = cluster.wait_running("/web", 2, healthy=True)
    hosts = sorted(t["host"] for t in app["tasks"])
    assert hosts == ["127.0.0.1", "127.0.0.2"], "UNIQUE hostname puts one task on each agent"
    for task in app["tasks"]:
        assert task["healthCheckResults"][0]["alive"] is True
        assert 31000 <= task["ports"][0] <= 32999

    fetched = client.get_app("/web")
    assert fetched.tasks_healthy == 2 and fetched.instances == 2
    assert fetched.env == {"GREETING": "hello"} and fetched.labels == {"tier": "web"}
    assert fetched.constraints[0].operator == "UNIQUE"
    assert len(client.list_apps()) == 1
    tasks = client.list_tasks("/web")
    assert len(tasks) == 2 and all(t.state == "TASK_RUNNING" for t in tasks)

    # Scale: a third instance cannot be placed (UNIQUE on two hosts); scale down to 1.
    client.scale_app("/web", instances=1)
    # Done only once the killed task has ended: while it is TASK_KILLING the scale deployment
    # still holds the app, and the next change would get 409.
    cluster.wait_running("/web", 1, healthy=True, timeout=30)
    client.scale_app("/web", instances=2)
    cluster.wait_running("/web", 2, healthy=True)

    # Restart: every task is replaced, rolling, and the app stays healthy.
    before = {t.id for t in client.list_tasks("/web")}
    client.restart_app("/web")
    wait_for(
        lambda: (
            (a := cluster.app("/web"))["tasksHealthy"] == 2
            and not a["deployments"]
            and not ({t["id"] for t in a["tasks"]} & before)
        ),
        60,
        "restarted tasks",
    )

    # Kill one task: Marathon replaces it.
    victim = client.list_tasks("/web")[0].id
    assert client.kill_given_tasks([victim])
    wait_for(
        lambda: (
            (a := cluster.app("/web"))["tasksRunning"] == 2
            and victim not in {t["id"] for t in a["tasks"]}
        ),
        60,
        "a replacement",
    )

    client.delete_app("/web")
    wait_for(lambda: not cluster.master_tasks(), 30, "every task gone at the master")
    wait_for(lambda: client.list_apps() == [], 30, "the app gone")


def test_events_stream_with_marathon_python(marathon_cluster: Any) -> None:
    cluster = marathon_cluster()
    client = marathon.MarathonClient(cluster.url)
    seen: list[Any] = []
    done = threading.Event()

    def read() -> None:
        for event in client.event_stream(raw=False):
            seen.append(event)
            if event.event_type == "deployment_success":
                done.set()
                return

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    wait_for(
        lambda: (
            cluster.get("/metrics")["gauges"]["marathon.http.event-streams.active.gauge"]["value"]
            == 1
        ),
        10,
        "the stream",
    )
    client.create_app(
        "/sleeper", MarathonApp(id="/sleeper", cmd="sleep 600", cpus=0.1, mem=32, instances=1)
    )
    assert done.wait(60), f"no deployment_success; saw {[e.event_type for e in seen]}"
    types = [e.event_type for e in seen]
    assert "deployment_info" in types and "status_update_event" in types
    running = [
        e for e in seen if e.event_type == "status_update_event" and e.task_status == "TASK_RUNNING"
    ]
    assert running and running[0].app_id == "/sleeper"
