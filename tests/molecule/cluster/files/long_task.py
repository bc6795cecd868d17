#!/usr/bin/env python3
"""Start one long-running task on a PyDCOS cluster and leave it running (Molecule prepare step).

    long_task.py --master HOST:5050 --command 'sleep 7654321' --out task.json

Registers a framework with a day-long failover timeout, launches the command on the first offer,
waits for TASK_RUNNING, writes {framework_id, task_id, agent_id, hostname} as JSON and exits
without tearing the framework down — so the task keeps running across the upgrade that follows.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))

from daemons.mesos_client import (
    Offers,
    SchedulerClient,
    Subscribed,
    Update,
    command_task,
)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--master", required=True)
    parser.add_argument("--command", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    framework = {"user": "root", "name": "molecule-long-task", "failover_timeout": 86400.0}
    client = SchedulerClient(args.master, framework)
    client.start()
    deadline = time.monotonic() + args.timeout
    framework_id, launched, hostname = "", "", ""
    try:
        while time.monotonic() < deadline:
            event = client.next_event(timeout=1.0)
            if isinstance(event, Subscribed):
                framework_id = event.framework_id
            elif isinstance(event, Offers):
                for offer in event.offers:
                    if launched:
                        client.decline([offer.id], refuse_seconds=3600)
                        continue
                    launched, hostname = "long-task-1", offer.hostname
                    task = command_task(launched, launched, offer.agent_id, 0.05, 32, args.command)
                    client.launch([offer.id], [task], refuse_seconds=3600)
            elif isinstance(event, Update) and event.status.task_id == launched:
                print(f"{launched}: {event.status.state}", flush=True)
                if event.status.state == "TASK_RUNNING":
                    client.suppress()
                    args.out.write_text(
                        json.dumps(
                            {
                                "framework_id": framework_id,
                                "task_id": launched,
                                "agent_id": event.status.agent_id,
                                "hostname": hostname,
                            }
                        )
                    )
                    return 0
                if event.status.is_terminal:
                    return 1
    finally:
        client.close(teardown=False)
    print("timed out", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
