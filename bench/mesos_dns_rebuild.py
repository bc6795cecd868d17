"""What a Mesos-DNS rebuild costs in the daemon's own steps, in process: the followed state
(`daemons.mesos_client.master_view.MasterState`) of N running Marathon tasks
(`bench/mesos_dns_records.py`'s state: 100 agents, apps of 10 instances with DiscoveryInfo and
two host ports), its record set (`records.generate`) and its DNS zone (`dns_zone.zone_of`), as
the follower and the service make them:

- first load: the record set and the zone built whole;
- one task killed (`TASK_UPDATED` TASK_KILLED applied to the view), then one started again
  (`TASK_ADDED`): the rebuild from the previous record set and zone (`generate(...,
  previous=)` where generate takes it, and the patched zone), timed (best and worst of
  `--rounds`);
- memory (tracemalloc, a second pass): what the view, the record set and the zone hold, the
  peak while a rebuild replaces them, and what is held once the previous ones are dropped.

Beside the targets: a change served within 1 s, ≤ 100 MiB per daemon at 10,000 tasks (the
daemon's PSS holds the interpreter and its libraries too, ≈ 30-40 MiB). No daemons, no
network: one process.

Run: `.venv/bin/python bench/mesos_dns_rebuild.py [--tasks 1000,10000] [--rounds 5]`.
"""

from __future__ import annotations

import argparse
import gc
import inspect
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.mesos_dns_records import MASTER, state
from daemons.mesos_client.master_view import MasterState
from daemons.mesos_dns.config import MesosDnsConfig
from daemons.mesos_dns.dns_zone import Built, zone_of
from daemons.mesos_dns.records import RecordSet, generate
from tools.machine import machine_line

CONFIG = MesosDnsConfig()
MASTERS = ["10.0.4.11:5050", "10.0.4.12:5050", "10.0.4.13:5050"]
INCREMENTAL = "previous" in inspect.signature(generate).parameters
MIB = 1024 * 1024


def killed(task_id: str) -> dict[str, Any]:
    return {
        "type": "TASK_UPDATED",
        "task_updated": {
            "framework_id": {"value": f"{MASTER}-0000"},
            "state": "TASK_KILLED",
            "status": {"task_id": {"value": task_id}, "state": "TASK_KILLED"},
        },
    }


def added(task: dict[str, Any]) -> dict[str, Any]:
    """A v1 TASK_ADDED of the bench's task (what state.task_json reads back)."""
    port = task["resources"]["ports"].strip("[]").split("-")
    return {
        "type": "TASK_ADDED",
        "task_added": {
            "task": {
                "task_id": {"value": task["id"]},
                "name": task["name"],
                "framework_id": {"value": task["framework_id"]},
                "agent_id": {"value": task["slave_id"]},
                "state": "TASK_RUNNING",
                "statuses": task["statuses"],
                "resources": [
                    {
                        "name": "ports",
                        "ranges": {"range": [{"begin": int(port[0]), "end": int(port[1])}]},
                    }
                ],
                "discovery": task["discovery"],
            }
        },
    }


def rebuild(view: MasterState, records: RecordSet, built: Built, serial: int) -> Built:
    kwargs: dict[str, Any] = {"previous": records} if INCREMENTAL else {}
    new = generate(view.snapshot(), CONFIG, MASTERS, serial=serial, **kwargs)
    return zone_of(new, CONFIG, built)


def timed(tasks: int, rounds: int) -> None:
    body = state(tasks)
    victim = body["frameworks"][0]["tasks"][tasks // 2]
    view = MasterState(body)
    del body
    start = time.perf_counter()
    records = generate(view.snapshot(), CONFIG, MASTERS, serial=1)
    generated = time.perf_counter()
    built = zone_of(records, CONFIG)
    done = time.perf_counter()
    print(f"  first load: generate {generated - start:.3f} s + zone {done - generated:.3f} s "
          f"= {done - start:.3f} s")  # fmt: skip
    steps: list[tuple[float, float]] = []
    serial = 2
    for _ in range(rounds):
        for event in (killed(victim["id"]), added(victim)):
            view.apply(event)
            start = time.perf_counter()
            kwargs: dict[str, Any] = {"previous": built.records} if INCREMENTAL else {}
            records = generate(view.snapshot(), CONFIG, MASTERS, serial=serial, **kwargs)
            generated = time.perf_counter()
            built = zone_of(records, CONFIG, built)
            steps.append((generated - start, time.perf_counter() - generated))
            serial += 1
    best = min(steps, key=sum)
    worst = max(steps, key=sum)
    print(f"  one task killed or started: generate {best[0] * 1000:.1f}-{worst[0] * 1000:.1f} ms"
          f" + zone {best[1] * 1000:.1f}-{worst[1] * 1000:.1f} ms = "
          f"{sum(best):.3f}-{sum(worst):.3f} s (target: served within 1 s)")  # fmt: skip


def measured(tasks: int) -> None:
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    body = state(tasks)
    victim = body["frameworks"][0]["tasks"][tasks // 2]
    view = MasterState(body)
    del body
    gc.collect()
    after_view = tracemalloc.get_traced_memory()[0]
    records = generate(view.snapshot(), CONFIG, MASTERS, serial=1)
    after_records = tracemalloc.get_traced_memory()[0]
    built = zone_of(records, CONFIG)
    del records
    after_zone = tracemalloc.get_traced_memory()[0]
    view.apply(killed(victim["id"]))
    tracemalloc.reset_peak()
    built = rebuild(view, built.records, built, 2)
    gc.collect()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # The state the view was made from (the bench's full tasks) is dropped before the view
    # is counted: what stays of it is the view's own.
    print(f"  memory (tracemalloc): view {(after_view - base) / MIB:.1f} MiB, record set "
          f"{(after_records - after_view) / MIB:.1f} MiB, zone "
          f"{(after_zone - after_records) / MIB:.1f} MiB; after one change: "
          f"{(current - base) / MIB:.1f} MiB held, peak during it {(peak - base) / MIB:.1f} "
          f"MiB (target: ≤ 100 MiB per daemon at 10,000 tasks, interpreter included)")  # fmt: skip
    del built, view


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", default="1000,10000", help="comma-separated N")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(machine_line())
    print(f"generate takes previous: {INCREMENTAL}")
    for tasks in (int(n) for n in args.tasks.split(",")):
        print(f"{tasks} running tasks:")
        timed(tasks, args.rounds)
        measured(tasks)


if __name__ == "__main__":
    main()
