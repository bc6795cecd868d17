"""Marathon's scheduler alone: placements per second against simulated agents.

    .venv/bin/python bench/marathon_scheduler.py                  # N = 1000, 5000; ZooKeeper
    .venv/bin/python bench/marathon_scheduler.py --store memory   # the pure core, no ZooKeeper
    .venv/bin/python bench/marathon_scheduler.py --quick          # N = 1000 only

The Marathon leader's state and scheduling runtime run in this process (`daemons.marathon`:
`changes.create_app`, `scheduling.handle_offers`, `handle_update`, `tick`) over its real store,
`MarathonStore` on a ZooKeeper started here (every launch is stored before it is sent, one
transaction per offer). There is no master and no agent: `--agents` simulated agents (8 cpus,
32 GiB, ports 31000-32000 each) offer what is free on them every round, and answer a launch with
TASK_RUNNING and a kill with TASK_KILLED at once. What is measured is Marathon's own work, from
the POST of one app of N instances (`sleep`, cpus 0.01, mem 16) until all N run and the
deployment is gone, then scaling it to 0 (kills). Printed beside issue 12's target (1,000
placements/s) and the Kubernetes scheduler's density floor (90 pods/s).
"""

from __future__ import annotations

import argparse
import itertools
import queue
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from daemons.kit import zk
from daemons.marathon import changes, scheduling
from daemons.marathon.config import MarathonConfig
from daemons.marathon.events import EventBus
from daemons.marathon.marathon import Marathon
from daemons.marathon.planner import Planner
from daemons.marathon.store import MarathonStore, MemoryStore
from daemons.marathon.timestamps import marathon_ts
from daemons.mesos_client.events import Offer, TaskStatus, parse_offer
from tools import processes
from tools.machine import machine_line

TARGET = 1000.0  # placements per second, issue 12
K8S_FLOOR = 90.0  # pods per second, the Kubernetes scheduler's density SLO floor
CPUS, MEM, PORTS = 8.0, 32768.0, (31000, 32000)
TASK_CPUS, TASK_MEM = 0.01, 16.0


@dataclass
class SimAgent:
    agent_id: str
    cpus: float = CPUS
    mem: float = MEM
    tasks: set[str] = field(default_factory=set)


class Fleet:
    """Simulated agents and the driver Marathon calls: launches run at once, kills end at once."""

    def __init__(self, count: int) -> None:
        self.agents = {f"agent-{i}": SimAgent(f"agent-{i}") for i in range(count)}
        self.where: dict[str, str] = {}  # task id -> agent id
        self.updates: queue.SimpleQueue[TaskStatus] = queue.SimpleQueue()
        self._offer_ids = itertools.count(1)
        self.launch_calls = 0
        self.launched = 0  # tasks
        self.last_launch_at = 0.0  # perf_counter of the latest launch call

    def offers(self) -> list[Offer]:
        return [self._offer(a) for a in self.agents.values() if a.cpus >= TASK_CPUS]

    def _offer(self, agent: SimAgent) -> Offer:
        return parse_offer(
            {
                "id": {"value": f"offer-{next(self._offer_ids)}"},
                "framework_id": {"value": "bench"},
                "agent_id": {"value": agent.agent_id},
                "hostname": agent.agent_id,
                "resources": [
                    {"name": "cpus", "type": "SCALAR", "scalar": {"value": round(agent.cpus, 4)}},
                    {"name": "mem", "type": "SCALAR", "scalar": {"value": agent.mem}},
                    {"name": "disk", "type": "SCALAR", "scalar": {"value": 10000}},
                    {
                        "name": "ports",
                        "type": "RANGES",
                        "ranges": {"range": [{"begin": PORTS[0], "end": PORTS[1]}]},
                    },
                ],
            }
        )

    # --- the driver -------------------------------------------------------------------------

    def launch(self, offer_ids: Any, task_infos: Any, *, refuse_seconds: Any = None) -> None:
        self.launch_calls += 1
        self.launched += len(task_infos)
        self.last_launch_at = time.perf_counter()
        for task in task_infos:
            agent = self.agents[task["agent_id"]["value"]]
            task_id = task["task_id"]["value"]
            agent.cpus -= TASK_CPUS
            agent.mem -= TASK_MEM
            agent.tasks.add(task_id)
            self.where[task_id] = agent.agent_id
            self.updates.put(
                TaskStatus(task_id=task_id, state="TASK_RUNNING", agent_id=agent.agent_id)
            )

    def kill(self, task_id: str, agent_id: Any = None, *, grace_period_seconds: Any = None) -> None:
        agent = self.agents[self.where.pop(task_id)]
        agent.cpus += TASK_CPUS
        agent.mem += TASK_MEM
        agent.tasks.discard(task_id)
        self.updates.put(TaskStatus(task_id=task_id, state="TASK_KILLED", agent_id=agent.agent_id))

    def decline(self, offer_ids: Any, *, refuse_seconds: Any = None) -> None:
        pass

    def revive(self, roles: Any = ()) -> None:
        pass

    def suppress(self, roles: Any = ()) -> None:
        pass

    def reconcile(self, tasks: Any = ()) -> None:
        pass


def drive(m: Marathon, fleet: Fleet, done: Callable[[], bool], timeout: float) -> int:
    """Offer rounds, status updates as the service handles them (recorded one by one, planned by
    the planner thread) and the tick, until `done()`: the rounds it took."""
    planner = Planner(m)
    planner.start()
    started = time.perf_counter()
    rounds = 0
    try:
        while not done():
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"not done after {timeout:.0f} s ({rounds} rounds)")
            rounds += 1
            scheduling.handle_offers(m, fleet.offers())
            idle = True
            while True:
                try:
                    status = fleet.updates.get(timeout=0.01)
                except queue.Empty:
                    break
                idle = False
                scheduling.record_update(m, status)
                planner.wake()
            scheduling.tick(m)
            if idle:
                time.sleep(0.001)
    finally:
        planner.stop()
    return rounds


def running(m: Marathon, app_id: str) -> int:
    with m.lock:
        return sum(
            1 for i in m.instances.values() if i.app_id == app_id and i.state == "TASK_RUNNING"
        )


def settled(m: Marathon, app_id: str, n: int) -> Callable[[], bool]:
    def check() -> bool:
        with m.lock:
            busy = bool(m.deployments) or bool(m.unplanned)
        return not busy and running(m, app_id) == n

    return check


def one_size(store: Any, n: int, agents: int, timeout: float) -> None:
    fleet = Fleet(agents)
    m = Marathon(
        MarathonConfig(),
        store,
        EventBus(lambda: marathon_ts(time.time())),
        time.time,
        lambda: str(uuid.uuid4()),
    )
    m.load()
    m.driver = fleet  # type: ignore[assignment]
    app_id = f"/bench-{n}"
    app = {"id": app_id, "cmd": "sleep 3600", "cpus": TASK_CPUS, "mem": TASK_MEM}
    steps: list[tuple[str, Callable[[], Any], int]] = [
        (f"deploy N={n}", lambda: changes.create_app(m, {**app, "instances": n}), n),
        (f"restart N={n}", lambda: changes.restart_app(m, app_id, force=False), n),
        (
            f"scale {n} -> 0",
            lambda: changes.update_app(m, app_id, {"instances": 0}, force=False, partial=True),
            0,
        ),
    ]
    for name, change, left in steps:
        calls, launched = fleet.launch_calls, fleet.launched
        started = time.perf_counter()
        change()
        try:
            rounds = drive(m, fleet, settled(m, app_id, left), timeout)
        except TimeoutError as err:
            print(f"{name:<16} {err}; {fleet.launched - launched} placed", flush=True)
            return
        settled_in = time.perf_counter() - started
        placed = fleet.launched - launched
        placed_in = fleet.last_launch_at - started if placed else 0.0
        report(name, placed, placed_in, settled_in, rounds, fleet.launch_calls - calls)


def measure(store_kind: str, sizes: list[int], agents: int, timeout: float) -> None:
    zk_pid = None
    client = None
    state = Path(tempfile.mkdtemp(prefix="bench-scheduler-"))
    try:
        if store_kind == "zookeeper":
            port = processes.free_port()
            zk_pid = processes.start_zookeeper(state / "zk", port, state / "zk.log")
            client = zk.connect(f"127.0.0.1:{port}")
        for n in sizes:
            store = MemoryStore() if client is None else MarathonStore(client, f"/marathon-{n}")
            one_size(store, n, agents, timeout)
    finally:
        if client is not None:
            client.stop()
            client.close()
        if zk_pid is not None:
            processes.stop_pid(zk_pid)


def report(
    step: str, placed: int, placed_in: float, settled_in: float, rounds: int, calls: int
) -> None:
    """Placements: the instances launched (stored, then sent), and how long until the last
    went out; settled: every instance running (or gone) and the deployment finished."""
    if placed:
        rate = placed / placed_in if placed_in else float("inf")
        verdict = "met" if rate >= TARGET else "MISSED"
        placements = (
            f"{placed:>6} placed in {placed_in:6.2f} s = {rate:>6.0f}/s"
            f" (target {TARGET:.0f}/s: {verdict}; k8s floor {K8S_FLOOR:.0f}/s)"
        )
    else:
        placements = f"{'-':>6} placed{'':>55}"
    print(
        f"{step:<16} {placements}  settled in {settled_in:6.2f} s  ({rounds} rounds,"
        f" {calls} launch calls)",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,5000")
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--store", choices=("zookeeper", "memory"), default="zookeeper")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--quick", action="store_true", help="N = 1000 only")
    args = parser.parse_args(argv)
    sizes = [1000] if args.quick else [int(s) for s in args.sizes.split(",")]
    print(f"# {machine_line()}")
    print(f"# Marathon's scheduler, {args.agents} simulated agents, store: {args.store}")
    measure(args.store, sizes, args.agents, args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
