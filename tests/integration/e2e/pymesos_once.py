"""`python -m tests.integration.e2e.pymesos_once HOST:PORT`: a pymesos framework runs one
command task to TASK_FINISHED on the master given, printing each state; exit 0 on success.
Used against `make local` (tests/integration/test_localcluster.py)."""

from __future__ import annotations

import sys

from tests.integration.e2e.frameworks_pymesos import (
    RecordingScheduler,
    command_task,
    running_driver,
)


def main(master: str) -> int:
    scheduler = RecordingScheduler()
    with running_driver(scheduler, master) as driver:
        scheduler.launch(driver, [command_task("pymesos-once", "echo hello from pymesos")])
        scheduler.wait_state("pymesos-once", "TASK_FINISHED", timeout=60)
    print(" ".join(scheduler.states("pymesos-once")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
