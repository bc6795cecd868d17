"""Minuteman's control plane (issue 14): from the master's state to the kernel's nftables, for
N VIPs (1,000 / 10,000 / 50,000), each a named VIP with two backends on two of 100 agents.

Timed, in a network namespace this benchmark makes (and removes), programming the kernel
through libnftables in process (`minuteman.nft`, as the daemon does):
- **full load**: `TableBuilder.update` over the whole state, `ruleset.full`, one transaction;
- **one change**: one task turns unhealthy (weight 0) or healthy again, its dict replaced (as
  the master-state follower does), then either `update` over the whole state (which walks
  every task but builds again only the changed one) or `update_tasks` with the changed task
  alone (what an operator event says), `ruleset.changes` over the touched services, one
  transaction. p50/p99 over `--changes` changes each, and the compute part alone. The third
  path is the daemon's whole path from the event: the `TASK_UPDATED` applied to the
  follower's view (`MasterState`), the snapshot and the changes taken from it
  (`master_follower`'s hand-on), then `update_tasks` with those changes, `ruleset.changes`,
  one transaction (the follower's coalescing wait and the HTTP stream aside);
- **drift check**: list the table, parse it, compare with what the table expects (the
  30 s reconcile).

The process collects garbage as the daemon does (`daemons.kit.entry.tune_gc`: with Python's
default thresholds, collections are half of a full load at 10,000 VIPs).

Targets (issue 14): one change ≤ 5 ms at 10,000 VIPs; a full load of 10,000 ≤ 1 s (anchor:
a local nft change 2-3 ms, ../shared/reference/performance.md §5).

The data plane half (bench/vips_data_plane.py, whose docstring says what it measures): wrk
with keep-alive and with `Connection: close` to nginx directly, through one of our VIPs and
through HAProxy (mode tcp), in network namespaces it makes (`vipb-<pid>-*`), interleaved rounds,
medians beside the anchors (VIP ≥ 0.9x direct; HAProxy 0.57x direct, performance.md §5), and
new connections/s through one VIP with the CPU split, conntrack entries and TIME_WAIT sockets.
It needs wrk, nginx and haproxy (scripts/bootstrap.sh installs them).

Run as root, both halves: `.venv/bin/python bench/vips.py`; one half: `--only control-plane`
or `--only data-plane`. Control plane options: `[--vips 1000 10000 50000] [--changes 50]`; data
plane options: `[-d 5s] [--rounds 3] [--threads 1] [--connections 32] [--two-backends]
[--pin] [--ct-time-wait 10]` (`--two-backends`: a second VIP over two nginx namespaces, weight 1
each; `--pin`: nginx and HAProxy on CPU 0, wrk on CPU 1; `--ct-time-wait`: seconds the node
namespace keeps closed connections in conntrack, 0 for the kernel's 120). A smoke run:
`--only data-plane -d 2s --rounds 1`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import vips_data_plane  # bench/, beside this file

from daemons.kit.entry import tune_gc
from daemons.kit.l4lb.named_ips import DCOS_POOL
from daemons.kit.l4lb.table import TableBuilder
from daemons.mesos_client.master_view import MasterState
from minuteman import ruleset
from minuteman.nft import Nft
from tools.machine import machine_line

JSON = dict[str, Any]
AGENTS = 100


def task(n: int, *, healthy: bool | None = None) -> JSON:
    """Backend `n % 2` of VIP `n // 2`: `/gK/appV:80` on agent `n % AGENTS`."""
    vip, port = n // 2, 31000 + n // AGENTS
    status: JSON = {"state": "TASK_RUNNING", "timestamp": 1001.0}
    if healthy is not None:
        status["healthy"] = healthy
    return {
        "id": f"app{vip}.{n:08x}",
        "slave_id": f"S{n % AGENTS}",
        "state": "TASK_RUNNING",
        "statuses": [status],
        "resources": {"ports": f"[{port}-{port}]"},
        "discovery": {
            "name": f"app{vip}",
            "ports": {
                "ports": [
                    {
                        "number": port,
                        "protocol": "tcp",
                        "labels": {
                            "labels": [{"key": "VIP_0", "value": f"/g{vip // 1000}/app{vip}:80"}]
                        },
                    }
                ]
            },
        },
    }


def task_updated(task: JSON) -> JSON:
    """The operator event of `task`'s latest status, as the master sends it."""
    status = {**task["statuses"][-1], "task_id": {"value": task["id"]}}
    body = {"framework_id": {"value": "marathon-0000"}, "status": status, "state": task["state"]}
    return {"type": "TASK_UPDATED", "task_updated": body}


def state(tasks: list[JSON]) -> JSON:
    return {
        "slaves": [
            {"id": f"S{i}", "pid": f"slave(1)@10.0.{6 + i // 250}.{i % 250}:5051"}
            for i in range(AGENTS)
        ],
        "frameworks": [{"id": "marathon-0000", "name": "marathon", "tasks": tasks}],
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(vips: int, changes: int, nft: Nft) -> None:
    tasks = [task(n) for n in range(2 * vips)]
    builder = TableBuilder(DCOS_POOL)  # 11.0.0.0/8: room for 50,000 names
    start = time.perf_counter()
    table, _ = builder.update(state(tasks))
    program = ruleset.full(table)
    built = time.perf_counter()
    nft.run(program)
    loaded = time.perf_counter()
    print(f"{vips:>6,} VIPs  full load {loaded - start:6.3f} s "
          f"(compute {built - start:.3f} s, nft {loaded - built:.3f} s; "
          f"{len(program) / 1e6:.1f} MB)   target ≤ 1 s at 10,000")  # fmt: skip
    framework = state(tasks)["frameworks"][0]
    agents = {f"S{i}": f"10.0.{6 + i // 250}.{i % 250}" for i in range(AGENTS)}
    view = MasterState(state(tasks))
    view.take_changes()  # the first snapshot was whole (the full load above)
    for k, path in enumerate(("whole state", "changed task", "daemon, from the event")):
        compute: list[float] = []
        applied: list[float] = []
        for i in range(changes):
            n = (i * 7919 + k) % len(tasks)
            tasks[n] = task(n, healthy=bool(i % 2))  # unhealthy, then healthy again
            start = time.perf_counter()
            if path == "whole state":
                new, touched = builder.update(state(tasks))
            elif path == "changed task":
                new, touched = builder.update_tasks([(framework, [tasks[n]], ())], agents)
            else:
                view.apply(task_updated(tasks[n]))
                taken, snapshot = view.take_changes(), view.snapshot()
                assert taken is not None and snapshot["frameworks"]
                new, touched = builder.update_tasks(taken, agents)
            program = ruleset.changes(table, new, touched)
            built = time.perf_counter()
            nft.run(program)
            done = time.perf_counter()
            compute.append(built - start)
            applied.append(done - start)
            table = new
        total = [a * 1000 for a in applied]
        parts = [c * 1000 for c in compute]
        print(f"{vips:>6,} VIPs  one change ({path}) p50 {statistics.median(total):5.2f} ms, "
              f"p99 {percentile(total, 0.99):5.2f} ms (compute p50 "
              f"{statistics.median(parts):.2f} ms, p99 {percentile(parts, 0.99):.2f} ms)"
              "   target ≤ 5 ms at 10,000")  # fmt: skip
    start = time.perf_counter()
    listing = ruleset.parse_listing(nft.run(f"list table {ruleset.FAMILY} {ruleset.TABLE}\n"))
    same = listing == ruleset.expected(table)
    print(f"{vips:>6,} VIPs  drift check {time.perf_counter() - start:.3f} s "
          f"({'no drift' if same else 'DRIFT'})")  # fmt: skip


def seconds(text: str) -> int:
    """`5` or `5s` -> 5 (wrk's spelling is accepted)."""
    value = int(text.removesuffix("s"))
    if not 1 <= value <= 600:
        raise argparse.ArgumentTypeError("between 1 and 600 seconds")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["control-plane", "data-plane"])
    parser.add_argument("--vips", type=int, nargs="+", default=[1000, 10_000, 50_000])
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("-d", "--duration", type=seconds, default=5, help="per wrk run")
    parser.add_argument("--rounds", type=int, default=3, choices=range(1, 21), metavar="1-20")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--two-backends", action="store_true")
    parser.add_argument("--pin", action="store_true")
    parser.add_argument("--ct-time-wait", type=int, default=10, help="s, in the node; 0: 120")
    parser.add_argument("--in-namespace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--in-node", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_namespace:
        tune_gc()  # as the daemon runs (daemons.kit.entry)
        nft = Nft()
        for vips in args.vips:
            run(vips, args.changes, nft)
        return
    if args.in_node:
        vips_data_plane.in_node(args.in_node)
        return
    if os.geteuid() != 0:
        sys.exit("run as root: it makes network namespaces")
    print(machine_line())
    with vips_data_plane.interruptible():
        if args.only != "data-plane":
            control_plane(args.vips, args.changes)
        if args.only != "control-plane":
            options = vips_data_plane.Options(
                args.duration,
                args.rounds,
                args.threads,
                args.connections,
                args.two_backends,
                args.pin,
                args.ct_time_wait,
            )
            vips_data_plane.run(options)


def control_plane(vips: list[int], changes: int) -> None:
    namespace = f"pydcos-bench-vips-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", namespace], check=True)
    try:
        inner = [sys.executable, __file__, "--in-namespace", "--changes", str(changes)]
        inner += ["--vips", *map(str, vips)]
        subprocess.run(["ip", "netns", "exec", namespace, *inner], check=True)
    finally:
        subprocess.run(["ip", "netns", "del", namespace], check=True)


if __name__ == "__main__":
    main()
