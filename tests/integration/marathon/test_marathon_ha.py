"""Marathon high availability on real processes: standbys proxy to the leader, a `kill -9`'d
leader is replaced within 6 s by a standby that re-subscribes with the same FrameworkID and kills
nothing, a new FrameworkID is refused while instances exist, a leader that loses its ZooKeeper
session exits, a rolling restart survives a failover keeping its minimum healthy capacity, and
launch backoff survives one too (no burst of launches)."""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from e2e_cluster import container_pids
from marathon_cluster import (
    JSON,
    SLEEP,
    WEB,
    MarathonCluster,
    framework_tasks,
    leader_index,
    marathon_counter,
    master_kills,
    wait_for,
    zk_delete,
)

from tools import processes

# Every test here is bounded well below the suite's 600 s default.
pytestmark = pytest.mark.timeout(180)


def info(url: str) -> JSON | None:
    try:
        response = requests.get(url + "/v2/info", timeout=2)
    except requests.RequestException:
        return None
    return response.json() if response.status_code == 200 else None


def framework_id_of(url: str) -> str:
    """The FrameworkID the instance at `url` leads with, once it has subscribed."""
    found: str = wait_for(lambda: (info(url) or {}).get("frameworkId"), 15, "a FrameworkID")
    return found


def local_leader(url: str) -> str | None:
    """What one instance itself says leads (/v2/leader is answered locally)."""
    try:
        response = requests.get(url + "/v2/leader", timeout=2)
    except requests.RequestException:
        return None
    return response.json().get("leader") if response.status_code == 200 else None


def task_pids(cluster: MarathonCluster) -> dict[int, list[str]]:
    """pid -> argv of every process in both agents' containers (executors and tasks)."""
    out: dict[int, list[str]] = {}
    for agent in cluster.agents:
        out.update(container_pids(agent.config["cgroups_root"]))
    return out


def master_frameworks(cluster: MarathonCluster) -> list[JSON]:
    body = requests.get(cluster.master.url + "/master/frameworks", timeout=10).json()
    frameworks: list[JSON] = body["frameworks"]
    return frameworks


RUNNING_UPDATES = "marathon.mesos.task-updates.task-running.counter"
LAUNCHED = "marathon.tasks.launched.counter"


def wait_reconciled(url: str, tasks: int) -> None:
    """Until the leader at `url` has handled the master's answers to the reconciliation it
    starts with: each of its `tasks` asked about by id, then all of them (an implicit one).
    Whatever kill an answer made it send has reached the master by then (it counts an update
    once the calls it caused went out)."""
    wait_for(
        lambda: marathon_counter(url, RUNNING_UPDATES) >= 2 * tasks,
        15,
        f"{2 * tasks} TASK_RUNNING reconciliation answers handled",
    )


def create(url: str, body: JSON) -> JSON:
    response = requests.post(url + "/v2/apps", json=body, timeout=15)
    assert response.status_code == 201, response.text
    created: JSON = response.json()
    return created


# --- standbys proxy --------------------------------------------------------------------------


def test_standbys_proxy_every_call_to_the_leader(marathon_cluster: Any) -> None:
    cluster = marathon_cluster(marathons=3)
    leader = cluster.wait_leader()
    address = leader.removeprefix("http://")
    standbys = [m for m in cluster.marathons if m.url != leader]
    assert len(standbys) == 2
    for m in cluster.marathons:
        assert wait_for(lambda m=m: local_leader(m.url) == address, 10, "the same leader")

    # Create through one standby, read and change through the other.
    first, second = standbys[0].url, standbys[1].url
    created = create(first, {"id": "/proxied", "cmd": SLEEP, "cpus": 0.1, "mem": 32})
    assert created["id"] == "/proxied" and created["deployments"]
    wait_for(
        lambda: (
            requests.get(second + "/v2/apps/proxied", timeout=5).json()["app"]["tasksRunning"] == 1
        ),
        30,
        "the app running, seen through a standby",
    )
    for url in (first, second, leader):
        answer = info(url)
        assert answer is not None and answer["elected"] is True and answer["leader"] == address
        apps = requests.get(url + "/v2/apps", timeout=5).json()["apps"]
        assert [a["id"] for a in apps] == ["/proxied"]
    # Every read through a standby is the leader's answer.
    for path in ("/v2/apps?embed=apps.tasks", "/v2/groups", "/v2/tasks", "/v2/queue", "/v2/info"):
        mine = requests.get(leader + path, timeout=5).json()
        assert requests.get(first + path, timeout=5).json() == mine, path
    # Server-Sent Events stream through a standby too.
    with requests.get(
        second + "/v2/events",
        params={"event_type": "deployment_success"},
        headers={"Accept": "text/event-stream"},
        stream=True,
        timeout=(5, 30),
    ) as stream:
        assert stream.status_code == 200
        lines = stream.iter_lines()
        assert next(line for line in lines if line.startswith(b"data: "))  # attached
        scaled = requests.put(first + "/v2/apps/proxied", json={"instances": 0}, timeout=5)
        assert scaled.status_code == 200, scaled.text
        event = json.loads(next(line for line in lines if line.startswith(b"data: "))[6:])
        assert event["eventType"] == "deployment_success"
        assert event["id"] == scaled.json()["deploymentId"]
    # Errors and their bodies pass through unchanged (404, 409, 422).
    missing = requests.get(second + "/v2/apps/nope", timeout=5)
    assert missing.status_code == 404 and missing.json()["message"] == "App '/nope' does not exist"
    invalid = requests.post(second + "/v2/apps", json={"id": "/Bad", "cmd": "x"}, timeout=5)
    assert invalid.status_code == 422 and invalid.json()["details"][0]["path"] == "/id"
    changed = requests.put(second + "/v2/apps/proxied", json={"instances": 2}, timeout=5)
    assert changed.status_code == 200 and "deploymentId" in changed.json()
    wait_for(
        lambda: requests.get(first + "/v2/deployments", timeout=5).json() == [], 30, "deployed"
    )
    deleted = requests.delete(first + "/v2/apps/proxied", timeout=5)
    assert deleted.status_code == 200 and deleted.headers["Marathon-Deployment-Id"]

    # /ping is answered by each instance itself: with the leader stopped (briefly, well within
    # its ZooKeeper session), standbys still answer it and /v2/leader, but not proxied calls.
    leader_process = next(m for m in cluster.marathons if m.url == leader)
    processes.kill_family(leader_process.pid, signal.SIGSTOP)
    try:
        for m in standbys:
            ping = requests.get(m.url + "/ping", timeout=1)
            assert ping.status_code == 200 and ping.text.strip() == "pong"
            assert requests.get(m.url + "/v2/leader", timeout=1).json() == {"leader": address}
    finally:
        processes.kill_family(leader_process.pid, signal.SIGCONT)
    assert cluster.wait_leader() == leader, "a short pause changes no leadership"


# --- kill -9 the leader ----------------------------------------------------------------------


def test_f15_a_killed_leader_is_replaced_with_the_same_framework_and_no_task_killed(
    marathon_cluster: Any,
    fast_marathon_zk: str,
) -> None:
    cluster = marathon_cluster(marathons=2, zk=fast_marathon_zk)
    old = leader_index(cluster)
    leader = cluster.marathons[old]
    standby = cluster.marathons[1 - old]
    framework_id = framework_id_of(leader.url)
    body = {"id": "/f15", "cmd": SLEEP, "cpus": 0.1, "mem": 32, "instances": 2}
    create(leader.url, {**body, "constraints": [["hostname", "UNIQUE"]]})
    app = cluster.wait_running("/f15", 2)
    tasks_before = sorted(t["id"] for t in app["tasks"])
    pids_before = task_pids(cluster)
    assert len(pids_before) >= 4, pids_before  # an executor and a task per instance
    assert sorted(framework_tasks(cluster, framework_id)) == tasks_before
    kills = master_kills(cluster)
    registered = master_frameworks(cluster)[0].get("reregistered_time")

    killed_at = time.monotonic()
    leader.kill(signal.SIGKILL)
    own = standby.url.removeprefix("http://")
    wait_for(lambda: local_leader(standby.url) == own, 15, "the standby elected")
    elected = time.monotonic() - killed_at

    def subscribed() -> JSON | None:
        # An elected Marathon shows the FrameworkID it read from ZooKeeper before it subscribes
        # with it: the master's reregistered_time says when it has.
        answer = info(standby.url)
        if not (answer and answer["elected"] and answer["frameworkId"]):
            return None
        again = master_frameworks(cluster)[0].get("reregistered_time") != registered
        return answer if again else None

    answer = wait_for(subscribed, 15, "the new leader subscribed")
    took = time.monotonic() - killed_at
    print(f"\nF15: standby elected {elected:.2f}s, subscribed {took:.2f}s after kill -9")
    assert took <= 6.0, f"takeover took {took:.2f}s"
    assert answer["frameworkId"] == framework_id
    assert [f["id"] for f in master_frameworks(cluster)] == [framework_id]
    assert master_frameworks(cluster)[0]["active"] is True

    # Reconciled: the same tasks, the same processes, nothing killed, the count unchanged. Once
    # the answers are handled, a kill they caused has reached the master, and the launch queue
    # (the plan of the current state, which the next offer round acts on) lists any launch.
    wait_reconciled(standby.url, 2)
    assert master_kills(cluster) == kills, "the new leader killed a task"
    assert marathon_counter(standby.url, LAUNCHED) == 0
    assert requests.get(standby.url + "/v2/queue", timeout=5).json() == {"queue": []}
    app = requests.get(standby.url + "/v2/apps/f15", timeout=5).json()["app"]
    assert app["instances"] == 2 and app["tasksRunning"] == 2
    assert sorted(t["id"] for t in app["tasks"]) == tasks_before
    assert framework_tasks(cluster, framework_id) == dict.fromkeys(tasks_before, "TASK_RUNNING")
    assert task_pids(cluster) == pids_before, "a task or executor process changed"
    state = requests.get(cluster.master.url + "/master/state", timeout=10).json()
    assert state["frameworks"][0]["completed_tasks"] == []
    assert requests.get(standby.url + "/v2/deployments", timeout=5).json() == []


# --- refusing a new FrameworkID --------------------------------------------------------------


def test_a_new_framework_id_is_refused_while_instances_exist(marathon_cluster: Any) -> None:
    cluster = marathon_cluster()
    marathon = cluster.marathons[0]
    framework_id = framework_id_of(marathon.url)
    create(marathon.url, {"id": "/keep", "cmd": SLEEP, "cpus": 0.1, "mem": 32, "instances": 2})
    tasks = sorted(t["id"] for t in cluster.wait_running("/keep", 2)["tasks"])

    zk_delete(cluster, "framework-id")
    marathon.kill(signal.SIGKILL)
    # A fresh Marathon with the same config: it must exit (code 4), not register anew.
    log_path = Path(marathon.state_dir) / "fresh.log"
    with open(log_path, "ab") as log:
        fresh = subprocess.Popen(
            processes.daemon_argv("daemons.marathon.main", marathon.config_path),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=processes.REPO_ROOT,
            start_new_session=True,
        )
    try:
        code = fresh.wait(timeout=30)
    finally:
        if fresh.poll() is None:
            processes.kill_family(fresh.pid, signal.SIGKILL)
            fresh.wait(10)
    text = log_path.read_text()
    assert code == 4, f"exit code {code}; log:\n{text[-3000:]}"
    assert "refusing to register a new framework" in text
    assert [f["id"] for f in master_frameworks(cluster)] == [framework_id]
    assert framework_tasks(cluster, framework_id) == dict.fromkeys(tasks, "TASK_RUNNING")


# --- a leader that loses its ZooKeeper session exits -----------------------------------------


def test_a_leader_that_lost_its_zookeeper_session_exits(
    marathon_cluster: Any, fast_marathon_zk: str
) -> None:
    cluster = marathon_cluster(marathons=2, zk=fast_marathon_zk)
    old = leader_index(cluster)
    leader, standby = cluster.marathons[old], cluster.marathons[1 - old]
    create(leader.url, {"id": "/zk", "cmd": SLEEP, "cpus": 0.1, "mem": 32, "instances": 2})
    tasks = sorted(t["id"] for t in cluster.wait_running("/zk", 2)["tasks"])
    framework_id = framework_id_of(leader.url)
    session = float(leader.config["zk_session_timeout"])
    kills = master_kills(cluster)

    processes.kill_family(leader.pid, signal.SIGSTOP)
    try:
        own = standby.url.removeprefix("http://")
        wait_for(lambda: local_leader(standby.url) == own, 3 * session, "the standby elected")
        wait_for(lambda: (info(standby.url) or {}).get("frameworkId"), 15, "it subscribed")
    finally:
        processes.kill_family(leader.pid, signal.SIGCONT)
    resumed = time.monotonic()
    assert processes.wait_exit(leader.pid, 15.0), "the old leader did not exit"
    print(f"\nold leader exited {time.monotonic() - resumed:.2f}s after SIGCONT")
    leader.pid = None
    assert info(standby.url)["frameworkId"] == framework_id  # type: ignore[index]
    # The old leader is gone: whatever it sent after SIGCONT has reached the master. The new one
    # has handled the answers to its reconciliation, and sent whatever kill they caused.
    wait_reconciled(standby.url, 2)
    assert master_kills(cluster) == kills, "a task was killed"
    assert framework_tasks(cluster, framework_id) == dict.fromkeys(tasks, "TASK_RUNNING")


# --- failover during a rolling restart -------------------------------------------------------


def task_port(task: JSON) -> int:
    ports = str(task["resources"]["ports"]).strip("[]")
    return int(ports.split("-")[0])


def serving(cluster: MarathonCluster, framework_id: str, prefix: str) -> int:
    """Tasks of the app running at the master that answer HTTP on their port now."""
    tasks = requests.get(cluster.master.url + "/master/tasks", timeout=5).json()["tasks"]
    count = 0
    for task in tasks:
        if task["state"] != "TASK_RUNNING" or not task["id"].startswith(prefix + "."):
            continue
        if task["framework_id"] != framework_id:
            continue
        host = "127.0.0.1"  # both agents are loopback addresses; tasks bind 0.0.0.0
        try:
            ok = requests.get(f"http://{host}:{task_port(task)}/", timeout=0.5).status_code == 200
        except requests.RequestException:
            ok = False
        count += ok
    return count


def test_f16_a_rolling_restart_survives_a_leader_failover(
    marathon_cluster: Any, fast_marathon_zk: str
) -> None:
    cluster = marathon_cluster(marathons=2, zk=fast_marathon_zk)
    old = leader_index(cluster)
    leader, standby = cluster.marathons[old], cluster.marathons[1 - old]
    framework_id = framework_id_of(leader.url)
    n = 4
    app = {
        "id": "/f16",
        "cmd": WEB,
        "cpus": 0.1,
        "mem": 48,
        "instances": n,
        "portDefinitions": [{"port": 0, "name": "http"}],
        "healthChecks": [
            {
                "protocol": "HTTP",
                "path": "/",
                "portIndex": 0,
                "gracePeriodSeconds": 30,
                "intervalSeconds": 1,
                "timeoutSeconds": 1,
                "maxConsecutiveFailures": 3,
            }
        ],
        "upgradeStrategy": {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0},
    }
    create(leader.url, app)
    before = cluster.wait_running("/f16", n, healthy=True)
    old_ids = {t["id"] for t in before["tasks"]}
    minimum = n * 0.5

    samples: list[tuple[float, int, int | None]] = []  # (t, serving, marathon's tasksHealthy)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            marathon_view: int | None = None
            try:
                url = cluster.leader_url()
                if url:
                    found = requests.get(url + "/v2/apps/f16", timeout=1).json()["app"]
                    marathon_view = found["tasksHealthy"]
            except (requests.RequestException, KeyError, ValueError):
                pass
            samples.append((time.monotonic(), serving(cluster, framework_id, "f16"), marathon_view))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        restarted = requests.post(leader.url + "/v2/apps/f16/restart", timeout=10)
        assert restarted.status_code == 200, restarted.text
        deployment_id = restarted.json()["deploymentId"]

        def mid_restart() -> bool:
            tasks = requests.get(leader.url + "/v2/apps/f16", timeout=5).json()["app"]["tasks"]
            new = [t for t in tasks if t["id"] not in old_ids and t["state"] == "TASK_RUNNING"]
            return bool(new) and bool(old_ids & {t["id"] for t in tasks})

        wait_for(mid_restart, 30, "a new task running while old ones remain")
        killed_at = time.monotonic()
        leader.kill(signal.SIGKILL)
        wait_for(lambda: (info(standby.url) or {}).get("frameworkId"), 15, "a new leader")
        print(f"\nF16: new leader subscribed {time.monotonic() - killed_at:.2f}s after the kill")
        deployments = requests.get(standby.url + "/v2/deployments", timeout=5).json()
        assert [d["id"] for d in deployments] in ([deployment_id], []), deployments

        done = wait_for(
            lambda: (
                requests.get(standby.url + "/v2/deployments", timeout=5).json() == []
                and (a := requests.get(standby.url + "/v2/apps/f16", timeout=5).json()["app"])[
                    "tasksHealthy"
                ]
                == n
                and a
            ),
            60,
            "the restart finished by the new leader",
        )
    finally:
        stop.set()
        sampler.join(5)
    new_ids = {t["id"] for t in done["tasks"]}
    assert len(new_ids) == n and not new_ids & old_ids, "every task was replaced"
    lowest = min(s[1] for s in samples)
    during = [s[2] for s in samples if s[2] is not None]
    print(
        f"F16: {len(samples)} samples, lowest serving {lowest} of {n} (minimum {minimum:g}),"
        f" Marathon's tasksHealthy lowest {min(during) if during else None}"
    )
    assert lowest >= minimum, [s[:2] for s in samples]
    # No orphans: the master runs exactly the app's tasks once the old ones have ended (a task
    # the old leader launched unbeknown to the new one is killed on reconciliation).
    wait_for(
        lambda: framework_tasks(cluster, framework_id) == dict.fromkeys(new_ids, "TASK_RUNNING"),
        30,
        "the master to run exactly the app's new tasks",
    )


# --- backoff across a failover ---------------------------------------------------------------


def launch_times(cluster: MarathonCluster, framework_id: str, prefix: str) -> list[float]:
    """When each of the app's tasks was launched: its first status's timestamp at the master."""
    state = requests.get(cluster.master.url + "/master/state", timeout=5).json()
    times = []
    for fw in state["frameworks"]:
        if fw["id"] != framework_id:
            continue
        for task in fw.get("tasks", []) + fw.get("completed_tasks", []):
            if task["id"].startswith(prefix + ".") and task["statuses"]:
                times.append(min(float(s["timestamp"]) for s in task["statuses"]))
    return sorted(times)


def test_f17_backoff_continues_across_a_failover(
    marathon_cluster: Any, fast_marathon_zk: str
) -> None:
    cluster = marathon_cluster(marathons=2, zk=fast_marathon_zk)
    old = leader_index(cluster)
    leader, standby = cluster.marathons[old], cluster.marathons[1 - old]
    framework_id = framework_id_of(leader.url)
    create(
        leader.url,
        {
            "id": "/crash",
            "cmd": "exit 1",
            "cpus": 0.1,
            "mem": 32,
            "backoffSeconds": 2,
            "backoffFactor": 2,
            "maxLaunchDelaySeconds": 8,
        },
    )

    # Launches at 0, +2, +4 (= 6), then the delay is 8: fail the leader over right after the
    # third launch failed, while the 8 s delay runs.
    def delay_left() -> int:
        queue = requests.get(leader.url + "/v2/queue", timeout=5).json()["queue"]
        return int(queue[0]["delay"]["timeLeftSeconds"]) if queue else 0

    # The 8 s delay runs once 4 s or more are left (the 4 s one never shows more than 3).
    wait_for(lambda: delay_left() >= 4, 30, "the third failure's 8 s delay")
    assert len(launch_times(cluster, framework_id, "crash")) == 3
    killed_at = time.time()
    leader.kill(signal.SIGKILL)
    wait_for(lambda: (info(standby.url) or {}).get("frameworkId"), 15, "a new leader")
    took_over = time.time()
    wait_for(lambda: len(launch_times(cluster, framework_id, "crash")) >= 5, 40, "5 launches")
    times = launch_times(cluster, framework_id, "crash")
    gaps = [round(b - a, 2) for a, b in itertools.pairwise(times)]
    print(
        f"\nF17: launch gaps {gaps} s; leader killed at +{killed_at - times[0]:.2f}s,"
        f" new leader at +{took_over - times[0]:.2f}s"
    )
    expected = [2, 4, 8, 8]
    for gap, want in zip(gaps, expected, strict=False):
        assert want - 0.5 <= gap <= want + 3.0, (gaps, expected)
    after = [t for t in times if t > took_over]
    assert after and after[0] - max(t for t in times if t < took_over) >= 8 - 0.5, (
        "the first launch after the failover came before the stored delay ran out"
    )
    assert all(b - a >= 2 for a, b in itertools.pairwise(after)), "a launch burst"
