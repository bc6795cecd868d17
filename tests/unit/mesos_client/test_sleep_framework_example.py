"""examples/sleep_framework.py end to end against the fake master: offers in, one ACCEPT with
all tasks, updates acknowledged, exit 0 once every task finished, TEARDOWN at the end."""

from __future__ import annotations

import base64
import importlib.util
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

EXAMPLE = Path(__file__).parents[3] / "examples" / "sleep_framework.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sleep_framework", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def offer(offer_id: str, cpus: float, mem: float) -> dict[str, Any]:
    return {
        "id": {"value": offer_id},
        "framework_id": {"value": "fw-1"},
        "agent_id": {"value": "S0"},
        "hostname": "agent-1",
        "resources": [
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus}},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": mem}},
        ],
    }


def update(task_id: str, state: str, n: int) -> dict[str, Any]:
    status = {
        "task_id": {"value": task_id},
        "state": state,
        "agent_id": {"value": "S0"},
        "uuid": base64.b64encode(n.to_bytes(16, "big")).decode(),
    }
    return {"type": "UPDATE", "update": {"status": status}}


def test_sleep_framework_runs_its_tasks(master: Any, capsys: Any) -> None:
    example = load_example()
    result: list[int] = []
    argv = ["--master", master.address, "--tasks", "3", "--cpus", "0.5", "--mem", "64"]
    runner = threading.Thread(
        target=lambda: result.append(example.main([*argv, "--timeout", "10"]))
    )
    runner.start()
    stream = master.wait_stream()
    # Room for two tasks in the first offer, none in the second, the third task in the last.
    stream.send(
        {"type": "OFFERS", "offers": {"offers": [offer("O1", 1.2, 512), offer("O2", 0.1, 512)]}}
    )
    first, _ = master.wait_call("ACCEPT")
    launched = first["accept"]["operations"][0]["launch"]["task_infos"]
    assert [t["task_id"]["value"] for t in launched] == ["sleep-framework-1", "sleep-framework-2"]
    assert launched[0]["command"] == {"value": "sleep 2", "shell": True}
    decline, _ = master.wait_call("DECLINE")
    assert decline["decline"]["offer_ids"] == [{"value": "O2"}]
    stream.send({"type": "OFFERS", "offers": {"offers": [offer("O3", 0.5, 64)]}})
    master.wait_call("ACCEPT", 2)
    master.wait_call("SUPPRESS")
    for n, task in enumerate(["sleep-framework-1", "sleep-framework-2", "sleep-framework-3"]):
        stream.send(update(task, "TASK_RUNNING", 2 * n))
        stream.send(update(task, "TASK_FINISHED", 2 * n + 1))
    runner.join(10)
    assert result == [0]
    assert len(master.calls_of("ACKNOWLEDGE")) == 6
    assert master.calls_of("TEARDOWN")
    out = capsys.readouterr().out
    assert "update task=sleep-framework-3 state=TASK_FINISHED" in out
    assert "all 3 tasks done" in out
