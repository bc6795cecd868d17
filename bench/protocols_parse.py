"""Cost of the typed wire models: µs per `parse` and per `to_json` of the messages on hot paths.

The master parses a TaskStatus per status update (thousands a second), a TaskInfo per launch,
and a Task (with its two or three statuses) per task of every re-registering agent after a
failover (10,000 agents x 10 tasks); schedulers parse every Offer. Each message is timed in two
sizes: as PyDCOS' own components send it, and with every optional part a client may add
(labels, discovery, health check, kill policy, container).
No daemons, no network: one process, best of several rounds.

Run: `.venv/bin/python bench/protocols_parse.py [--quick]`.
"""

from __future__ import annotations

import argparse
import base64
import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from daemons.protocols.models import Offer, Task, TaskInfo, TaskStatus
from tools.machine import machine_line

JSON = dict[str, Any]


def resources(cpus: float, mem: float, ports: tuple[int, int] | None = None) -> list[JSON]:
    items: list[JSON] = [
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus}, "role": "*"},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": mem}, "role": "*"},
    ]
    if ports is not None:
        rng = {"range": [{"begin": ports[0], "end": ports[1]}]}
        items.append({"name": "ports", "type": "RANGES", "ranges": rng, "role": "*"})
    return items


def task_info(full: bool) -> JSON:
    task: JSON = {
        "name": "sleep.prod",
        "task_id": {"value": "prod_sleep.instance-5f3e0c1a-9d2b-11ef-8f3e-0242ac110002._app.1"},
        "agent_id": {"value": "7b3f0f4e-1c0a-4a8e-9b1f-2d9c0e7a1b2c-S12"},
        "resources": resources(0.1, 32.0, (31005, 31005) if full else None),
        "command": {"value": "sleep 3600", "shell": True},
    }
    if full:
        task["command"]["environment"] = {
            "variables": [{"name": f"VAR_{i}", "value": str(i)} for i in range(8)]
        }
        task["labels"] = {"labels": [{"key": "tier", "value": "web"}, {"key": "owner"}]}
        task["discovery"] = {
            "visibility": "FRAMEWORK",
            "name": "sleep.prod",
            "ports": {"ports": [{"number": 31005, "protocol": "tcp", "name": "http"}]},
        }
        task["health_check"] = {
            "type": "HTTP",
            "http": {"scheme": "http", "port": 31005, "path": "/health"},
            "interval_seconds": 5.0,
        }
        task["kill_policy"] = {"grace_period": {"nanoseconds": 3_000_000_000}}
        task["container"] = {"type": "MESOS", "volumes": [{"container_path": "/d", "mode": "RW"}]}
    return task


def task_status(full: bool) -> JSON:
    status: JSON = {
        "task_id": {"value": "prod_sleep.instance-5f3e0c1a-9d2b-11ef-8f3e-0242ac110002._app.1"},
        "state": "TASK_RUNNING",
        "source": "SOURCE_EXECUTOR",
        "agent_id": {"value": "7b3f0f4e-1c0a-4a8e-9b1f-2d9c0e7a1b2c-S12"},
        "executor_id": {"value": "prod_sleep.instance-5f3e0c1a-9d2b-11ef-8f3e-0242ac110002"},
        "uuid": base64.b64encode(bytes(range(16))).decode(),
        "timestamp": 1731000000.25,
    }
    if full:
        status["healthy"] = True
        status["message"] = "health check passed"
        status["reason"] = "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED"
        status["container_status"] = {"container_id": {"value": "c-1"}, "executor_pid": 4242}
        status["labels"] = {"labels": [{"key": "k", "value": "v"}]}
    return status


def task(full: bool) -> JSON:
    """A task in an agent's re-registration: its TaskInfo's parts, state and updates."""
    info = task_info(full)
    body: JSON = {
        "task_id": info["task_id"],
        "framework_id": {"value": "7b3f0f4e-1c0a-4a8e-9b1f-2d9c0e7a1b2c-0000"},
        "agent_id": info["agent_id"],
        "name": info["name"],
        "state": "TASK_RUNNING",
        "resources": info["resources"],
        "statuses": [
            dict(task_status(full), state="TASK_STARTING", timestamp=1731000000.0),
            task_status(full),
        ],
    }
    for key in ("labels", "discovery", "container", "health_check", "kill_policy"):
        if key in info:
            body[key] = info[key]
    return body


def offer(full: bool) -> JSON:
    body: JSON = {
        "id": {"value": "7b3f0f4e-1c0a-4a8e-9b1f-2d9c0e7a1b2c-O1234"},
        "framework_id": {"value": "7b3f0f4e-1c0a-4a8e-9b1f-2d9c0e7a1b2c-0000"},
        "agent_id": {"value": "7b3f0f4e-1c0a-4a8e-9b1f-2d9c0e7a1b2c-S12"},
        "hostname": "agent-12.example",
        "resources": resources(4.0, 16384.0, (31000, 32000)),
        "attributes": [],
        "executor_ids": [],
    }
    if full:
        body["url"] = {
            "scheme": "http",
            "address": {"hostname": "agent-12.example", "ip": "10.0.0.12", "port": 5051},
            "path": "/slave(1)",
        }
        body["attributes"] = [
            {"name": "rack", "type": "TEXT", "text": {"value": "r1"}},
            {"name": "zone", "type": "SET", "set": {"item": ["a", "b"]}},
        ]
        body["allocation_info"] = {"role": "*"}
    return body


def best_us(action: Callable[[], object], number: int, rounds: int) -> float:
    return min(timeit.repeat(action, number=number, repeat=rounds)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args()
    number, rounds = (2_000, 3) if args.quick else (20_000, 7)
    print(machine_line())
    print(f"{'message':<22}{'parse µs':>10}{'to_json µs':>12}")
    models: list[tuple[str, Any, Callable[[bool], JSON]]] = [
        ("TaskInfo", TaskInfo, task_info),
        ("TaskStatus", TaskStatus, task_status),
        ("Task", Task, task),
        ("Offer", Offer, offer),
    ]
    for name, model, build in models:
        for full in (False, True):
            raw = build(full)
            value = model.parse(raw)
            assert model.parse(value.to_json()) == value
            parse_us = best_us(lambda m=model, r=raw: m.parse(r), number, rounds)
            json_us = best_us(value.to_json, number, rounds)
            label = f"{name} ({'full' if full else 'plain'})"
            print(f"{label:<22}{parse_us:>10.2f}{json_us:>12.2f}")


if __name__ == "__main__":
    main()
