"""A custom executor on pymesos, run by the agent as the framework's executor (not imported by
the tests; `test_e2e_custom_executor.py` puts its path in ExecutorInfo.command).

Each launched task: TASK_RUNNING, then TASK_FINISHED with the task's `data` echoed in the
message. A framework message `ping:<x>` is answered with `pong:<x>`. Runs with the venv's Python
(pymesos is not importable by /usr/bin/python3), so the framework's user must be root.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from pymesos import Executor, MesosExecutorDriver, decode_data, encode_data


class EchoExecutor(Executor):  # type: ignore[misc]
    def launchTask(self, driver: Any, task: Any) -> None:
        task_id = task["task_id"]
        driver.sendStatusUpdate({"task_id": task_id, "state": "TASK_RUNNING"})
        data = decode_data(task["data"]).decode() if task.get("data") else ""
        driver.sendStatusUpdate(
            {"task_id": task_id, "state": "TASK_FINISHED", "message": f"done:{data}"}
        )

    def killTask(self, driver: Any, task_id: Any) -> None:
        driver.sendStatusUpdate({"task_id": task_id, "state": "TASK_KILLED"})

    def frameworkMessage(self, driver: Any, message: str) -> None:
        text = decode_data(message).decode()
        if text.startswith("ping:"):
            driver.sendFrameworkMessage(encode_data(("pong:" + text[5:]).encode()))


def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    MesosExecutorDriver(EchoExecutor()).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
