"""Task reconciliation through pymesos: the master answers from what it knows, without a uuid
(so nothing is acknowledged), with REASON_RECONCILIATION."""

from __future__ import annotations

from typing import Any

from frameworks_pymesos import RecordingScheduler, command_task, running_driver

JSON = dict[str, Any]


def _reconciled(task_id: str) -> Any:
    def match(status: JSON) -> bool:
        return bool(
            status["task_id"]["value"] == task_id
            and status.get("reason") == "REASON_RECONCILIATION"
        )

    return match


def test_explicit_and_implicit_reconciliation(cluster: Any) -> None:
    c = cluster(agents=1)
    (agent_id,) = c.agent_ids()
    scheduler = RecordingScheduler()
    with running_driver(scheduler, c.master_address) as driver:
        scheduler.launch(driver, [command_task("runner", "sleep 600")])
        scheduler.wait_state("runner", "TASK_RUNNING")

        driver.reconcileTasks([{"task_id": {"value": "runner"}}])
        running = scheduler.wait_update(_reconciled("runner"))
        assert running["state"] == "TASK_RUNNING"
        assert running["agent_id"] == {"value": agent_id}
        assert running["source"] == "SOURCE_MASTER"
        assert "uuid" not in running

        # A task the master never heard of: TASK_LOST for a framework without PARTITION_AWARE.
        driver.reconcileTasks([{"task_id": {"value": "never-launched"}}])
        lost = scheduler.wait_update(_reconciled("never-launched"))
        assert lost["state"] == "TASK_LOST"
        assert "uuid" not in lost

        # Implicit (no task ids): every task the master knows for the framework, here one.
        before = len(scheduler.updates_of("runner"))
        driver.reconcileTasks([])
        scheduler.wait_for(lambda: len(scheduler.updates_of("runner")) > before)
        latest = scheduler.updates_of("runner")[-1]
        assert (latest["state"], latest["reason"]) == ("TASK_RUNNING", "REASON_RECONCILIATION")
