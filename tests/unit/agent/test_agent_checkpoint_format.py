"""Checkpoints across an upgrade: what the agent of commit 0acedc3 (before the typed models)
wrote, recovered by this one; and what this one writes, in the same format.

tests/fixtures/agent/checkpoints-0acedc3/ is the `meta/` tree that agent left (its own
transitions, run by this directory's harness, with work_dir /var/lib/dcos/agent) after:
RUN_TASK of a command task `web.1` (role `web`, port 31000, labels, a health check) whose
executor (pid 4242) sent TASK_RUNNING, not acknowledged yet and carrying a `check_status` the
agent does not model; then RUN_TASK_GROUP of `a` and `b` under the default executor `pod`
(pid 4343, its own 0.1 cpus and 32 MB), which subscribed listing `a` as unacknowledged and sent
`a`'s TASK_RUNNING, acknowledged since; `b` was never handed over.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from daemons.agent import recovery, state
from daemons.agent.agent import Agent
from daemons.agent.model import ExecutorKind, ExecutorState
from daemons.agent.plan import WatchContainer
from daemons.protocols.resources import from_v1
from tests.unit.agent.state_harness import (
    AGENT_ID,
    FID,
    Clock,
    acknowledge,
    executor_status,
    handle,
    launch,
    make_agent,
    resources,
    subscribe,
    task,
    update,
)

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "agent" / "checkpoints-0acedc3"
WEB, POD = "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"
WORK_DIR = "/var/lib/dcos/agent"
RUNS = ("slaves", AGENT_ID, "frameworks", FID, "executors")  # the executors' directories
JSON = dict[str, Any]


def fixture_file(*parts: str) -> JSON:
    data: JSON = json.loads(FIXTURE.joinpath(*parts).read_text())
    return data


@pytest.fixture
def recovered(tmp_path: Path) -> Agent:
    """An agent of this release started on the old release's checkpoints, both executors alive."""
    shutil.copytree(FIXTURE, tmp_path / "meta", symlinks=True)
    agent = make_agent(tmp_path)
    agent.agent_id = None
    found = recovery.read(agent.checkpoints, "boot-1", recovery.RECONNECT)
    assert found is not None and found.skipped == 0
    waiting = recovery.restore(agent, found, {WEB: 4242, POD: 4343}, [WEB, POD])
    assert {e.executor_id for e in waiting} == {"web.1", "pod"}
    assert agent.take_plan() == [WatchContainer(POD), WatchContainer(WEB)]
    return agent


def test_the_old_releases_checkpoints_are_recovered(recovered: Agent) -> None:
    agent = recovered
    assert agent.agent_id == AGENT_ID
    framework = agent.frameworks[FID]
    assert framework.info.roles == ("web",) and framework.info.checkpoint
    web = framework.executors["web.1"]
    assert (web.kind, web.state, web.pid) == (ExecutorKind.COMMAND, ExecutorState.RECOVERING, 4242)
    assert web.resources == {} and web.user == "nobody"
    assert str(web.directory).startswith(f"{WORK_DIR}/slaves/{AGENT_ID}/")
    (task_web,) = web.tasks.values()
    assert (task_web.state, task_web.launched) == ("TASK_RUNNING", True)
    assert task_web.info.health_check is not None and task_web.info.health_check.http is not None
    pod = framework.executors["pod"]
    assert pod.kind is ExecutorKind.DEFAULT and pod.resources == from_v1(resources(0.1, 32))
    assert {t.task_id: (t.state, t.launched) for t in pod.tasks.values()} == {
        "a": ("TASK_RUNNING", True),
        "b": ("TASK_STAGING", False),
    }


def test_the_unacknowledged_update_goes_out_again_exactly_as_it_was_written(
    recovered: Agent,
) -> None:
    agent = recovered
    agent.updates.resume(agent.monotonic())
    ((framework_id, head),) = agent.updates.due(agent.monotonic())
    written = fixture_file(*RUNS, "web.1", "runs", WEB, "tasks", "web.1", "task.updates")
    assert framework_id == FID
    assert head.raw == written["pending"][0]
    assert head.raw["check_status"] == {"type": "HTTP"}  # unknown to the agent, passed on


def test_the_recovered_state_renders_as_before(recovered: Agent) -> None:
    agent = recovered
    shown = state.state_json(agent, None)
    (framework,) = shown["frameworks"]
    assert (framework["role"], framework["roles"]) == ("web", ["web"])
    web, pod = sorted(framework["executors"], key=lambda e: e["id"] != "web.1")
    assert web["role"] == "web" and web["resources"]["ports"] == "[31000-31000]"
    assert web["tasks"][0]["labels"] == {"labels": [{"key": "MARATHON_APP_ID", "value": "/web"}]}
    assert pod["role"] == "web" and pod["type"] == "DEFAULT"  # the framework's role
    assert [t["id"] for t in pod["queued_tasks"]] == ["b"]
    tasks = {t["task_id"]["value"]: t for t in state.subscribe_payload(agent)["tasks"]}
    assert tasks["web.1"]["resources"] == fixture_file(*RUNS, "web.1", "executor.info")["resources"]
    assert "health_check" in tasks["web.1"] and "executor_id" in tasks["a"]


def test_a_recovered_executor_that_re_subscribes_gets_its_queued_task_as_sent(
    recovered: Agent,
) -> None:
    _, events = subscribe(recovered, "pod", {"unacknowledged_tasks": [task("a")]})
    (launch_group,) = events
    (sent,) = launch_group["launch_group"]["task_group"]["tasks"]
    assert sent == fixture_file(*RUNS, "pod", "runs", POD, "tasks", "b", "task.info")


def checkpoint_files(meta: Path) -> dict[str, Any]:
    """Every checkpoint file under `meta`: path -> JSON (boot_id as text, links as targets)."""
    files: dict[str, Any] = {}
    for path in sorted(meta.rglob("*")):
        name = str(path.relative_to(meta))
        if path.is_symlink():
            files[name] = str(path.readlink())
        elif path.is_file():
            text = path.read_text()
            files[name] = text if path.name == "boot_id" else json.loads(text)
    return files


def test_this_release_writes_the_same_checkpoints(tmp_path: Path) -> None:
    """The fixture's story played again by this release: the same files, the same JSON. Only
    `run.info`'s resources are written in the normal v1 form (roles and floats spelt out)."""
    work = tmp_path / "agent"
    agent = make_agent(work, Clock())
    agent.checkpoints.write_boot_id("boot-1")
    agent.checkpoints.write_agent(AGENT_ID, agent.agent_info())
    framework = fixture_file("slaves", AGENT_ID, "frameworks", FID, "framework.info")
    web = fixture_file(*RUNS, "web.1", "runs", WEB, "tasks", "web.1", "task.info")
    launch(agent, {"type": "RUN_TASK", "run_task": {"framework_info": framework, "task": web}})
    subscribe(agent, "web.1")
    running = {**executor_status("web.1", "TASK_RUNNING", 1), "check_status": {"type": "HTTP"}}
    update(agent, "web.1", running)
    group = {
        "framework_info": framework,
        "executor": fixture_file(*RUNS, "pod", "executor.info"),
        "task_group": {"tasks": [task("a"), task("b")]},
    }
    launch(agent, {"type": "RUN_TASK_GROUP", "run_task_group": group}, pid=4343)
    subscribe(agent, "pod", {"unacknowledged_tasks": [task("a")]})
    a_running = executor_status("a", "TASK_RUNNING", 2)
    update(agent, "pod", a_running)
    handle(agent, acknowledge("a", a_running["uuid"]))

    written = checkpoint_files(work / "meta")
    before = checkpoint_files(FIXTURE)
    assert written.keys() == before.keys()
    for name, old in before.items():
        new = written[name]
        if name.endswith("run.info"):
            assert from_v1(new.pop("resources")) == from_v1(old.pop("resources")), name
            new["directory"] = new["directory"].replace(str(work), WORK_DIR)
        assert new == old, name
