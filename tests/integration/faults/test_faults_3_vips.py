"""VIP faults on test hosts (issue 14, docs/vips.md): F25 and an agent partition, on the fault
suite's cluster (3 masters, 2 agents, installed by site.yml: Marathon on the masters, Minuteman
on every node), with a Marathon app whose port is labelled `VIP_0: /faultvip:80`.

The client is master1 (VIPs are programmed on the nodes, not on this host): `CLIENT` below runs
there, opening a new connection to the VIP every 20 ms, and beside it reads the node's own
`backends` map every 20 ms, keeping each change with its time. The test hosts share this
machine's kernel clock, so the time a backend leaves master1's kernel compares directly with
the timestamp of the terminal status the leading master recorded.

- F25: one of 3 backends SIGKILLed under 60 s of load: ≥ 99 % of the connections succeed and
  the dead backend leaves the node's kernel ≤ 1 s after its status.
- Scaling 2 → 3 → 1, an unhealthy backend and a restart of Minuteman: the node's kernel holds
  the running tasks; a task a Mesos health check calls unhealthy gets weight 0 (no slot: no new
  connection) and stays listed by `/v1/vips`; `systemctl restart dcos-minuteman` on
  master1 under a kept connection and new ones: every request answered.
- Agent partition: agent2 cut from the masters
  (tools.faults.drop) past the ping budget: the master marks it unreachable, and master1's
  kernel drops agent2's backend (agent1's remains), so every connection from master1
  succeeds, on agent1's task; after the heal the backend is back, and once the app's stop has
  ended its backends are out of the kernel within 10 s. (Every backend unreachable, kept, is
  test_minuteman_faults.py's, on loopback.)

Each test removes its app and waits for the stop to end (`remove`), so the next app of the
same id is never refused (409) nor shares the kernel with the last one's tasks.
"""

from __future__ import annotations

import contextlib
import json
import signal
import threading
import time
from typing import Any

import pytest
import requests
from faults_checks import FIGURES
from faults_cluster import CLUSTER, FAULT_MARKS, PING_BUDGET, FaultCluster, wait_for

from daemons.kit.l4lb.named_ips import allocate
from tests.integration.vip_app import MESOS_CHECK, SERVER
from tools import faults

pytestmark = FAULT_MARKS

APP = "/faultvip"
CLIENT_NODE = "master1"
LOAD_SECONDS = 60.0
LOAD_PERIOD = 0.02  # s between new connections: at most 3,000 in the 60 s
REMOVAL_BOUND = 1.0  # s after the terminal status (issue 14)
SUCCESS_BOUND = 0.99

# Run on the client node: argv vip_ip seconds period. Prints one JSON object.
CLIENT = r"""
import http.client, json, subprocess, sys, threading, time
vip, seconds, period = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
out = {"ok": 0, "failed": 0, "errors": {}, "answers": {}, "tables": []}
done = threading.Event()
def slots():
    text = subprocess.run(["nft", "-j", "list", "map", "ip", "dcos_l4lb", "backends"],
                          capture_output=True, text=True, timeout=5).stdout
    found = []
    for item in json.loads(text or '{"nftables": []}')["nftables"]:
        for key, value in item.get("map", {}).get("elem", ()):
            if key["concat"][:3] == [vip, "tcp", 80]:
                found.append("%s:%s" % tuple(value["concat"]))
    return sorted(found)
def watch():
    last = None
    while not done.is_set():
        now = slots()
        if now != last:
            out["tables"].append([time.time(), now])
            last = now
        time.sleep(0.02)
watcher = threading.Thread(target=watch)
watcher.start()
end = time.monotonic() + seconds
while time.monotonic() < end:
    began = time.monotonic()
    try:
        c = http.client.HTTPConnection(vip, 80, timeout=2)
        c.request("GET", "/", headers={"Connection": "close"})
        body = c.getresponse().read().decode()
        c.close()
        out["ok"] += 1
        out["answers"][body] = out["answers"].get(body, 0) + 1
    except (OSError, http.client.HTTPException) as err:
        out["failed"] += 1
        name = type(err).__name__
        out["errors"][name] = out["errors"].get(name, 0) + 1
    time.sleep(max(0.0, period - (time.monotonic() - began)))
done.set()
watcher.join()
print(json.dumps(out))
"""


def marathon(c: FaultCluster) -> str:
    return f"http://{c.masters[CLIENT_NODE]}:8080"


# Run on the client node: argv vip_ip seconds. One connection kept alive, asked every 0.2 s
# for `seconds`, and a new connection each time beside it; prints one JSON object.
KEPT = r"""
import http.client, json, sys, time
vip, seconds = sys.argv[1], float(sys.argv[2])
out = {"kept": [], "new_ok": 0, "new_failed": 0}
kept = http.client.HTTPConnection(vip, 80, timeout=3)
kept.connect()
sock = kept.sock
end = time.monotonic() + seconds
while time.monotonic() < end:
    try:
        assert kept.sock is sock, "the kept connection was opened again"
        kept.request("GET", "/")
        out["kept"].append(kept.getresponse().read().decode())
    except (OSError, http.client.HTTPException, AssertionError) as err:
        out["kept"].append("error " + type(err).__name__)
    try:
        c = http.client.HTTPConnection(vip, 80, timeout=3)
        c.request("GET", "/", headers={"Connection": "close"})
        c.getresponse().read()
        c.close()
        out["new_ok"] += 1
    except (OSError, http.client.HTTPException):
        out["new_failed"] += 1
    time.sleep(0.2)
print(json.dumps(out))
"""


def app(instances: int, constraint: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "id": APP,
        "cmd": f'exec python3 -c "{SERVER}"',
        "cpus": 0.05,
        "mem": 32,
        "instances": instances,
        "constraints": [constraint],
        "portDefinitions": [{"port": 0, "protocol": "tcp", "labels": {"VIP_0": f"{APP}:80"}}],
        # Stay through the partition (no replacement to place meanwhile).
        "unreachableStrategy": {"inactiveAfterSeconds": 600, "expungeAfterSeconds": 1200},
        **extra,
    }


def deploy(c: FaultCluster, definition: dict[str, Any]) -> None:
    answer = c.http.post(f"{marathon(c)}/v2/apps", json=definition, timeout=10)
    assert answer.status_code == 201, answer.text


def remove(c: FaultCluster) -> None:
    """Delete the app and wait for its stop to end: every instance killed (Marathon refuses an
    app of the same id with 409 until then)."""
    with contextlib.suppress(requests.RequestException):
        c.http.delete(f"{marathon(c)}/v2/apps{APP}?force=true", timeout=10)

    def stopped() -> bool:
        try:
            answer = c.http.get(f"{marathon(c)}/v2/deployments", timeout=5)
        except requests.RequestException:
            return False
        return answer.ok and not any(APP in d["affectedApps"] for d in answer.json())

    wait_for(stopped, 90, f"the stop of {APP} to end", interval=0.5)


def running(c: FaultCluster, count: int) -> list[dict[str, Any]] | None:
    """The app's tasks once exactly `count` run, else None."""
    answer = c.http.get(f"{marathon(c)}/v2/apps{APP}?embed=app.tasks", timeout=5)
    if answer.status_code != 200:
        return None
    tasks = [t for t in answer.json()["app"].get("tasks", []) if t["state"] == "TASK_RUNNING"]
    return tasks if len(tasks) == count else None


def vip_ip() -> str:
    """The VIP's address: the one named VIP of the cluster, allocated from the role's default
    range (every node computes the same)."""
    return str(allocate(["faultvip.marathon"]).addresses["faultvip.marathon"])


def kernel_slots(c: FaultCluster, vip: str) -> list[str]:
    found = json.loads(c.on(CLIENT_NODE, "nft -j list map ip dcos_l4lb backends"))
    return sorted(
        "{}:{}".format(*value["concat"])
        for item in found["nftables"]
        for key, value in item.get("map", {}).get("elem", ())
        if key["concat"][:3] == [vip, "tcp", 80]
    )


def backend(task: dict[str, Any]) -> str:
    return f"{task['host']}:{task['ports'][0]}"


def terminal_at(c: FaultCluster, task_id: str) -> float | None:
    """The timestamp of the terminal status the leading master recorded for `task_id`."""
    state = c.master_get("/master/state")
    for framework in state.get("frameworks", []):
        for task in framework.get("completed_tasks", []):
            if task["id"] == task_id and task.get("statuses"):
                return float(task["statuses"][-1]["timestamp"])
    return None


# 900 s: run alone, this first test also waits for the session's cluster (test hosts, site.yml).
@pytest.mark.timeout(900)
def test_f25_a_backend_killed_under_load(fault_cluster: FaultCluster) -> None:
    c = fault_cluster
    deploy(c, app(3, ["hostname", "MAX_PER", "2"]))
    try:
        tasks, _ = wait_for(lambda: running(c, 3), 120, "3 tasks running", interval=0.5)
        vip = vip_ip()
        expected = sorted(backend(t) for t in tasks)
        wait_for(lambda: kernel_slots(c, vip) == expected, 20, "3 backends in master1's kernel")

        result: list[str] = []
        script = f"python3 - {vip} {LOAD_SECONDS} {LOAD_PERIOD} <<'EOF'\n{CLIENT}\nEOF"
        load = threading.Thread(
            target=lambda: result.append(c.on(CLIENT_NODE, script, timeout=LOAD_SECONDS + 60))
        )
        load.start()
        time.sleep(10)
        victim = tasks[0]
        node = c.node_of(victim["host"])
        (tree,) = c.task_processes([node])[victim["id"]]
        assert tree.task is not None, tree
        faults.signal_pids(CLUSTER, victim["host"], [tree.task[0]], signal.SIGKILL)
        load.join(LOAD_SECONDS + 70)
        assert result, "the client on master1 printed nothing"
        out = json.loads(result[0])

        total = out["ok"] + out["failed"]
        FIGURES.check("F25", ">= 99 % of the VIP connections succeed",
                      out["ok"] >= SUCCESS_BOUND * total, f"{out['ok']}/{total}")  # fmt: skip
        FIGURES.notes.append(
            f"F25 (test hosts): {out['ok']}/{total} connections from master1 succeeded, "
            f"errors {out['errors']}, answers per task {sorted(out['answers'].values())}"
        )
        ended, _ = wait_for(lambda: terminal_at(c, victim["id"]), 10, "the victim's status")
        gone = [t for t, slots in out["tables"] if t > ended - 5 and backend(victim) not in slots]
        removal = gone[0] - ended if gone else None
        FIGURES.measure("F25", "dead backend out of the kernel after its status", removal,
                        REMOVAL_BOUND)  # fmt: skip
        assert total >= 0.5 * LOAD_SECONDS / LOAD_PERIOD, out  # the load really ran
        assert out["ok"] / total >= SUCCESS_BOUND, out
        assert removal is not None and removal <= REMOVAL_BOUND, (ended, out["tables"])
        # The replacement, once Marathon has one running, is a backend again.
        now, _ = wait_for(lambda: running(c, 3), 60, "3 tasks running again", interval=0.5)
        again = sorted(backend(t) for t in now)
        wait_for(lambda: kernel_slots(c, vip) == again, 20, "the replacement in the kernel")
    finally:
        remove(c)
        wait_for(lambda: not kernel_slots_or_empty(c), 30, "the VIP gone from master1's kernel")


def kernel_slots_or_empty(c: FaultCluster) -> list[str]:
    found = json.loads(c.on(CLIENT_NODE, "nft -j list map ip dcos_l4lb backends"))
    return [str(v) for item in found["nftables"] for _, v in item.get("map", {}).get("elem", ())]


def scale(c: FaultCluster, instances: int) -> None:
    answer = c.http.put(f"{marathon(c)}/v2/apps{APP}", json={"instances": instances}, timeout=10)
    assert answer.status_code == 200, answer.text


def healthy(c: FaultCluster, count: int) -> list[dict[str, Any]] | None:
    """The app's tasks once exactly `count` run and Marathon counts them healthy, else None."""
    answer = c.http.get(f"{marathon(c)}/v2/apps{APP}?embed=app.tasks", timeout=5)
    if answer.status_code != 200:
        return None
    found = answer.json()["app"]
    tasks = [t for t in found.get("tasks", []) if t["state"] == "TASK_RUNNING"]
    return tasks if len(tasks) == count and found.get("tasksHealthy") == count else None


@pytest.mark.timeout(900)  # as the first test: run alone, it waits for the cluster too
def test_vip_scale_unhealthy_backend_and_minuteman_restart(fault_cluster: FaultCluster) -> None:
    c = fault_cluster
    deploy(c, app(2, ["hostname", "MAX_PER", "2"], healthChecks=[MESOS_CHECK]))
    try:
        vip = vip_ip()
        for count in (2, 3):
            if count == 3:
                scale(c, 3)
            tasks, _ = wait_for(lambda n=count: healthy(c, n), 120, f"{count} healthy tasks",
                                interval=0.5)  # fmt: skip
            expected = sorted(map(backend, tasks))
            wait_for(lambda e=expected: kernel_slots(c, vip) == e, 20, f"{count} backends")

        # One backend turns unhealthy (its established connections working on is the loopback
        # test's: test_minuteman_faults.py).
        sick = tasks[0]
        c.on(CLIENT_NODE, f"curl -sf --max-time 2 http://{backend(sick)}/sick")
        rest = sorted(backend(t) for t in tasks if t["id"] != sick["id"])
        _, took = wait_for(lambda: kernel_slots(c, vip) == rest, 20, "the unhealthy backend's "
                           "slots gone (weight 0)", interval=0.2)  # fmt: skip
        FIGURES.measure("VIP health", "unhealthy backend at weight 0 after /sick", took, None)
        answers = c.on(
            CLIENT_NODE,
            f"for i in $(seq 30); do curl -sf --max-time 2 http://{vip}/; echo; done",
        ).split()
        assert len(answers) == 30 and sick["id"] not in answers, answers
        # Weight 0, not removed: the API (dcos-net's shape, no weights) still lists it.
        listed = json.loads(c.on(CLIENT_NODE, "curl -sf http://127.0.0.1:61421/v1/vips"))
        api = sorted(
            f"{b['ip']}:{b['port']}"
            for v in listed
            if v["vip"].startswith("faultvip.")
            for b in v["backend"]
        )
        assert api == sorted(map(backend, tasks)), listed

        # Minuteman restarted on the client node under a kept connection and new ones.
        script = f"python3 - {vip} 8 <<'EOF'\n{KEPT}\nEOF"
        result: list[str] = []
        load = threading.Thread(target=lambda: result.append(c.on(CLIENT_NODE, script, 60)))
        load.start()
        time.sleep(2)
        c.on(CLIENT_NODE, "systemctl restart dcos-minuteman.service")
        load.join(70)
        out = json.loads(result[0])
        errors = [a for a in out["kept"] if a.startswith("error")]
        asked = out["new_ok"] + out["new_failed"]
        FIGURES.check("VIP restart", "Minuteman restarted: kept and new connections answered",
                      not errors and out["new_failed"] == 0,
                      f"kept {len(out['kept'])}, new {out['new_ok']}/{asked}")  # fmt: skip
        assert len(out["kept"]) >= 20 and not errors and out["new_failed"] == 0, out
        assert len(set(out["kept"])) == 1, out  # one backend held the kept connection throughout
        wait_for(lambda: c.on(CLIENT_NODE, "systemctl is-active dcos-minuteman.service").strip()
                 == "active", 20, "Minuteman active again")  # fmt: skip

        scale(c, 1)
        (left,), _ = wait_for(lambda: running(c, 1), 60, "1 task running", interval=0.5)
        wait_for(lambda: kernel_slots(c, vip) == [backend(left)], 20, "1 backend")
    finally:
        remove(c)


@pytest.mark.timeout(900)  # as the first test: run alone, it waits for the cluster too
def test_vip_agent_partition_drops_the_unreachable_backend(fault_cluster: FaultCluster) -> None:
    c = fault_cluster
    deploy(c, app(2, ["hostname", "UNIQUE"]))
    cut: str | None = None
    try:
        tasks, _ = wait_for(lambda: running(c, 2), 120, "2 tasks running", interval=0.5)
        vip = vip_ip()
        wait_for(lambda: kernel_slots(c, vip) == sorted(map(backend, tasks)), 20, "2 backends")
        cut = "agent2"
        kept = [t for t in tasks if t["host"] != c.agents[cut]]
        assert len(kept) == 1, tasks
        t0 = time.monotonic()
        faults.drop(CLUSTER, cut, to=list(c.masters.values()), from_=list(c.masters.values()))
        _, took = wait_for(
            lambda: kernel_slots(c, vip) == [backend(kept[0])], PING_BUDGET + 15,
            "agent2's backend dropped from master1's kernel", interval=0.2,
        )  # fmt: skip
        FIGURES.measure("VIP partition", "unreachable agent's backend dropped after the cut",
                        took, None)  # fmt: skip
        answers = c.on(
            CLIENT_NODE, f"for i in $(seq 20); do curl -sf --max-time 2 http://{vip}/; echo; done"
        )
        assert answers.split() == [kept[0]["id"]] * 20, answers
        faults.undrop(CLUSTER, cut)
        cut = None
        wait_for(lambda: kernel_slots(c, vip) == sorted(map(backend, tasks)), 90,
                 "agent2's backend back after the heal", interval=0.5)  # fmt: skip
        FIGURES.notes.append(
            f"VIP partition: held {time.monotonic() - t0:.1f} s; master1 answered 20/20 from agent1"
        )
        remove(c)
        # Every instance was killed before remove() returned: their backends leave the kernel
        # within the event path's time. (A CI run once met a backend of this app in the next
        # test: an app created with the same id while the old one's kill still ran took the
        # old task for its own. Marathon now answers that create with 409, as Marathon does,
        # and remove() waits for the stop to end.)
        _, gone = wait_for(lambda: not kernel_slots(c, vip), 10, "no backend left", interval=0.1)
        FIGURES.measure("VIP partition", "the app's backends out of the kernel after its removal",
                        gone, None)  # fmt: skip
    finally:
        if cut is not None:
            faults.undrop(CLUSTER, cut)
        remove(c)
