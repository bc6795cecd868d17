"""`/metrics/snapshot`: the flat `master/…` keys Mesos publishes (call under the master's lock).

A pure core over a `view.MasterView`: the time comes in as `now`. It may import the view and the
wire layer; not the `Master`, Flask, threading or the clock.
"""

from __future__ import annotations

from daemons.master.view import MasterView
from daemons.protocols import resources as res


def snapshot(master: MasterView, now: float) -> dict[str, float]:
    agents = list(master.agents.values())
    frameworks = list(master.frameworks.values())
    total = res.total(res.flatten(a.total) for a in agents if a.unreachable_since is None)
    used = res.total(a.used() for a in agents)
    tasks = [t for f in frameworks for t in f.tasks.values()]
    out: dict[str, float] = {
        "master/elected": 1.0 if master.acting else 0.0,
        "master/uptime_secs": now - master.start_time,
        "master/slaves_active": float(sum(1 for a in agents if a.active)),
        "master/slaves_inactive": float(sum(1 for a in agents if not a.active)),
        "master/slaves_connected": float(sum(1 for a in agents if a.stream is not None)),
        "master/slaves_disconnected": float(sum(1 for a in agents if a.stream is None)),
        "master/slaves_unreachable": float(sum(1 for a in agents if a.unreachable_since)),
        "master/frameworks_active": float(sum(1 for f in frameworks if f.active)),
        "master/frameworks_inactive": float(sum(1 for f in frameworks if not f.active)),
        "master/frameworks_connected": float(sum(1 for f in frameworks if f.connected)),
        "master/frameworks_disconnected": float(sum(1 for f in frameworks if not f.connected)),
        "master/outstanding_offers": float(len(master.offers)),
        "master/tasks_staging": 0.0,
        "master/tasks_starting": 0.0,
        "master/tasks_running": 0.0,
        "master/tasks_killing": 0.0,
        "master/tasks_unreachable": 0.0,
    }
    for task in tasks:
        key = f"master/{task.state.lower().replace('task_', 'tasks_')}"
        out[key] = out.get(key, 0.0) + 1.0
    for state in ("finished", "failed", "killed", "lost", "error", "dropped", "gone"):
        out[f"master/tasks_{state}"] = float(master.counters.get(f"tasks_{state}", 0))
    for name in ("cpus", "mem", "disk", "gpus"):
        t, u = total.scalar(name), used.scalar(name)
        out[f"master/{name}_total"] = t
        out[f"master/{name}_used"] = u
        out[f"master/{name}_percent"] = u / t if t else 0.0
    for name, value in master.counters.items():
        if not name.startswith("tasks_"):
            out[f"master/{name}"] = float(value)
    return out
