"""The containerizer against the real kernel: cgroups, namespaces, users, OOM, recovery.

Needs root and cgroups. Every test runs under its own cgroups root and sandbox directory, and the
fixture destroys whatever is left and removes both, even when the test fails. Every test that
launches runs twice: containers started by exec (launch.py) and by the fork server
(fork_server.py, with a warm test script); the last tests are the fork server's own.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from daemons.agent.containerizer import (
    MEMORY_LIMITATION,
    ContainerizerConfig,
    ContainerNotFound,
    ContainerSpec,
    ContainerTermination,
    InvalidSpec,
    LaunchFailed,
)
from daemons.agent.containerizer.containerizer import Containerizer
from daemons.agent.containerizer.detection import detect

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for cgroups and namespaces"),
]

PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}


# A warm script for the fork server: reports what its main() sees, as JSON, in the sandbox.
WARM = """
import json, os, socket, sys, time

def main():
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    fds = os.listdir("/proc/self/fd")  # the listing's own fd among them
    with open("/proc/self/cgroup") as cgroup:
        cgroups = cgroup.read()
    report = {
        "argv": sys.argv, "env": dict(os.environ), "cwd": os.getcwd(), "pid": os.getpid(),
        "hostname": socket.gethostname(), "sid": os.getsid(0),
        "procs": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "fds": sorted(int(fd) for fd in fds), "cgroup": cgroups,
        "status": {k: v.split() for k, v in fields.items()},
        "mounted_proc": os.path.exists("/proc/1/ns/pid"),
    }
    with open("report.tmp", "w") as out:
        json.dump(report, out)
    os.rename("report.tmp", "report.json")
    if os.environ.get("SLEEP"):
        time.sleep(float(os.environ["SLEEP"]))
    return int(os.environ.get("CODE", "0"))

if __name__ == "__main__":
    sys.exit(main())
"""


class Harness:
    def __init__(self, root: str, sandboxes: Path, launch: str) -> None:
        self.warm = sandboxes / "warm.py"
        self.warm.write_text(WARM)
        self.warm_argv = [PYTHON, "-I", "-S", str(self.warm)]
        self.config = ContainerizerConfig(
            cgroups_root=root, executor_launch=launch, warm_argvs=(tuple(self.warm_argv),)
        )
        self.containerizer = Containerizer(self.config)
        self.hierarchy = detect(root)
        self.sandboxes = sandboxes

    def spec(self, argv: list[str], **overrides: Any) -> ContainerSpec:
        cid = overrides.pop("container_id", f"c-{uuid.uuid4()}")
        spec = ContainerSpec(cid, self.sandboxes / cid, argv, ENV, "nobody", 0.5, 64.0, 64)
        return dataclasses.replace(spec, **overrides)

    def cgroup(self, controller: str, cid: str) -> Path:
        mounts = {Path(d).parts[-3]: Path(d) for d in self.hierarchy.directories(cid)}
        return next(p for name, p in mounts.items() if controller in name.split(","))


@pytest.fixture(params=["exec", "fork_server"])
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    yield from _harness(request.param)


@pytest.fixture
def forked() -> Iterator[Harness]:
    """For the fork server's own tests: launches through it only."""
    yield from _harness("fork_server")


def _harness(executor_launch: str) -> Iterator[Harness]:
    root = f"pydcos-test-{uuid.uuid4().hex[:8]}"
    sandboxes = Path(tempfile.mkdtemp(prefix="pydcos-containers-"))
    sandboxes.chmod(0o755)  # the task user must be able to reach its sandbox
    h = Harness(root, sandboxes, executor_launch)
    try:
        yield h
    finally:
        for cid in h.hierarchy.container_ids():
            h.containerizer.destroy(cid)
        h.containerizer.close()
        leftovers = h.hierarchy.container_ids()
        for directory in h.hierarchy.directories("x"):
            os.rmdir(Path(directory).parent)
        shutil.rmtree(sandboxes)
        assert leftovers == [], "a test left cgroups behind"


def eventually(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_limits_are_written_and_everything_is_removed(harness: Harness) -> None:
    cz = harness.containerizer
    spec = harness.spec(["sleep", "3600"], cpus=0.5, mem_mb=64, pids_max=50)
    handle = cz.launch(spec)
    cid = spec.container_id
    cpu = harness.cgroup("cpu", cid)
    assert (cpu / "cpu.shares").read_text().strip() == "512"
    assert (cpu / "cpu.cfs_period_us").read_text().strip() == "100000"
    assert (cpu / "cpu.cfs_quota_us").read_text().strip() == "50000"
    memory = harness.cgroup("memory", cid)
    assert (memory / "memory.limit_in_bytes").read_text().strip() == str(64 << 20)
    assert (harness.cgroup("pids", cid) / "pids.max").read_text().strip() == "50"
    for directory in harness.hierarchy.directories(cid):
        assert (Path(directory) / "cgroup.procs").read_text().split() == [str(handle.pid)]
    usage = cz.usage(cid)
    assert usage["mem_limit_bytes"] == 64 << 20
    assert usage["cpus_limit"] == 0.5
    assert usage["processes"] == 1
    assert cz.containers() == [cid]
    assert cz.wait(cid, timeout=0.1) is None
    cz.destroy(cid)
    assert cz.containers() == []
    assert not any(Path(d).exists() for d in harness.hierarchy.directories(cid))
    with pytest.raises(ContainerNotFound):
        cz.usage(cid)
    assert (spec.sandbox / "stdout").exists()
    assert spec.sandbox.stat().st_uid == 65534


def test_namespaces_user_and_hostname(harness: Harness) -> None:
    script = (
        "ls /proc | grep -E '^[0-9]+$' > procs; hostname > host; id -u > uid; "
        "grep NoNewPrivs /proc/self/status > nnp; touch ready; exec sleep 3600"
    )
    spec = harness.spec(["/bin/sh", "-c", script])
    handle = harness.containerizer.launch(spec)
    eventually(lambda: (spec.sandbox / "ready").exists())
    seen = set((spec.sandbox / "procs").read_text().split())
    assert "1" in seen and len(seen) <= 4, seen  # sh, ls, grep (and its subshell): nothing else
    hostname = (spec.sandbox / "host").read_text().strip()
    assert hostname == spec.container_id and hostname != socket.gethostname()
    assert (spec.sandbox / "uid").read_text().strip() == "65534"
    assert (spec.sandbox / "nnp").read_text().split() == ["NoNewPrivs:", "1"]
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{handle.pid}/status").read_text().splitlines()
    )
    assert status["Uid"].split() == ["65534"] * 4
    assert status["Gid"].split() == ["65534"] * 4
    assert status["NoNewPrivs"].strip() == "1"
    assert status["CapEff"].strip() == "0000000000000000"
    assert status["NSpid"].split() == [str(handle.pid), "1"]  # pid 1 inside
    for ns in ("pid", "mnt", "uts", "ipc"):
        assert os.readlink(f"/proc/{handle.pid}/ns/{ns}") != os.readlink(f"/proc/self/ns/{ns}")
    assert os.readlink(f"/proc/{handle.pid}/ns/net") == os.readlink("/proc/self/ns/net")
    assert os.getsid(handle.pid) == handle.pid  # a session of its own
    harness.containerizer.destroy(spec.container_id)


def test_memory_limit_kills_only_the_offender(harness: Harness) -> None:
    cz = harness.containerizer
    hog = harness.spec([PYTHON, "-c", "b = b'x' * (256 << 20)"], mem_mb=64)
    neighbour = harness.spec(["sleep", "3600"], mem_mb=64)
    cz.launch(neighbour)
    cz.launch(hog)
    termination = cz.wait(hog.container_id, timeout=30)
    assert termination is not None
    assert termination.limitation == MEMORY_LIMITATION
    assert termination.status is not None and os.WTERMSIG(termination.status) == signal.SIGKILL
    assert "Memory limit exceeded" in termination.message
    assert cz.limitation(hog.container_id) == MEMORY_LIMITATION
    assert cz.wait(neighbour.container_id, timeout=0.2) is None  # untouched
    assert cz.limitation(neighbour.container_id) is None
    assert cz.containers() == [neighbour.container_id]  # the exited one cleaned up on wait
    cz.destroy(hog.container_id)  # fine on an exited container
    cz.destroy(neighbour.container_id)


def test_cfs_quota_caps_a_busy_loop(harness: Harness) -> None:
    spec = harness.spec(["/bin/sh", "-c", "while :; do :; done"], cpus=0.5)
    cz = harness.containerizer
    cz.launch(spec)
    time.sleep(0.3)  # not measured: the loop starting and the first CFS periods
    before, start = cz.usage(spec.container_id), time.monotonic()
    time.sleep(1.5)  # the window measured: fifteen CFS periods of 100 ms
    after, wall = cz.usage(spec.container_id), time.monotonic() - start
    keys = ("cpus_user_time_secs", "cpus_system_time_secs")
    used = sum(after[k] - before[k] for k in keys)
    assert used / wall <= 0.6  # 0.5 cores plus tick rounding
    cz.destroy(spec.container_id)


def _wait_in_thread(cz: Containerizer, cid: str) -> list[ContainerTermination | None]:
    result: list[ContainerTermination | None] = []
    threading.Thread(target=lambda: result.append(cz.wait(cid)), daemon=True).start()
    return result


def test_destroy_escalates_to_sigkill_after_the_grace_period(harness: Harness) -> None:
    cz = harness.containerizer
    spec = harness.spec(["/bin/sh", "-c", "trap '' TERM; sleep 3600 & sleep 3600 & wait"])
    cz.launch(spec)
    eventually(lambda: len(harness.hierarchy.procs(spec.container_id)) == 3)
    waited = _wait_in_thread(cz, spec.container_id)
    start = time.monotonic()
    cz.destroy(spec.container_id, grace_period=0.5)
    assert 0.5 <= time.monotonic() - start < 5
    eventually(lambda: waited)
    assert waited[0] is not None and waited[0].status == signal.SIGKILL
    assert cz.containers() == []


def test_destroy_returns_early_when_sigterm_is_obeyed(harness: Harness) -> None:
    cz = harness.containerizer
    obeys = "trap 'exit 0' TERM; touch ready; while :; do sleep 0.05; done"
    spec = harness.spec(["/bin/sh", "-c", obeys])
    cz.launch(spec)
    eventually(lambda: (spec.sandbox / "ready").exists())  # the trap is set
    start = time.monotonic()
    cz.destroy(spec.container_id, grace_period=10)
    assert time.monotonic() - start < 3
    assert cz.containers() == []


def test_fork_bomb_is_held_by_pids_max(harness: Harness) -> None:
    cz = harness.containerizer
    bomb = "b() { b | b & }; b; sleep 3600"
    spec = harness.spec(["/bin/sh", "-c", bomb], pids_max=16, cpus=0.2)
    cz.launch(spec)
    pids = harness.cgroup("pids", spec.container_id)
    eventually(lambda: int((pids / "pids.events").read_text().split()[1]) > 0)  # forks refused
    assert int((pids / "pids.current").read_text()) <= 16
    assert subprocess.run(["true"], check=False).returncode == 0  # the host still forks
    cz.destroy(spec.container_id)
    assert cz.containers() == []


def test_recover_after_an_agent_restart(harness: Harness) -> None:
    spec = harness.spec(["sleep", "3600"])
    handle = harness.containerizer.launch(spec)
    restarted = Containerizer(harness.config)
    cid = spec.container_id
    assert restarted.recover(cid, os.getpid()) is None  # wrong pid: not attached...
    assert restarted.containers() == [cid]  # ...and a running container is left alone
    recovered = restarted.recover(cid, handle.pid)
    assert recovered is not None and recovered.pid == handle.pid
    assert restarted.wait(cid, timeout=0.1) is None
    os.kill(handle.pid, signal.SIGKILL)
    termination = restarted.wait(cid, timeout=10)
    assert termination is not None and termination.status is None  # not our child
    assert termination.limitation is None
    assert restarted.containers() == []
    harness.containerizer.destroy(cid)  # the first object reaps its zombie


def test_recover_of_a_dead_container_removes_its_empty_cgroups(harness: Harness) -> None:
    spec = harness.spec(["/bin/sh", "-c", "exit 0"])
    handle = harness.containerizer.launch(spec)
    eventually(lambda: not harness.hierarchy.procs(spec.container_id))
    restarted = Containerizer(harness.config)
    assert restarted.recover(spec.container_id, handle.pid) is None
    assert restarted.containers() == []
    harness.containerizer.destroy(spec.container_id)


# The container's top process, once `ready` is in its sandbox, answers SIGUSR1 with `alive`.
AGENT = """
import sys, pathlib
from daemons.agent.containerizer import Containerizer, ContainerizerConfig, ContainerSpec
cz = Containerizer(ContainerizerConfig(cgroups_root=sys.argv[1], executor_launch=sys.argv[4]))
answer = "trap 'echo yes > alive' USR1; touch ready; while :; do sleep 0.05; done"
spec = ContainerSpec(sys.argv[2], pathlib.Path(sys.argv[3]), ["/bin/sh", "-c", answer],
                     {"PATH": "/usr/bin:/bin"}, "nobody", 0.1, 32, 16)
print(cz.launch(spec).pid, flush=True)
sys.stdin.read()
"""


def test_containers_survive_sigkill_of_the_agent(harness: Harness) -> None:
    cid = f"c-{uuid.uuid4()}"
    agent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            AGENT,
            harness.config.cgroups_root,
            cid,
            str(harness.sandboxes / cid),
            harness.config.executor_launch,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert agent.stdout is not None
        pid = int(agent.stdout.readline())
    finally:
        agent.kill()  # SIGKILL, no cleanup of any kind
        agent.wait()
    # The agent is reaped: whatever its death sends its children has been sent. A signal sent
    # only now is answered by the container's process: it outlived the agent.
    sandbox = harness.sandboxes / cid
    eventually(lambda: (sandbox / "ready").exists())
    os.kill(pid, signal.SIGUSR1)
    eventually(lambda: (sandbox / "alive").exists())
    os.kill(pid, 0)  # still running
    assert harness.containerizer.recover(cid, pid) is not None
    harness.containerizer.destroy(cid)
    assert harness.containerizer.containers() == []


def test_shell_join_path_used_where_threads_cannot_move(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    cz = harness.containerizer
    monkeypatch.setattr(cz._hierarchy, "thread_join_files", lambda cid: None)
    spec = harness.spec(["sleep", "3600"], pids_max=1)
    handle = cz.launch(spec)
    eventually(lambda: Path(f"/proc/{handle.pid}/comm").read_text().strip() == "sleep")
    for directory in harness.hierarchy.directories(spec.container_id):
        assert (Path(directory) / "cgroup.procs").read_text().split() == [str(handle.pid)]
    cz.destroy(spec.container_id)


def test_a_missing_program_exits_127(harness: Harness) -> None:
    spec = harness.spec(["/nonexistent/program"])
    harness.containerizer.launch(spec)
    termination = harness.containerizer.wait(spec.container_id, timeout=10)
    assert termination is not None and termination.status == 127 << 8
    assert "No such file" in (spec.sandbox / "stderr").read_text()


def test_bad_specs_are_refused_without_leftovers(harness: Harness) -> None:
    cz = harness.containerizer
    for bad in (
        harness.spec(["true"], container_id="../escape"),
        harness.spec(["true"], user="no-such-user-pydcos"),
        harness.spec([], container_id="empty-argv"),
        harness.spec(["true"], cpus=0),
    ):
        with pytest.raises(InvalidSpec):
            cz.launch(bad)
    running = harness.spec(["sleep", "3600"])
    cz.launch(running)
    with pytest.raises(InvalidSpec, match="already exists"):
        cz.launch(running)
    with pytest.raises(ContainerNotFound):
        cz.wait("never-launched")
    cz.destroy("never-launched")  # no error
    cz.destroy(running.container_id)
    assert cz.containers() == []


def test_without_isolation_a_plain_session(tmp_path: Path) -> None:
    cz = Containerizer(ContainerizerConfig(isolation=False))
    spec = ContainerSpec("plain", tmp_path / "sb", ["/bin/sh", "-c", "echo hi; exit 4"], ENV,
                         "nobody", 0.1, 32, None)  # fmt: skip
    cz.launch(spec)
    termination = cz.wait("plain", timeout=10)
    assert termination is not None and os.WEXITSTATUS(termination.status or 0) == 4
    assert (spec.sandbox / "stdout").read_text() == "hi\n"
    sleeper = ContainerSpec("sleeper", tmp_path / "sb2", ["sleep", "3600"], ENV, "nobody", 0.1,
                            32, None)  # fmt: skip
    handle = cz.launch(sleeper)
    assert cz.usage("sleeper")["processes"] == 1
    assert cz.containers() == ["sleeper"]
    cz.destroy("sleeper", grace_period=1)
    with pytest.raises(ProcessLookupError):
        os.kill(handle.pid, 0)
    cz.destroy("plain")


def test_signals_to_a_container_never_reach_the_agent_passing_through_its_cgroups(
    harness: Harness,
) -> None:
    """The launcher thread joins a container's cgroups for an instant; v1 `cgroup.procs` then
    lists the agent's own pid, and a kill of that container at that moment must spare it."""
    cz = harness.containerizer
    # sh stays pid 1 (it ignores SIGTERM there) with sleep as its child, which does not.
    spec = harness.spec(["/bin/sh", "-c", "sleep 3600; true"])
    cz.launch(spec)
    eventually(lambda: len(harness.hierarchy.procs(spec.container_id)) == 2)  # sleep started
    tid = threading.get_native_id()
    home = harness.hierarchy.thread_home_files(tid)
    joins = harness.hierarchy.thread_join_files(spec.container_id)
    assert joins is not None
    for path in joins:
        Path(path).write_text("0")
    try:
        assert os.getpid() in harness.hierarchy.procs(spec.container_id)
        sent = harness.hierarchy.signal_all(spec.container_id, signal.SIGTERM)
    finally:
        for path in home:
            Path(path).write_text("0")
    assert sent >= 1  # the container's processes got it; this process (still alive) did not
    eventually(lambda: harness.hierarchy.procs(spec.container_id) == [])
    cz.destroy(spec.container_id)
    assert cz.containers() == []


# --- the fork server's own ---------------------------------------------------------------------


def _report(sandbox: Path) -> dict[str, Any]:
    eventually(lambda: (sandbox / "report.json").exists())
    report: dict[str, Any] = json.loads((sandbox / "report.json").read_text())
    return report


def _fork_server_pid(cz: Containerizer) -> int:
    server = cz._fork_server
    assert server is not None
    pid = server.pid()
    assert pid is not None
    return pid


def test_a_warm_executor_is_isolated_like_an_execed_one(forked: Harness) -> None:
    cz = forked.containerizer
    env = {**ENV, "SLEEP": "3600"}
    spec = forked.spec(forked.warm_argv, environment=env, pids_max=8)
    handle = cz.launch(spec)
    report = _report(spec.sandbox)
    server = _fork_server_pid(cz)
    assert report["argv"] == [str(forked.warm)]
    assert report["env"] == env  # exactly: nothing of the agent's or the server's
    assert report["cwd"] == str(spec.sandbox)
    assert report["pid"] == 1 and report["sid"] == 1
    assert report["procs"] == [1]  # a /proc of its own pid namespace, nothing else in it
    assert report["hostname"] == spec.container_id
    assert report["fds"][:3] == [0, 1, 2] and len(report["fds"]) == 4  # + the listing's own
    status = report["status"]
    assert status["Uid"] == ["65534"] * 4 and status["Gid"] == ["65534"] * 4
    assert status["Groups"] == []
    assert status["NoNewPrivs"] == ["1"] and status["CapEff"] == ["0000000000000000"]
    assert status["CapPrm"] == ["0000000000000000"]
    lines = Path(f"/proc/{handle.pid}/status").read_text().splitlines()
    host = dict(line.split(":", 1) for line in lines)
    assert host["NSpid"].split() == [str(handle.pid), "1"]
    assert int(host["PPid"]) == server  # the subreaper, once the middle child is gone
    for ns in ("pid", "mnt", "uts", "ipc"):
        assert os.readlink(f"/proc/{handle.pid}/ns/{ns}") != os.readlink(f"/proc/self/ns/{ns}")
    assert os.readlink(f"/proc/{handle.pid}/ns/net") == os.readlink("/proc/self/ns/net")
    for directory in forked.hierarchy.directories(spec.container_id):
        assert (Path(directory) / "cgroup.procs").read_text().split() == [str(handle.pid)]
    pids = forked.cgroup("pids", spec.container_id)
    assert (pids / "pids.max").read_text().strip() == "8"  # the +1 for the middle child is gone
    assert server not in forked.hierarchy.procs(spec.container_id)
    assert forked.config.cgroups_root not in Path(f"/proc/{server}/cgroup").read_text()
    cz.destroy(spec.container_id)
    assert cz.containers() == []


def test_a_warm_executors_exit_status_is_reported(forked: Harness) -> None:
    cz = forked.containerizer
    spec = forked.spec(forked.warm_argv, environment={**ENV, "CODE": "3"})
    cz.launch(spec)
    termination = cz.wait(spec.container_id, timeout=20)
    assert termination is not None and termination.status == 3 << 8
    assert cz.containers() == []


def test_the_server_survives_its_containers_and_they_survive_it(forked: Harness) -> None:
    cz = forked.containerizer
    first = forked.spec(["sleep", "3600"])
    handle = cz.launch(first)
    server = _fork_server_pid(cz)
    os.kill(server, signal.SIGKILL)  # the server dies: its container runs on, unreported
    eventually(lambda: cz._fork_server is not None and cz._fork_server.pid() is None)
    os.kill(handle.pid, 0)
    second = forked.spec(forked.warm_argv, environment={**ENV, "CODE": "4"})
    cz.launch(second)  # a new server
    assert _fork_server_pid(cz) != server
    termination = cz.wait(second.container_id, timeout=20)
    assert termination is not None and termination.status == 4 << 8
    os.kill(handle.pid, signal.SIGKILL)
    termination = cz.wait(first.container_id, timeout=20)
    assert termination is not None and termination.status is None  # nobody could report it
    assert cz.containers() == []


def test_a_missing_working_dir_fails_the_launch_without_leftovers(harness: Harness) -> None:
    cz = harness.containerizer
    spec = harness.spec(["true"], working_dir=harness.sandboxes / "missing")
    with pytest.raises(LaunchFailed):
        cz.launch(spec)
    assert cz.containers() == []
    cz.launch(harness.spec(["true"]))  # and the next launch works
