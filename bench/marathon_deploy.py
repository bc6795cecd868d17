"""Marathon deploys on `make local`-style daemons: how long one app of N instances takes.

    .venv/bin/python bench/marathon_deploy.py                     # N = 100, 500, 1000, every step
    .venv/bin/python bench/marathon_deploy.py --sizes 100 --timeout 120
    .venv/bin/python bench/marathon_deploy.py --quick             # N = 100: deploy, scale to 0

A fresh local cluster (ZooKeeper, one master, two agents, Marathon, Metronome on free ports,
`tools/localcluster.py`) per run. Each app is `sleep 3600` with cpus 0.01 and mem 16 (1,000 of
them fit the two agents). Steps, each bounded by `--timeout` (a step that does not finish prints
how far it got):

- deploy N: POST /v2/apps -> every instance TASK_RUNNING and the deployment gone;
- healthy N (the largest N): the same app with a COMMAND health check -> every instance healthy
  and the deployment gone;
- restart N (the largest N): POST /v2/apps/{id}/restart, a rolling restart -> the deployment
  gone and N instances running that were not running before;
- scale N -> 0: PUT instances 0 -> nothing running and the deployment gone.

Between sizes the app is deleted and its tasks waited for. Figures print beside their anchor:
Marathon 0.15.2 on Mesos deployed 500 instances in 14.2 s (`max_tasks_per_offer` 20, 189
agents); issue 12's target is 1,000 in 20 s. Sends traffic only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools import localcluster, processes
from tools.machine import machine_line

POLL = 0.2  # seconds between two looks at Marathon
ANCHORS = {100: "-", 500: "Marathon 0.15: 14.2 s", 1000: "target 20 s"}


def call(method: str, url: str, body: Any = None, timeout: float = 30.0) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    request.add_header("Accept", "application/json")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        text = response.read()
    return json.loads(text) if text else None


class Marathon:
    def __init__(self, url: str) -> None:
        self.url = url

    def app(self, app_id: str) -> dict[str, Any] | None:
        try:
            body = call("GET", f"{self.url}/v2/apps{app_id}")
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return None
            raise
        app: dict[str, Any] = body["app"]
        return app

    def deployments(self, app_id: str) -> int:
        return sum(
            app_id in d.get("affectedApps", []) for d in call("GET", f"{self.url}/v2/deployments")
        )

    def running_task_ids(self, app_id: str) -> set[str]:
        body = call("GET", f"{self.url}/v2/apps{app_id}/tasks")
        return {t["id"] for t in body.get("tasks", []) if t.get("state") == "TASK_RUNNING"}

    def counts(self, app_id: str) -> dict[str, int]:
        app = self.app(app_id) or {}
        return {
            "running": int(app.get("tasksRunning", 0)),
            "healthy": int(app.get("tasksHealthy", 0)),
            "staged": int(app.get("tasksStaged", 0)),
            "deployments": self.deployments(app_id),
        }


def app_definition(app_id: str, instances: int, health: bool) -> dict[str, Any]:
    app: dict[str, Any] = {
        "id": app_id,
        "cmd": "sleep 3600",
        "cpus": 0.01,
        "mem": 16,
        "instances": instances,
    }
    if health:
        app["healthChecks"] = [
            {
                "protocol": "COMMAND",
                "command": {"value": "true"},
                "gracePeriodSeconds": 0,
                "intervalSeconds": 1,
                "timeoutSeconds": 5,
                "maxConsecutiveFailures": 3,
            }
        ]
    return app


def wait(
    marathon: Marathon, app_id: str, done: Callable[[dict[str, int]], bool], timeout: float
) -> tuple[float | None, dict[str, int]]:
    """Seconds until `done(counts)` (None on timeout) and the last counts seen."""
    start = time.perf_counter()
    deadline = start + timeout
    counts: dict[str, int] = {}
    while time.perf_counter() < deadline:
        counts = marathon.counts(app_id)
        if done(counts):
            return time.perf_counter() - start, counts
        time.sleep(POLL)
    return None, counts


def step(
    name: str,
    marathon: Marathon,
    app_id: str,
    start: Callable[[], Any],
    done: Callable[[dict[str, int]], bool],
    timeout: float,
    anchor: str,
    instances: int | None = None,
) -> None:
    """Start a change, wait for it, print its line: seconds (or how far it got), instances/s."""
    start()
    took, counts = wait(marathon, app_id, done, timeout)
    shown = f"{took:.1f} s" if took is not None else f"not done after {timeout:.0f} s"
    rate = f"{instances / max(took, 1e-9):.1f}/s" if took is not None and instances else ""
    print(f"{name:<24} {shown:>22} {rate:>9}  {anchor:<22} last seen {counts}", flush=True)


def remove(marathon: Marathon, app_id: str, timeout: float) -> None:
    try:
        call("DELETE", f"{marathon.url}/v2/apps{app_id}?force=true")
    except urllib.error.HTTPError as err:
        if err.code != 404:
            raise
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline and marathon.app(app_id) is not None:
        time.sleep(POLL)


def free_cluster(
    state: Path, agent_options: tuple[tuple[str, object], ...] = ()
) -> localcluster.Cluster:
    """A local cluster on ports nobody uses: master, agents, Marathon and Metronome (which
    move with the master's port) and ZooKeeper; `agent_options` are extra agent config keys."""
    zk_port = processes.free_port()
    for base in range(20000, 30000, 7):
        cluster = localcluster.Cluster(
            state, base_port=base, zk_port=zk_port, agent_options=agent_options
        )
        names = [n for n in cluster.components if n != "zookeeper"]
        if not any(processes.port_in_use("127.0.0.1", cluster.port(n)) for n in names):
            return cluster
    raise RuntimeError("no free ports for the local cluster")


@contextlib.contextmanager
def local_cluster(
    prefix: str, agent_options: tuple[tuple[str, object], ...] = ()
) -> Iterator[localcluster.Cluster | None]:
    """A fresh local cluster (None if it did not come up), stopped at the end whatever happens."""
    state = Path(tempfile.mkdtemp(prefix=prefix))
    cluster = free_cluster(state, agent_options)
    try:
        started = time.perf_counter()
        if localcluster.up(cluster) != 0:
            print("# the local cluster did not come up; logs in", state / "logs")
            yield None
        else:
            print(f"# local cluster up in {time.perf_counter() - started:.1f} s ({state})")
            yield cluster
    finally:
        localcluster.down(cluster)


def run(sizes: list[int], timeout: float, steps: set[str]) -> int:
    with local_cluster("bench-marathon-") as cluster:
        if cluster is None:
            return 1
        marathon = Marathon(cluster.url("marathon"))
        print(f"{'step':<24} {'seconds':>22} {'inst/s':>9}  {'anchor':<22}")
        largest = max(sizes)
        for n in sizes:
            app_id = f"/bench-{n}"
            if "deploy" in steps:
                step(
                    f"deploy N={n}",
                    marathon,
                    app_id,
                    lambda a=app_id, k=n: call(
                        "POST", f"{marathon.url}/v2/apps", app_definition(a, k, False)
                    ),
                    lambda c, k=n: c["running"] >= k and c["deployments"] == 0,
                    timeout,
                    ANCHORS.get(n, "-"),
                    n,
                )
            if n == largest and "restart" in steps and marathon.app(app_id) is not None:
                old = marathon.running_task_ids(app_id)
                step(
                    f"rolling restart N={n}",
                    marathon,
                    app_id,
                    lambda a=app_id: call("POST", f"{marathon.url}/v2/apps{a}/restart"),
                    lambda c, a=app_id, k=n, o=old: (
                        c["deployments"] == 0 and len(marathon.running_task_ids(a) - o) >= k
                    ),
                    timeout,
                    "-",
                    n,
                )
            if n == largest and "scale" in steps and marathon.app(app_id) is not None:
                step(
                    f"scale {n} -> 0",
                    marathon,
                    app_id,
                    lambda a=app_id: call("PUT", f"{marathon.url}/v2/apps{a}", {"instances": 0}),
                    lambda c: c["running"] == 0 and c["staged"] == 0 and c["deployments"] == 0,
                    timeout,
                    "-",
                )
            remove(marathon, app_id, timeout)
        if "healthy" in steps:
            app_id = f"/bench-healthy-{largest}"
            step(
                f"healthy N={largest}",
                marathon,
                app_id,
                lambda: call(
                    "POST", f"{marathon.url}/v2/apps", app_definition(app_id, largest, True)
                ),
                lambda c: c["healthy"] >= largest and c["deployments"] == 0,
                timeout,
                "-",
                largest,
            )
            remove(marathon, app_id, timeout)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,500,1000", help="app sizes, comma-separated")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per step at most")
    parser.add_argument(
        "--steps",
        default="deploy,healthy,restart,scale",
        help="which of deploy, healthy, restart, scale",
    )
    parser.add_argument(
        "--quick", action="store_true", help="N = 100 only, deploy and scale, 120 s per step"
    )
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.steps, args.timeout = "100", "deploy,scale", 120.0
    sizes = sorted(int(s) for s in args.sizes.split(",") if s)
    steps = {s.strip() for s in args.steps.split(",") if s.strip()}
    unknown = steps - {"deploy", "healthy", "restart", "scale"}
    if unknown or not sizes or any(n <= 0 for n in sizes):
        parser.error(f"bad --sizes or --steps ({', '.join(sorted(unknown))})")
    print(f"# {machine_line()}")
    return run(sizes, args.timeout, steps)


if __name__ == "__main__":
    sys.exit(main())
