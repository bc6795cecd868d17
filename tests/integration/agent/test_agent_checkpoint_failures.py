"""At-least-once when checkpoints fail, on real parts: the agent's `meta/` is a small tmpfs that
the test fills up (ENOSPC) and empties again; real agents, real executors, a fake master.

- An executor's update the agent cannot checkpoint is answered 503, never ACKNOWLEDGED and not
  forwarded; the built-in command executor and a `mesos_client` executor both send it again,
  and it arrives once the disk has room.
- A container whose pid cannot be checkpointed is destroyed; its task fails with
  REASON_CONTAINER_LAUNCH_FAILED.
- An unreadable checkpoint stops the agent, saying which file and how to start afresh, and
  leaves the running executors alone; `recover = "cleanup"` starts afresh.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from test_agent_fake_master import (  # noqa: F401  (fixtures)
    FAST,
    FRAMEWORK_ID,
    FakeMaster,
    command_task,
    master_fixture,
    run_task,
    running_agent,
    work_dir_fixture,
)

from daemons.agent.config import AgentConfig
from daemons.agent.containerizer import Containerizer, ContainerizerConfig, ContainerSpec
from daemons.agent.containerizer.model import ContainerHandle
from daemons.agent.runtime import AgentRuntime
from daemons.mesos_client.executor import ExecutorClient
from daemons.mesos_client.executor_events import Launch
from daemons.mesos_client.executor_settings import ExecutorSettings
from tools import processes

BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


class SmallDisk:
    """A 4 MiB tmpfs mounted on the agent's `meta/` (where every checkpoint goes)."""

    def __init__(self, mount_point: Path) -> None:
        self.mount_point = mount_point
        self.filler = mount_point / ".filler"

    def fill(self) -> None:
        """Write until the file system has no block left."""
        with open(self.filler, "ab") as handle:
            chunk = b"\0" * 65536
            try:
                while True:
                    handle.write(chunk)
                    handle.flush()
            except OSError as err:
                assert err.errno == errno.ENOSPC, err

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)


@pytest.fixture
def disk(work_dir: Path) -> Iterator[SmallDisk]:
    meta = work_dir / "meta"
    meta.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", str(meta)], check=True
    )
    try:
        yield SmallDisk(meta)
    finally:
        subprocess.run(["umount", "--lazy", str(meta)], check=False)


def agent_id(master: FakeMaster) -> str:
    master.wait_subscribed()
    return str(master.subscriptions[0].get("agent_id", {}).get("value") or "FAKE-S0")


def checkpoint_errors(agent: Any) -> float:
    metrics = requests.get(f"{agent.url}/metrics/snapshot", timeout=5).json()
    return float(metrics["slave/checkpoint_errors"])


def executor_directory(agent: Any, executor_id: str) -> Path | None:
    state = requests.get(f"{agent.url}/state", timeout=5).json()
    for framework in state["frameworks"]:
        for executor in framework["executors"]:
            if executor["id"] == executor_id:
                return Path(executor["directory"])
    return None


def checkpointed_pid(work_dir: Path, executor_id: str) -> int | None:
    """The pid in the executor's latest run.info (None before the container started)."""
    runs = work_dir.glob(f"meta/slaves/latest/frameworks/*/executors/{executor_id}/runs/latest")
    for run in runs:
        pid = json.loads((run / "run.info").read_text()).get("pid")
        return int(pid) if isinstance(pid, int) else None
    return None


def pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


def test_the_command_executors_update_is_refused_while_the_disk_is_full_then_sent_again(
    start_agent: Any, master: FakeMaster, work_dir: Path, disk: SmallDisk
) -> None:
    with running_agent(start_agent, master.address, work_dir) as agent:
        aid = agent_id(master)
        waits = "while [ ! -e go ]; do sleep 0.05; done"
        master.send(run_task(command_task("t", waits, aid)))
        master.wait_state("t", "TASK_RUNNING")
        master.wait_for(lambda: all(master.deliveries[s["uuid"]] >= 2 for s in master.updates()))
        sandbox = executor_directory(agent, "t")
        assert sandbox is not None
        disk.fill()
        (sandbox / "go").touch()  # the task ends: TASK_FINISHED cannot be checkpointed
        stderr = sandbox / "stderr"
        master.wait_for(lambda: "answered 503" in stderr.read_text(errors="replace"))
        assert checkpoint_errors(agent) >= 1
        assert "TASK_FINISHED" not in master.states("t")
        disk.free()
        finished = master.wait_state("t", "TASK_FINISHED")
        assert finished["source"] == "SOURCE_EXECUTOR"
        # The executor exits once its update is acknowledged: it was, after it was durable.
        master.wait_for(lambda: master.calls_of("EXITED_EXECUTOR"))


def test_a_mesos_client_executor_sends_a_refused_update_again_when_it_re_subscribes(
    start_agent: Any, master: FakeMaster, work_dir: Path, disk: SmallDisk
) -> None:
    """The executor library keeps an unacknowledged update and lists it when it subscribes
    again (as Mesos' does); the agent ends its stream after refusing it, so it does."""
    with running_agent(start_agent, master.address, work_dir) as agent:
        aid = agent_id(master)
        info = command_task("c", "true", aid)
        del info["command"]
        # The container only holds the executor's place: this test speaks the executor API.
        info["executor"] = {"executor_id": {"value": "custom"}, "command": {"value": "sleep 600"}}
        master.send(run_task(info))
        master.wait_for(lambda: checkpointed_pid(work_dir, "custom"))
        settings = ExecutorSettings(
            framework_id=FRAMEWORK_ID,
            executor_id="custom",
            agent_endpoint=f"127.0.0.1:{agent.port}",
            checkpoint=True,
            recovery_timeout=120.0,
            subscription_backoff_max=0.5,
        )
        client = ExecutorClient(settings)
        client.start()
        try:
            assert client.wait_subscribed(timeout=30)
            launched = None
            while not isinstance(launched, Launch):  # SUBSCRIBED comes first
                launched = client.next_event(timeout=30)
                assert launched is not None
            assert launched.task_id == "c"
            disk.fill()
            client.update("c", "TASK_RUNNING")
            master.wait_for(lambda: not client.is_subscribed)  # the agent ended its stream
            assert checkpoint_errors(agent) >= 1
            assert [u["state"] for u in client.unacknowledged_updates] == ["TASK_RUNNING"]
            assert "TASK_RUNNING" not in master.states("c")
            disk.free()
            master.wait_state("c", "TASK_RUNNING")
            master.wait_for(lambda: not client.unacknowledged_updates)
        finally:
            client.close()


class FillingContainerizer(Containerizer):
    """The real containerizer; the disk fills up the moment a container has started, between
    its launch and the checkpoint of its pid."""

    def __init__(self, config: ContainerizerConfig, disk: SmallDisk) -> None:
        super().__init__(config)
        self.disk = disk
        self.pids: list[int] = []

    def launch(self, spec: ContainerSpec) -> ContainerHandle:
        handle = super().launch(spec)
        self.pids.append(handle.pid)
        self.disk.fill()
        return handle


def test_a_container_whose_pid_cannot_be_checkpointed_is_destroyed_and_its_task_fails(
    master: FakeMaster, work_dir: Path, disk: SmallDisk
) -> None:
    cgroups_root = f"pydcos-agent-test-{uuid.uuid4().hex[:12]}"
    config = AgentConfig(
        master=master.address,
        port=processes.free_port(),
        work_dir=str(work_dir),
        cgroups_root=cgroups_root,
        resources="cpus:4;mem:4096;disk:10000;ports:[31000-32000]",
        **FAST,
    )
    containerizer = FillingContainerizer(
        ContainerizerConfig(isolation=True, cgroups_root=cgroups_root), disk
    )
    runtime = AgentRuntime(
        config,
        containerizer,
        base_environment={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        boot_id=BOOT_ID.read_text(encoding="ascii").strip(),
    )
    runtime.start()
    try:
        aid = agent_id(master)
        master.send(run_task(command_task("doomed", "sleep 600", aid)))
        failed = master.wait_state("doomed", "TASK_FAILED")
        assert failed["reason"] == "REASON_CONTAINER_LAUNCH_FAILED"
        assert "Failed to checkpoint" in failed["message"] and "run.info" in failed["message"]
        (pid,) = containerizer.pids
        master.wait_for(lambda: pid_gone(pid), timeout=15)
        master.wait_for(lambda: master.calls_of("EXITED_EXECUTOR"))
        assert containerizer.containers() == []
    finally:
        runtime.stop()
        processes.kill_cgroups(cgroups_root)


def test_an_unreadable_checkpoint_stops_the_agent_until_cleanup_is_asked_for(
    start_agent: Any, master: FakeMaster, work_dir: Path
) -> None:
    with running_agent(start_agent, master.address, work_dir) as agent:
        aid = agent_id(master)
        master.send(run_task(command_task("kept", "sleep 600", aid)))
        master.wait_state("kept", "TASK_RUNNING")
        pid = checkpointed_pid(work_dir, "kept")
        assert pid is not None
        agent.kill(signal.SIGKILL)
        slave_info = (work_dir / "meta" / "slaves" / aid / "slave.info").resolve()
        slave_info.write_text('{"hostname": "127.0')  # torn by a disk fault
        with pytest.raises(processes.StartFailed) as refused:
            agent.start()
        message = str(refused.value)
        assert f"cannot read checkpoint {slave_info}" in message
        assert 'recover = "cleanup"' in message
        assert not pid_gone(pid)  # the executor of the previous run was left alone
        assert len(master.subscriptions) == 1
        agent.config["recover"] = "cleanup"
        agent.start()
        again = master.wait_subscribed(count=2)
        assert "agent_id" not in again and again["subscribe"]["tasks"] == []
        master.wait_for(lambda: pid_gone(pid), timeout=15)
