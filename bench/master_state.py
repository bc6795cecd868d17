"""`/master/state` under concurrent polling, 100 agents x 100 tasks (Mesos 1.7 anchor).

Starts a real ZooKeeper and a real master (gunicorn) on loopback, registers N simulated agents
over the agent protocol — each reporting `tasks_per_agent` running tasks of 10 frameworks, as the
Mesos 1.7 benchmark did — then polls `/master/state` with 1 and 10 concurrent pollers while a
probe measures other calls (`/health`, `/version`, `/master/slaves?slave_id=…`). Each poller
count runs twice: with static state (every poll after the first is served from the render cache,
like Mesos 1.7's batched responses), and with churn (a simulated agent sends a status update
every 10 ms and pollers wait 30 ms between polls, so every poll renders anew).
Every loop is bounded in count and time.

Run: `.venv/bin/python bench/master_state.py [--quick]`.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from daemons.protocols.recordio import Decoder
from tools.machine import machine_line
from tools.processes import (
    free_port,
    start_daemon,
    start_zookeeper,
    stop_pid,
)

ANCHOR = {1: 0.1, 10: 0.4}


def resources(cpus: float, mem: float) -> list[dict[str, Any]]:
    return [
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus}},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": mem}},
    ]


class SimulatedAgent:
    """Holds one agent-protocol SUBSCRIBE stream open and can send UPDATE calls."""

    def __init__(self, port: int, index: int, tasks_per_agent: int) -> None:
        self.port = port
        self.index = index
        self.tasks = []
        for t in range(tasks_per_agent):
            framework = f"bench-fw-{t % 10}"
            self.tasks.append(
                {
                    "task_id": {"value": f"task-{index}-{t}"},
                    "framework_id": {"value": framework},
                    "name": f"task-{index}-{t}",
                    "state": "TASK_RUNNING",
                    "resources": resources(0.01, 1),
                    "statuses": [
                        {
                            "task_id": {"value": f"task-{index}-{t}"},
                            "state": "TASK_RUNNING",
                            "timestamp": time.time(),
                        }
                    ],
                }
            )
        self.agent_id = ""
        self.stream_id = ""
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        body = {
            "type": "SUBSCRIBE",
            "subscribe": {
                "agent_info": {
                    "hostname": f"10.1.{self.index // 250}.{self.index % 250}",
                    "port": 5051,
                    "resources": resources(16, 65536),
                },
                "tasks": self.tasks,
                "frameworks": [
                    {
                        "id": {"value": f"bench-fw-{f}"},
                        "name": f"bench-{f}",
                        "user": "root",
                        "failover_timeout": 3600.0,
                    }
                    for f in range(10)
                ],
            },
        }
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request(
            "POST",
            "/api/v1/agent",
            json.dumps(body),
            {"Content-Type": "application/json", "Accept": "application/json"},
        )
        response = conn.getresponse()
        self.stream_id = response.getheader("Mesos-Stream-Id") or ""
        head = response.read1(65536).decode()
        first = json.loads(head.split("\n", 1)[1][: int(head.split("\n", 1)[0])])
        self.agent_id = first["subscribed"]["agent_id"]["value"]
        self.ready.set()
        decoder = Decoder()
        calls = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        while not self.stop.is_set():
            try:
                data = response.read1(65536)
                if not data:
                    return
                for record in decoder.decode(data):
                    if b'"PING"' in record:  # answered as an agent does (held for minutes)
                        self.call(calls, {"type": "PONG", "agent_id": {"value": self.agent_id}})
            except (OSError, http.client.HTTPException):
                return  # the master went away at the end of the run
        conn.close()
        calls.close()

    def call(self, conn: http.client.HTTPConnection, body: dict[str, Any]) -> None:
        """POST an agent call; a kept-alive connection the master has closed is opened again."""
        for attempt in range(2):
            try:
                conn.request(
                    "POST",
                    "/api/v1/agent",
                    json.dumps(body),
                    {"Content-Type": "application/json", "Mesos-Stream-Id": self.stream_id},
                )
                response = conn.getresponse()
                response.read()
                break
            except (OSError, http.client.HTTPException):
                conn.close()
                if attempt:
                    raise
        if response.status != 202:
            raise RuntimeError(f"{body['type']} answered {response.status}")

    def update(self, conn: http.client.HTTPConnection, task: int, state: str) -> None:
        status = {
            "task_id": self.tasks[task]["task_id"],
            "state": state,
            "uuid": base64.b64encode(uuid.uuid4().bytes).decode(),
            "timestamp": time.time(),
        }
        body = {
            "type": "UPDATE",
            "agent_id": {"value": self.agent_id},
            "update": {"status": status, "framework_id": self.tasks[task]["framework_id"]},
        }
        self.call(conn, body)


def timed_get(conn: http.client.HTTPConnection, path: str) -> float:
    start = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    if response.status != 200:
        raise RuntimeError(f"{path}: {response.status}")
    return time.perf_counter() - start


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_pollers(
    port: int, pollers: int, polls: int, churn: SimulatedAgent | None, limit: float
) -> dict[str, float]:
    latencies: list[float] = []
    probes: list[float] = []
    lock = threading.Lock()
    done = threading.Event()
    deadline = time.monotonic() + limit

    def poller() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(polls):
            if time.monotonic() > deadline:
                break
            elapsed = timed_get(conn, "/master/state")
            with lock:
                latencies.append(elapsed)
            if churn is not None:
                # Let the churner change the state before the next poll, so that every poll
                # renders anew instead of being answered from the cache.
                time.sleep(0.03)
        conn.close()

    def probe() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        paths = ["/health", "/version", "/master/slaves?slave_id=none"]
        i = 0
        while not done.is_set() and time.monotonic() < deadline:
            probes.append(timed_get(conn, paths[i % len(paths)]))
            i += 1
            time.sleep(0.02)
        conn.close()

    def churner() -> None:
        assert churn is not None
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = 0
        while not done.is_set() and time.monotonic() < deadline and i < 100_000:
            churn.update(conn, i % len(churn.tasks), "TASK_RUNNING")
            i += 1
            time.sleep(0.01)
        conn.close()

    threads = [threading.Thread(target=poller) for _ in range(pollers)]
    extra = [threading.Thread(target=probe)]
    if churn is not None:
        extra.append(threading.Thread(target=churner))
    for t in extra + threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    for t in extra:
        t.join()
    return {
        "polls": len(latencies),
        "p50": statistics.median(latencies),
        "p99": pct(latencies, 0.99),
        "probe_p99": pct(probes, 0.99) if probes else float("nan"),
        "probe_max": max(probes) if probes else float("nan"),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--tasks-per-agent", type=int, default=100)
    parser.add_argument("--polls", type=int, default=50, help="polls per poller")
    parser.add_argument("--quick", action="store_true", help="10 agents x 10 tasks, 5 polls")
    args = parser.parse_args()
    if args.quick:
        args.agents, args.tasks_per_agent, args.polls = 10, 10, 5
    work = Path(tempfile.mkdtemp(prefix="bench-state-"))
    zk_port, master_port = free_port(), free_port()
    zk_pid = start_zookeeper(work / "zk", zk_port, work / "zk.log")
    master = None
    agents: list[SimulatedAgent] = []
    try:
        master = start_daemon(
            "daemons.master.main",
            {
                "zk": f"zk://127.0.0.1:{zk_port}/mesos",
                "ip": "127.0.0.1",
                "port": master_port,
                "work_dir": str(work / "master"),
                "heartbeat_interval": 5.0,
            },
            work / "master.toml",
            work / "master.log",
        )
        start = time.perf_counter()
        for i in range(args.agents):
            agent = SimulatedAgent(master_port, i, args.tasks_per_agent)
            agent.thread.start()
            agent.ready.wait(30)
            agents.append(agent)
        registered = time.perf_counter() - start
        conn = http.client.HTTPConnection("127.0.0.1", master_port, timeout=30)
        size = len(json.dumps(json.loads(_get(conn, "/master/state"))))
        print(f"# {machine_line()}")
        print(
            f"# {args.agents} agents x {args.tasks_per_agent} tasks registered in "
            f"{registered:.2f} s; /master/state is {size / 1e6:.1f} MB"
        )
        print(
            f"{'pollers':>7} {'state':>7} {'polls':>6} {'p50 s':>8} {'p99 s':>8} "
            f"{'anchor p50':>10} {'other p99 ms':>12} {'other max ms':>12}"
        )
        for pollers in (1, 10):
            for churn in (None, agents[0]):
                result = run_pollers(master_port, pollers, args.polls, churn, limit=120)
                print(
                    f"{pollers:>7} {('churn' if churn else 'static'):>7} {result['polls']:>6} "
                    f"{result['p50']:>8.3f} {result['p99']:>8.3f} {ANCHOR[pollers]:>10.1f} "
                    f"{result['probe_p99'] * 1000:>12.1f} {result['probe_max'] * 1000:>12.1f}"
                )
        return 0
    finally:
        for agent in agents:
            agent.stop.set()
        if master is not None:
            stop_pid(master)
        stop_pid(zk_pid)


def _get(conn: http.client.HTTPConnection, path: str) -> bytes:
    conn.request("GET", path)
    return conn.getresponse().read()


if __name__ == "__main__":
    sys.exit(main())
