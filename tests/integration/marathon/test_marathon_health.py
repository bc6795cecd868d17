"""Marathon's task health and task handling on real daemons: a failing HTTP check kills and
replaces the task in time with its events; TCP (Marathon-side) and COMMAND / MESOS_HTTP
(executor-side) checks show in tasksHealthy; taskKillGracePeriodSeconds reaches the kill; an
unreachable agent's task is replaced per unreachableStrategy (and not when it is disabled)."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from marathon_cluster import JSON, MarathonCluster, wait_for

from tools import processes

# Every test here is bounded well below the suite's 600 s default.
pytestmark = pytest.mark.timeout(180)

SERVE = "python3 -m http.server $PORT0 --bind 0.0.0.0"


def app_of(cluster: MarathonCluster, app_id: str) -> JSON:
    found: JSON = requests.get(cluster.leader_url() + f"/v2/apps{app_id}", timeout=5).json()
    return found["app"]


def create(cluster: MarathonCluster, body: JSON) -> None:
    response = requests.post(cluster.leader_url() + "/v2/apps", json=body, timeout=10)
    assert response.status_code == 201, response.text


def http_check(**extra: Any) -> JSON:
    return {
        "protocol": "HTTP",
        "path": "/",
        "portIndex": 0,
        "gracePeriodSeconds": 10,
        "intervalSeconds": 1,
        "timeoutSeconds": 1,
        "maxConsecutiveFailures": 3,
        **extra,
    }


def web(app_id: str, cmd: str = SERVE, checks: list[JSON] | None = None, **extra: Any) -> JSON:
    return {
        "id": app_id,
        "cmd": cmd,
        "cpus": 0.1,
        "mem": 48,
        "instances": 1,
        "portDefinitions": [{"port": 0, "name": "http"}],
        "healthChecks": checks if checks is not None else [http_check()],
        **extra,
    }


# --- a failing HTTP check: killed after maxConsecutiveFailures, then replaced ----------------


def test_f18_a_failing_http_check_kills_and_replaces_the_task(
    marathon_cluster: Any, work_root: Path, event_stream: Any
) -> None:
    cluster = marathon_cluster()
    site = work_root / "site"
    site.mkdir(mode=0o755)
    (site / "ok").write_text("ok\n")
    check = http_check(path="/ok")
    create(cluster, web("/f18", f"{SERVE} --directory {site}", [check]))
    task_id = cluster.wait_running("/f18", 1, healthy=True)["tasks"][0]["id"]
    stream = event_stream(cluster.leader_url())

    (site / "ok").unlink()  # the check starts failing: 404
    failing_at = time.monotonic()
    wait_for(lambda: stream.of("unhealthy_instance_kill_event", taskId=task_id), 15, "the kill")
    killed_at, kill = stream.of("unhealthy_instance_kill_event", taskId=task_id)[0]
    (site / "ok").write_text("ok\n")  # the replacement serves it again
    took = killed_at - failing_at
    budget = check["maxConsecutiveFailures"] * check["intervalSeconds"] + check["timeoutSeconds"]
    print(f"\nF18: killed {took:.2f}s after the check started failing (budget {budget + 1}s)")
    assert took <= budget + 1.0
    assert kill["appId"] == "/f18" and kill["reason"] == "HTTP 404" and kill["host"]
    changed = stream.of("health_status_changed_event", taskId=task_id)
    assert [e["alive"] for _, e in changed] == [False], changed
    assert len(stream.of("failed_health_check_event", taskId=task_id)) >= 3

    replaced = cluster.wait_running("/f18", 1, healthy=True, timeout=15)
    replacement = replaced["tasks"][0]
    assert replacement["id"] != task_id
    healthy_after = time.monotonic() - killed_at
    print(f"F18: replacement healthy {healthy_after:.2f}s after the kill")
    assert healthy_after <= 10.0
    killed = [t for t in cluster.master_tasks("TASK_KILLED") if t["id"] == task_id]
    assert killed, "the unhealthy task ended TASK_KILLED at the master"
    assert stream.of("health_status_changed_event", taskId=replacement["id"], alive=True)


# --- check kinds -----------------------------------------------------------------------------


def test_tcp_command_and_mesos_http_checks_show_in_tasks_healthy(marathon_cluster: Any) -> None:
    cluster = marathon_cluster()
    tcp = {"protocol": "TCP", "portIndex": 0, "intervalSeconds": 1, "timeoutSeconds": 1}
    command = {
        "protocol": "COMMAND",
        "command": {"value": "test -d /proc"},
        "gracePeriodSeconds": 5,
        "intervalSeconds": 1,
        "timeoutSeconds": 2,
        "delaySeconds": 0,
    }
    mesos_http = {**http_check(), "protocol": "MESOS_HTTP", "delaySeconds": 0}
    failing = {**command, "command": {"value": "exit 1"}, "gracePeriodSeconds": 0}
    failing["maxConsecutiveFailures"] = 2
    apps = {
        "/tcp": web("/tcp", checks=[tcp]),
        "/command": web("/command", checks=[command]),
        "/mesos-http": web("/mesos-http", checks=[mesos_http]),
        "/failing": web("/failing", checks=[failing]),
    }
    for body in apps.values():
        create(cluster, body)
    for app_id in ("/tcp", "/command", "/mesos-http"):
        app = cluster.wait_running(app_id, 1, healthy=True, timeout=30)
        assert app["tasksHealthy"] == 1 and app["tasksUnhealthy"] == 0, app_id
        results = app["tasks"][0]["healthCheckResults"]
        assert len(results) == 1 and results[0]["alive"] is True, (app_id, results)
    # The executor runs the MESOS_HTTP and COMMAND checks: the master shows their verdict.
    at_master = {t["id"]: t for t in cluster.master_tasks()}
    for app_id in ("/command", "/mesos-http"):
        task = app_of(cluster, app_id)["tasks"][0]
        assert "health_check" in at_master[task["id"]], app_id
        assert at_master[task["id"]]["statuses"][-1].get("healthy") is True, app_id
    # An executor-side check that fails: the executor kills the task, Marathon replaces it.
    first = wait_for(lambda: app_of(cluster, "/failing")["tasks"], 30, "/failing launched")
    first_id = first[0]["id"]

    def replaced() -> bool:
        ids = {t["id"] for t in app_of(cluster, "/failing")["tasks"]}
        return bool(ids) and first_id not in ids

    wait_for(replaced, 30, "the failing task killed by its executor and replaced")
    (ended,) = [t for t in cluster.master_tasks("TASK_KILLED") if t["id"] == first_id]
    assert ended["statuses"][-1].get("healthy") is False, ended["statuses"]


# --- taskKillGracePeriodSeconds --------------------------------------------------------------


def test_task_kill_grace_period_reaches_the_kill(marathon_cluster: Any, work_root: Path) -> None:
    cluster = marathon_cluster()
    marks = work_root / "marks"
    marks.mkdir()
    marks.chmod(0o777)  # tasks run as the agent's task user (nobody)
    # On SIGTERM the task needs 4 s to finish; the default grace (3 s) would SIGKILL it first.
    cmd = (
        f"trap 'echo term >> {marks}/$MESOS_TASK_ID; sleep 4; echo done >> {marks}/$MESOS_TASK_ID;"
        f" exit 0' TERM; touch {marks}/$MESOS_TASK_ID.ready; while :; do sleep 0.2; done"
    )
    body = {"id": "/graceful", "cmd": cmd, "cpus": 0.1, "mem": 32, "instances": 1}
    create(cluster, {**body, "taskKillGracePeriodSeconds": 8})
    task_id = cluster.wait_running("/graceful", 1)["tasks"][0]["id"]
    at_master = {t["id"]: t for t in cluster.master_tasks()}
    assert at_master[task_id]["kill_policy"] == {"grace_period": {"nanoseconds": 8_000_000_000}}
    wait_for(lambda: (marks / f"{task_id}.ready").exists(), 15, "the task's TERM trap set")
    sent = time.monotonic()
    response = requests.delete(
        cluster.leader_url() + "/v2/apps/graceful/tasks", params={"scale": "true"}, timeout=10
    )
    assert response.status_code == 200, response.text
    wait_for(
        lambda: any(t["id"] == task_id for t in cluster.master_tasks("TASK_KILLED")),
        15,
        "TASK_KILLED at the master",
    )
    took = time.monotonic() - sent
    lines = (marks / task_id).read_text().split()
    print(f"\ngrace: TASK_KILLED {took:.2f}s after the kill, marks {lines}")
    assert lines == ["term", "done"], "the task was SIGKILLed before its grace period"
    assert took >= 4.0


# --- unreachableStrategy ---------------------------------------------------------------------

# Agents are marked unreachable after 1 s x 4 missed pings (the budget must exceed the
# master's ZooKeeper session timeout).
SHORT_PINGS = {"agent_ping_timeout": 1.0, "max_agent_ping_timeouts": 4, "zk_session_timeout": 3.0}


def test_unreachable_strategy_replaces_or_waits(marathon_cluster: Any) -> None:
    # The master sends no update when an agent comes back (as Mesos): Marathon learns that its
    # tasks run again from reconciliation, every 5 s here.
    cluster = marathon_cluster(master_config=SHORT_PINGS, reconciliation_interval=5.0)
    group = {
        "id": "/partition",
        "apps": [
            {
                "id": "replace",
                "cmd": "sleep 600",
                "cpus": 0.1,
                "mem": 32,
                "unreachableStrategy": {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 300},
            },
            {
                "id": "wait",
                "cmd": "sleep 600",
                "cpus": 0.1,
                "mem": 32,
                "unreachableStrategy": "disabled",
            },
        ],
    }
    response = requests.post(cluster.leader_url() + "/v2/groups", json=group, timeout=10)
    assert response.status_code == 201, response.text
    before = {
        app_id: cluster.wait_running(app_id, 1)["tasks"][0]
        for app_id in ("/partition/replace", "/partition/wait")
    }
    hosts = {t["host"] for t in before.values()}
    # One deployment, one offer: both land on the same agent.
    assert len(hosts) == 1, before
    (host,) = hosts
    agent = cluster.agents[0 if host == "127.0.0.1" else 1]
    assert agent.config["hostname"] == host

    processes.kill_family(agent.pid, signal.SIGSTOP)
    stopped_at = time.monotonic()
    try:

        def replacement() -> JSON | None:
            tasks = app_of(cluster, "/partition/replace")["tasks"]
            states = {t["id"]: (t["state"], t["host"]) for t in tasks}
            if states.get(before["/partition/replace"]["id"], ("",))[0] != "TASK_UNREACHABLE":
                return None
            fresh = [t for t in tasks if t["id"] != before["/partition/replace"]["id"]]
            return fresh[0] if fresh and fresh[0]["state"] == "TASK_RUNNING" else None

        fresh = wait_for(replacement, 20, "a replacement of the unreachable task")
        print(f"\nunreachable: replacement running {time.monotonic() - stopped_at:.2f}s after STOP")
        assert fresh["host"] != host, "the replacement runs on the other agent"
        # Once Marathon has handled the disabled app's TASK_UNREACHABLE, a replacement it wants
        # is in the launch queue at once: the queue is the plan of the current state, the one
        # the next offer round acts on (one launched already shows below).
        wait_for(
            lambda: (
                [t["state"] for t in app_of(cluster, "/partition/wait")["tasks"]]
                == ["TASK_UNREACHABLE"]
            ),
            20,
            "Marathon to see the disabled app's task unreachable",
        )
        queue = requests.get(cluster.leader_url() + "/v2/queue", timeout=5).json()["queue"]
        assert "/partition/wait" not in [q["app"]["id"] for q in queue], queue
        waiting = app_of(cluster, "/partition/wait")
        assert [(t["id"], t["state"]) for t in waiting["tasks"]] == [
            (before["/partition/wait"]["id"], "TASK_UNREACHABLE")
        ], waiting["tasks"]
        assert waiting["tasksRunning"] == 0 and waiting["instances"] == 1
        launched = [
            t
            for t in cluster.master_tasks() + cluster.master_tasks("TASK_STAGING")
            if t["id"].startswith("partition_wait.")
        ]
        assert launched == [], "the disabled app launched a replacement"
    finally:
        processes.kill_family(agent.pid, signal.SIGCONT)

    # The agent is back: both originals run again. The app with a replacement has 2 of 1 for a
    # moment; the surplus goes and the count settles at the target.
    def settled() -> bool:
        replace_app = app_of(cluster, "/partition/replace")
        wait_app = app_of(cluster, "/partition/wait")
        return (
            [t["state"] for t in wait_app["tasks"]] == ["TASK_RUNNING"]
            and replace_app["tasksRunning"] == 1
            and len(replace_app["tasks"]) == 1
        )

    wait_for(settled, 30, "both apps back at their target counts")
    print(f"unreachable: back at the targets {time.monotonic() - stopped_at:.2f}s after STOP")
    running = {t["id"] for t in cluster.master_tasks()}
    kept = app_of(cluster, "/partition/replace")["tasks"][0]["id"]
    # YOUNGEST_FIRST: the replacement is the surplus; the original that came back stays.
    assert kept == before["/partition/replace"]["id"]
    assert running == {kept, before["/partition/wait"]["id"]}, running
