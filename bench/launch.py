"""Launch benchmark: N `sleep 3600` tasks (cpus 0.01, mem 16) through one framework on the two
local agents, isolation on; accept -> TASK_RUNNING for all.

Prints launches/s, per-task p50/p99 (ACCEPT sent -> TASK_RUNNING received), the agents' memory
per running task (PSS of every process in the task containers, i.e. command executor + task,
and the agents' own RSS growth), and, in the same run, the raw floor from `launch_floor.py`
(fork+exec into a fresh cgroup and namespaces with no PyDCOS) as a ratio.
Anchor: a Mesos agent ≈ 33 launches/s. Target ≥ 50 launches/s, p99 ≤ 5 s, ≤ 10 MiB per task.

Run: `.venv/bin/python bench/launch.py [--count N] [--quick]` (as root). Bounded: the launch
phase gives up after `--timeout` seconds; the cluster and every task are removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import platform
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

ANCHOR_LAUNCHES_PER_S = 33.0


def machine_line() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    python = sys.version.split()[0]
    return f"{model}, {os.cpu_count()} cpus, kernel {platform.release()}, Python {python}"


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


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


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


class Launcher:
    def __init__(self, count: int) -> None:
        self.count = count
        self.launched = 0
        self.accept_at: dict[str, float] = {}
        self.running_at: dict[str, float] = {}
        self.starting_at: dict[str, float] = {}
        self.failed: dict[str, str] = {}
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.client: SchedulerClient | None = None

    def on_event(self, event: Any) -> None:
        assert self.client is not None
        if isinstance(event, Offers):
            for offer in event.offers:
                self.use(offer)
        elif isinstance(event, Update):
            status = event.status
            now = time.perf_counter()
            with self.lock:
                if status.state == "TASK_STARTING":
                    self.starting_at.setdefault(status.task_id, now)
                if status.state == "TASK_RUNNING" and status.task_id not in self.running_at:
                    self.running_at[status.task_id] = now
                elif status.is_terminal:
                    self.failed[status.task_id] = f"{status.state} {status.message}"
                if len(self.running_at) + len(self.failed) >= self.count:
                    self.done.set()

    def use(self, offer: Any) -> None:
        assert self.client is not None
        flat = offer.raw["resources"]
        cpus = sum(r["scalar"]["value"] for r in flat if r["name"] == "cpus")
        mem = sum(r["scalar"]["value"] for r in flat if r["name"] == "mem")
        tasks = []
        # Spread over the two agents: at most half of the tasks from one offer.
        cap = self.launched + (self.count + 1) // 2
        while self.launched < min(self.count, cap) and cpus >= 0.01 - 1e-9 and mem >= 16:
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
        self.client.launch([offer.id], tasks, refuse_seconds=3600)


def free_base_port() -> int:
    """A master port whose two successors (the agents) are free too, below the ephemeral range."""
    for base in range(20000, 30000, 7):
        if not any(processes.port_in_use("127.0.0.1", base + i) for i in range(3)):
            return base
    raise RuntimeError("no free port range for the local cluster")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--quick", action="store_true", help="50 tasks")
    parser.add_argument("--no-floor", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.count = 50
    if os.geteuid() != 0:
        print("needs root (cgroups, namespaces)", file=sys.stderr)
        return 2
    state = Path(tempfile.mkdtemp(prefix="bench-launch-"))
    cluster = localcluster.Cluster(state, base_port=free_base_port(), zk_port=processes.free_port())
    print(f"# {machine_line()}")
    launcher = Launcher(args.count)
    try:
        if localcluster.up(cluster) != 0:
            print("local cluster did not come up", file=sys.stderr)
            return 1
        agent_pids = [localcluster.running_pid(cluster, a) for a in localcluster.AGENTS]
        agent_rss_before = sum(rss_kib(p) for a in agent_pids if a for p in family(a))
        client = SchedulerClient(
            f"127.0.0.1:{cluster.base_port}",
            {"user": "root", "name": "bench-launch", "failover_timeout": 60.0},
            on_event=launcher.on_event,
        )
        launcher.client = client
        start = time.perf_counter()
        client.start()
        finished = launcher.done.wait(args.timeout)
        wall = time.perf_counter() - start
        latencies = [
            launcher.running_at[t] - launcher.accept_at[t]
            for t in launcher.running_at
            if t in launcher.accept_at
        ]
        first_accept = min(launcher.accept_at.values(), default=start)
        last_running = max(launcher.running_at.values(), default=start)
        running = len(launcher.running_at)
        time.sleep(2.0)  # let executors settle before measuring memory
        pids = [p for a in localcluster.AGENTS for p in container_pids(cluster.cgroups_root(a))]
        container_pss = sum(pss_kib(p) for p in pids)
        agent_rss_after = sum(rss_kib(p) for a in agent_pids if a for p in family(a))
        per_task_mib = container_pss / 1024 / max(running, 1)
        agent_growth_mib = (agent_rss_after - agent_rss_before) / 1024 / max(running, 1)
        rate = running / max(last_running - first_accept, 1e-9)
        print(f"# {args.count} tasks requested; {running} RUNNING, {len(launcher.failed)} failed")
        if launcher.failed:
            print(f"# first failure: {next(iter(launcher.failed.items()))}")
        print(f"{'metric':<44} {'PyDCOS':>10} {'anchor/target':>16}")
        print(
            f"{'launches/s (first accept -> last RUNNING)':<44} {rate:>10.1f} "
            f"{'Mesos 33 / >=50':>16}"
        )
        if latencies:
            p50 = statistics.median(latencies)
            p99 = sorted(latencies)[int(0.99 * (len(latencies) - 1))]
            starting = sorted(
                launcher.starting_at[t] - launcher.accept_at[t] for t in launcher.starting_at
            )
            if starting:
                s50 = statistics.median(starting)
                print(f"{'per task accept->STARTING p50 s':<44} {s50:>10.2f} {'':>16}")
            print(f"{'per task accept->RUNNING p50 s':<44} {p50:>10.2f} {'':>16}")
            print(f"{'per task accept->RUNNING p99 s':<44} {p99:>10.2f} {'<= 5':>16}")
        print(
            f"{'container PSS per task MiB (executor+task)':<44} {per_task_mib:>10.2f} "
            f"{'<= 10':>16}"
        )
        print(f"{'agent RSS growth per task MiB':<44} {agent_growth_mib:>10.3f} {'':>16}")
        print(f"{'total per task MiB':<44} {per_task_mib + agent_growth_mib:>10.2f} {'<= 10':>16}")
        print(f"{'wall s (subscribe -> all RUNNING)':<44} {wall:>10.1f} {'':>16}")
        for label, times in (("STARTING", launcher.starting_at), ("RUNNING", launcher.running_at)):
            offsets = sorted(t - first_accept for t in times.values())
            if offsets:
                deciles = " ".join(
                    f"{offsets[int(q * (len(offsets) - 1))]:.1f}"
                    for q in (0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
                )
                print(
                    f"# {label} seconds after first accept (min p10 p25 p50 p75 p90 max): {deciles}"
                )
        if not finished:
            print(f"# timed out after {args.timeout:.0f} s")
        cpu = {
            name: cpu_seconds(pids_of(cluster, name)) for name in ("master", *localcluster.AGENTS)
        }
        cpu["framework (this process)"] = cpu_seconds([os.getpid()])
        cpu["containers (executors+tasks)"] = cpu_seconds(pids)
        print("# CPU seconds used so far: " + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()))
        client.close(teardown=True)
    finally:
        localcluster.down(cluster)
    if not args.no_floor:
        floor = _floor_module().measure_floor(args.count)
        ratio = rate / floor["launches_per_s"] if floor.get("launches_per_s") else float("nan")
        print(f"{'raw floor launches/s (no PyDCOS)':<44} {floor['launches_per_s']:>10.1f}")
        print(f"{'PyDCOS / floor':<44} {ratio:>10.3f}")
    return 0


def _floor_module() -> Any:
    spec = importlib.util.spec_from_file_location("launch_floor", REPO / "bench/launch_floor.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    sys.exit(main())
