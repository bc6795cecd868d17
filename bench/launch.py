"""Launch benchmark: N `sleep 3600` tasks (cpus 0.01, mem 16) through one framework on the two
local agents, isolation on; accept -> TASK_RUNNING for all.

Prints launches/s, per-task p50/p99 (ACCEPT sent -> TASK_RUNNING received), the agents' memory
per running task (PSS of every process in the task containers, i.e. command executor + task,
and the agents' own RSS growth), and, in the same run, the raw floor from `launch_floor.py`
(fork+exec into a fresh cgroup and namespaces with no PyDCOS) as a ratio.
Anchor: a Mesos agent ≈ 33 launches/s. Target (issue 12): ≥ 100 launches/s at 1,000 tasks,
p99 ≤ 5 s when paced, ≤ 10 MiB PSS per task.

Run: `.venv/bin/python bench/launch.py [--count N] [--quick] [--executor-launch fork_server]`
(as root). Bounded: the launch phase gives up after `--timeout` seconds; the cluster and every
task are removed at the end. With `--executor-launch fork_server` the agents' fork servers are
a process kind of their own (CPU including their reaped children, i.e. the short-lived middle
children of each launch; PSS beside the containers').
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from daemons.mesos_client import SchedulerClient, command_task  # noqa: E402
from daemons.mesos_client.events import Offers, Update  # noqa: E402
from tools import localcluster, processes  # noqa: E402
from tools.machine import machine_line  # noqa: E402

ANCHOR_LAUNCHES_PER_S = 33.0


def pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def family(pid: int) -> list[int]:
    """The agent's own processes: the pid and its descendants that run the agent (gunicorn
    arbiter + worker), not the executors and tasks it started."""
    out = [pid]
    for child in Path("/proc").iterdir():
        if not child.name.isdigit():
            continue
        try:
            ppid = int(Path(child, "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid and b"daemons." in _cmdline(int(child.name)):
            out.extend(family(int(child.name)))
    return out


def cpu_seconds(pids: list[int], children: bool = False) -> float:
    """utime + stime of `pids` (+ cutime + cstime: their reaped children's, if `children`)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
        if children:
            total += int(fields[13]) + int(fields[14])
    return total / os.sysconf("SC_CLK_TCK")


def fork_servers(agent_pids: list[int]) -> list[int]:
    """The agents' fork servers: children of an agent's processes running fork_server.py."""
    family_pids = {p for a in agent_pids for p in family(a)}
    out = []
    for child in Path("/proc").iterdir():
        if not child.name.isdigit() or b"fork_server.py" not in _cmdline(int(child.name)):
            continue
        try:
            ppid = int(Path(child, "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid in family_pids:
            out.append(int(child.name))
    return out


def pids_of(cluster: localcluster.Cluster, name: str) -> list[int]:
    pid = localcluster.running_pid(cluster, name)
    return family(pid) if pid else []


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def container_pids(root: str) -> list[int]:
    pids: list[int] = []
    base = Path("/sys/fs/cgroup/pids") / root
    if not base.is_dir():
        base = Path("/sys/fs/cgroup/memory") / root
    for procs in base.rglob("cgroup.procs"):
        if procs.parent == base:
            continue
        with contextlib.suppress(OSError):
            pids.extend(int(p) for p in procs.read_text().split())
    return pids


def container_cpu(root: str) -> float | None:
    """CPU seconds of every container under `root` from cgroup v1 cpuacct.usage (nanoseconds:
    a warm executor's few milliseconds count, where /proc's whole ticks round them to 0);
    None without cpuacct."""
    base = Path("/sys/fs/cgroup/cpuacct") / root
    if not base.is_dir():
        return None
    total = 0
    for usage in base.glob("*/cpuacct.usage"):
        with contextlib.suppress(OSError, ValueError):
            total += int(usage.read_text())
    return total / 1e9


class Launcher:
    """The benchmark's framework. `window` = 0 launches everything as offers come (a burst);
    otherwise at most `window` launches are in flight (accepted, not yet RUNNING), the way
    Marathon's launch tokens pace it, and offers are held until the window has room."""

    def __init__(self, count: int, window: int) -> None:
        self.count = count
        self.window = window
        self.launched = 0
        self.accept_at: dict[str, float] = {}
        self.running_at: dict[str, float] = {}
        self.starting_at: dict[str, float] = {}
        self.failed: dict[str, str] = {}
        self.held: dict[str, Any] = {}
        self.done = threading.Event()
        self.client: SchedulerClient | None = None

    def in_flight(self) -> int:
        return self.launched - len(self.running_at) - len(self.failed)

    def on_event(self, event: Any) -> None:
        if isinstance(event, Offers):
            for offer in event.offers:
                self.held[offer.id] = offer
            self.use_held()
        elif isinstance(event, Update):
            status = event.status
            now = time.perf_counter()
            if status.state == "TASK_STARTING":
                self.starting_at.setdefault(status.task_id, now)
            if status.state == "TASK_RUNNING" and status.task_id not in self.running_at:
                self.running_at[status.task_id] = now
            elif status.is_terminal:
                self.failed[status.task_id] = f"{status.state} {status.message}"
            if len(self.running_at) + len(self.failed) >= self.count:
                self.done.set()
            self.use_held()

    def use_held(self) -> None:
        assert self.client is not None
        for offer_id, offer in list(self.held.items()):
            room = self.count - self.launched
            if self.window:
                room = min(room, self.window - self.in_flight())
            if self.launched >= self.count:
                del self.held[offer_id]
                self.client.decline([offer_id], refuse_seconds=3600)
                continue
            if room <= 0:
                return
            del self.held[offer_id]
            self.use(offer, room)

    def use(self, offer: Any, room: int) -> None:
        assert self.client is not None
        flat = offer.raw["resources"]
        cpus = sum(r["scalar"]["value"] for r in flat if r["name"] == "cpus")
        mem = sum(r["scalar"]["value"] for r in flat if r["name"] == "mem")
        tasks = []
        # Spread over the two agents: at most half of the tasks from one offer.
        cap = self.launched + min(room, (self.count + 1) // 2)
        while self.launched < cap and cpus >= 0.01 - 1e-9 and mem >= 16:
            task_id = f"sleep-{self.launched}"
            tasks.append(command_task(task_id, task_id, offer.agent_id, 0.01, 16, "sleep 3600"))
            cpus -= 0.01
            mem -= 16
            self.launched += 1
        if not tasks:
            self.client.decline([offer.id], refuse_seconds=3600)
            return
        now = time.perf_counter()
        for task in tasks:
            self.accept_at[task["task_id"]["value"]] = now
        # Paced: what is left comes back at the next allocation round (no filter).
        self.client.launch([offer.id], tasks, refuse_seconds=0 if self.window else 3600)


def free_base_port() -> int:
    """A master port whose two successors (the agents) are free too, below the ephemeral range."""
    for base in range(20000, 30000, 7):
        if not any(processes.port_in_use("127.0.0.1", base + i) for i in range(3)):
            return base
    raise RuntimeError("no free port range for the local cluster")


def run_phase(count: int, window: int, timeout: float, launch: str) -> dict[str, Any]:
    """One fresh local cluster, one framework launching `count` sleeps; returns the figures."""
    state = Path(tempfile.mkdtemp(prefix="bench-launch-"))
    cluster = localcluster.Cluster(
        state,
        base_port=free_base_port(),
        zk_port=processes.free_port(),
        agent_options=(("executor_launch", launch),),
    )
    launcher = Launcher(count, window)
    out: dict[str, Any] = {}
    try:
        if localcluster.up(cluster) != 0:
            raise RuntimeError("local cluster did not come up")
        agent_pids = [localcluster.running_pid(cluster, a) for a in localcluster.AGENTS]
        agent_rss_before = sum(rss_kib(p) for a in agent_pids if a for p in family(a))
        cpu_before = {n: cpu_seconds(pids_of(cluster, n)) for n in ("master", *localcluster.AGENTS)}
        framework_cpu_before = cpu_seconds([os.getpid()])
        client = SchedulerClient(
            f"127.0.0.1:{cluster.base_port}",
            {"user": "root", "name": "bench-launch", "failover_timeout": 60.0},
            on_event=launcher.on_event,
        )
        launcher.client = client
        start = time.perf_counter()
        client.start()
        out["finished"] = launcher.done.wait(timeout)
        out["wall"] = time.perf_counter() - start
        latencies = sorted(
            launcher.running_at[t] - launcher.accept_at[t]
            for t in launcher.running_at
            if t in launcher.accept_at
        )
        first_accept = min(launcher.accept_at.values(), default=start)
        last_running = max(launcher.running_at.values(), default=start)
        out["running"] = len(launcher.running_at)
        out["failed"] = dict(launcher.failed)
        out["rate"] = out["running"] / max(last_running - first_accept, 1e-9)
        if latencies:
            out["p50"] = statistics.median(latencies)
            out["p99"] = latencies[int(0.99 * (len(latencies) - 1))]
        time.sleep(2.0)  # let executors settle before measuring memory
        pids = [p for a in localcluster.AGENTS for p in container_pids(cluster.cgroups_root(a))]
        agent_rss_after = sum(rss_kib(p) for a in agent_pids if a for p in family(a))
        servers = fork_servers([a for a in agent_pids if a])
        running = max(out["running"], 1)
        out["pss_per_task"] = sum(pss_kib(p) for p in pids) / 1024 / running
        out["fork_server_pss"] = sum(pss_kib(p) for p in servers) / 1024
        out["agent_growth"] = (agent_rss_after - agent_rss_before) / 1024 / running
        cpu = {
            n: cpu_seconds(pids_of(cluster, n)) - cpu_before[n]
            for n in ("master", *localcluster.AGENTS)
        }
        cpu["framework"] = cpu_seconds([os.getpid()]) - framework_cpu_before
        cpu["containers"] = cpu_seconds(pids)
        exact = [container_cpu(cluster.cgroups_root(a)) for a in localcluster.AGENTS]
        if all(x is not None for x in exact):
            cpu["containers (cpuacct)"] = sum(x for x in exact if x is not None)
        if servers:
            cpu["fork servers"] = cpu_seconds(servers, children=True)
        out["load"] = os.getloadavg()
        out["cpu"] = cpu
        out["timeline"] = {
            label: sorted(t - first_accept for t in times.values())
            for label, times in (
                ("STARTING", launcher.starting_at),
                ("RUNNING", launcher.running_at),
            )
        }
        client.close(teardown=True)
    finally:
        localcluster.down(cluster)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--window", type=int, default=100, help="in-flight launches, paced run")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--quick", action="store_true", help="50 tasks, window 10")
    parser.add_argument("--no-floor", action="store_true")
    parser.add_argument(
        "--executor-launch", choices=("exec", "fork_server"), default="exec", help="agent setting"
    )
    args = parser.parse_args()
    if args.quick:
        args.count, args.window = 50, 10
    if os.geteuid() != 0:
        print("needs root (cgroups, namespaces)", file=sys.stderr)
        return 2
    print(f"# {machine_line()}")
    launch = args.executor_launch
    phases = {
        "burst": run_phase(args.count, 0, args.timeout, launch),
        f"window {args.window}": run_phase(args.count, args.window, args.timeout, launch),
    }
    names = list(phases)
    print(
        f"# {args.count} sleep tasks (cpus 0.01, mem 16) on 2 agents, isolation on, "
        f"executor_launch = {launch}"
    )
    print(f"{'metric':<42}" + "".join(f"{n:>12}" for n in names) + f"{'anchor/target':>18}")

    def row(label: str, key: str, fmt: str, anchor: str = "") -> None:
        cells = "".join(
            f"{format(phases[n][key], fmt):>12}" if key in phases[n] else f"{'-':>12}"
            for n in names
        )
        print(f"{label:<42}{cells}{anchor:>18}")

    row("tasks RUNNING", "running", "d")
    row("launches/s (first accept -> last RUNNING)", "rate", ".1f", "Mesos 33 / >=100")
    row("per task accept->RUNNING p50 s", "p50", ".2f")
    row("per task accept->RUNNING p99 s", "p99", ".2f", "<= 5 paced")
    row("container PSS per task MiB (executor+task)", "pss_per_task", ".2f", "<= 10")
    row("fork servers' PSS MiB (both agents)", "fork_server_pss", ".2f")
    row("agent RSS growth per task MiB", "agent_growth", ".3f")
    row("wall s (subscribe -> all RUNNING)", "wall", ".1f")
    for name, phase in phases.items():
        if phase["failed"]:
            example = next(iter(phase["failed"].items()))
            print(f"# {name}: {len(phase['failed'])} failed, e.g. {example}")
        for label, offsets in phase["timeline"].items():
            if offsets:
                quantiles = " ".join(
                    f"{offsets[int(q * (len(offsets) - 1))]:.1f}"
                    for q in (0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
                )
                print(
                    f"# {name}: {label} s after first accept (min p10 p25 p50 p75 p90 max): "
                    f"{quantiles}"
                )
        print(f"# {name}: CPU s " + ", ".join(f"{k} {v:.1f}" for k, v in phase["cpu"].items()))
        print(f"# {name}: load average at the end " + " ".join(f"{x:.2f}" for x in phase["load"]))
    if not args.no_floor:
        floor = _floor_module().measure_floor(args.count)
        burst = phases["burst"]["rate"]
        print(f"{'raw floor launches/s (no PyDCOS)':<42}{floor['launches_per_s']:>12.1f}")
        print(f"{'PyDCOS burst / floor':<42}{burst / floor['launches_per_s']:>12.3f}")
    return 0


def _floor_module() -> Any:
    spec = importlib.util.spec_from_file_location("launch_floor", REPO / "bench/launch_floor.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    sys.exit(main())
