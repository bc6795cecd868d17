"""mesoshttp (requests + `iter_lines()` framing) against a real master and agent: subscribe,
accept an offer with a command task, see it run and finish (mesoshttp acknowledges itself)."""

from __future__ import annotations

import threading
from typing import Any

from e2e_cluster import get_json, wait_for
from frameworks_mesoshttp import OneTaskFramework
from mesoshttp.client import MesosClient

JSON = dict[str, Any]


def test_mesoshttp_framework_runs_a_command_task(cluster: Any) -> None:
    c = cluster(agents=1)
    client = MesosClient(mesos_urls=[c.master.url], frameworkName="mesoshttp-e2e", max_reconnect=1)
    framework = OneTaskFramework(client, "hello", "echo hello-from-mesoshttp")
    thread = threading.Thread(target=client.register, name="mesoshttp", daemon=True)
    thread.start()
    try:
        wait_for(lambda: "TASK_FINISHED" in framework.states(), 30, "TASK_FINISHED")
        assert framework.states()[-2:] == ["TASK_RUNNING", "TASK_FINISHED"], framework.states()
        assert framework.errors == []
        finished = framework.updates[-1]
        assert finished["agent_id"] == {"value": c.agent_ids()[0]}
        # mesoshttp acknowledged every update: the agent holds none unacknowledged (it would
        # retry one after status_update_retry_initial = 0.5 s), so each uuid arrived exactly once.
        agent_url = c.agents[0].url

        def pending() -> float:
            return float(get_json(f"{agent_url}/metrics/snapshot")["slave/status_updates_pending"])

        wait_for(lambda: pending() == 0.0, 15, "every update acknowledged at the agent")
        uuids = [s["uuid"] for s in framework.updates]
        assert len(uuids) == len(set(uuids)), framework.updates
        framework_id = client.frameworkId
        (state,) = [f for f in c.state()["frameworks"] if f["id"] == framework_id]
        assert [t["state"] for t in state["completed_tasks"]] == ["TASK_FINISHED"]
    finally:
        # stop first: the stream that the TEARDOWN closes must not be retried.
        client.stop = True
        if framework.driver is not None:
            framework.driver.tearDown()
        thread.join(15)
    assert not thread.is_alive()
    assert [f["id"] for f in c.state()["completed_frameworks"]] == [framework_id]
