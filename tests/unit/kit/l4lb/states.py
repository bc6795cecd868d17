"""A `/master/state`-shaped mapping of Marathon tasks with VIP labels, for the cores' tests."""

from __future__ import annotations

from typing import Any

AGENTS = {"a1": "198.18.0.11", "a2": "198.18.0.12", "a3": "198.18.0.13"}


def task(
    task_id: str,
    agent: str,
    port: int,
    *,
    vips: tuple[str, ...] = ("/web:80",),
    protocol: str = "tcp",
    state: str = "TASK_RUNNING",
    healthy: bool | None = None,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    status: dict[str, Any] = {"state": state, "timestamp": 2.0}
    if healthy is not None:
        status["healthy"] = healthy
    return {
        "id": task_id,
        "slave_id": agent,
        "state": state,
        "statuses": [{"state": "TASK_STARTING", "timestamp": 1.0}, status],
        "resources": {"ports": f"[{port}-{port}]"},
        # As /master/state shows a task's labels: the list (DiscoveryInfo's are a Labels message).
        "labels": [{"key": k, "value": v} for k, v in (labels or {}).items()],
        "discovery": {
            "name": "web",
            "ports": {
                "ports": [
                    {
                        "number": port,
                        "protocol": protocol,
                        "labels": {
                            "labels": [{"key": f"VIP_{i}", "value": v} for i, v in enumerate(vips)]
                        },
                    }
                ]
            },
        },
    }


def state(*tasks: dict[str, Any], framework: str = "marathon") -> dict[str, Any]:
    return {
        "slaves": [{"id": i, "pid": f"slave(1)@{ip}:5051"} for i, ip in AGENTS.items()],
        "frameworks": [{"name": framework, "tasks": list(tasks)}],
    }
