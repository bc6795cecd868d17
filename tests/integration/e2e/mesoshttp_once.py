"""`python -m tests.integration.e2e.mesoshttp_once http://HOST:PORT`: a mesoshttp framework
runs one command task to TASK_FINISHED on that master, printing its states; exit 0 on success.
Used against `make local` (tests/integration/test_localcluster.py)."""

from __future__ import annotations

import sys
import threading
import time

from mesoshttp.client import MesosClient

from tests.integration.e2e.frameworks_mesoshttp import OneTaskFramework


def main(master_url: str) -> int:
    client = MesosClient(mesos_urls=[master_url], frameworkName="mesoshttp-once", max_reconnect=1)
    framework = OneTaskFramework(client, "mesoshttp-once", "echo hello from mesoshttp")
    thread = threading.Thread(target=client.register, name="mesoshttp", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    try:
        while "TASK_FINISHED" not in framework.states() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        client.stop = True
        if framework.driver is not None:
            framework.driver.tearDown()
        thread.join(15)
    print(" ".join(framework.states()))
    return 0 if "TASK_FINISHED" in framework.states() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
