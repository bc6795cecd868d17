"""The raw floor under an isolated launch: N `sleep 3600`s, each in fresh cgroups and namespaces.

Per launch, and nothing else (no sandbox, no user switch, no bookkeeping): mkdir a cgroup in the
cpu, memory and pids v1 hierarchies and write the limits the containerizer writes (cpu.shares,
cfs period and quota, memory.limit_in_bytes, pids.max); move this thread into them; unshare
(CLONE_NEWPID | CLONE_NEWUTS) on it; posix_spawn util-linux `unshare --mount --mount-proc --ipc --
sleep 3600` (which is pid 1 of its pid namespace, with its own mount, uts and ipc namespaces and
/proc); setns and move back. Two execs per launch, the least that gets a /proc of the new pid
namespace mounted. Then everything it made is killed and removed.

    .venv/bin/python bench/launch_floor.py --count 1000 [--with-containerizer]

`measure_floor(count) -> dict` is importable by path without side effects (needs root and cgroup
v1 cpu, memory and pids hierarchies).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import platform
import shutil
import signal
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

CGROUPS = Path("/sys/fs/cgroup")
CONTROLLERS = ("cpu", "memory", "pids")
CLONE_NEWUTS, CLONE_NEWPID = 0x04000000, 0x20000000
# The containerizer's values for cpus 0.1, mem 32 MiB, pids 1024 (the agent's default pids_max).
LIMITS = {
    "cpu": {"cpu.shares": "102", "cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "10000"},
    "memory": {"memory.limit_in_bytes": str(32 << 20)},
    "pids": {"pids.max": "1024"},
}


def _write(path: Path | str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _own_tasks_files(tid: int) -> list[str]:
    paths = {}
    for line in Path(f"/proc/self/task/{tid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            paths[controller] = path
    return [f"{CGROUPS / c}{paths[c].rstrip('/')}/tasks" for c in CONTROLLERS]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure_floor(count: int) -> dict[str, Any]:
    """Launch `count` isolated sleeps as fast as possible, then remove them all.

    Returns count, seconds (all spawned), launches_per_s, p50_ms, p99_ms (per launch: cgroups
    made and limited, process spawned), running_s (until every one is `sleep` as pid 1)."""
    unshare = shutil.which("unshare")
    if os.geteuid() != 0 or unshare is None:
        raise RuntimeError("needs root and util-linux unshare")
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    root = f"pydcos-floor-{uuid.uuid4().hex[:8]}"
    result: dict[str, Any] = {}
    pids: list[int] = []

    def run() -> None:  # on a thread of its own, as the containerizer's launcher
        tid = threading.get_native_id()
        home = _own_tasks_files(tid)
        own_uts = os.open("/proc/thread-self/ns/uts", os.O_RDONLY)
        own_pid = os.open("/proc/thread-self/ns/pid", os.O_RDONLY)
        argv = [unshare, "--mount", "--mount-proc", "--ipc", "--", "/bin/sleep", "3600"]
        env = {"PATH": "/usr/bin:/bin"}
        for controller in CONTROLLERS:
            (CGROUPS / controller / root).mkdir()
        latencies = []
        begin = time.perf_counter()
        for i in range(count):
            start = time.perf_counter()
            joins = [CGROUPS / controller / root / str(i) for controller in CONTROLLERS]
            for directory in joins:
                directory.mkdir()
            for directory in joins[1:]:  # memory and pids
                for name, value in LIMITS[directory.parts[-3]].items():
                    _write(directory / name, value)
            joins = [directory / "tasks" for directory in joins]
            for path in joins:
                _write(path, "0")
            if libc.unshare(CLONE_NEWPID | CLONE_NEWUTS) != 0:
                raise OSError(ctypes.get_errno(), "unshare")
            try:
                pids.append(os.posix_spawn(unshare, argv, env, setsid=True))
            finally:
                libc.setns(own_uts, CLONE_NEWUTS)
                libc.setns(own_pid, CLONE_NEWPID)
                for home_file in home:
                    _write(home_file, "0")
            for name, value in LIMITS["cpu"].items():  # once this thread is out (see docstring)
                _write(CGROUPS / "cpu" / root / str(i) / name, value)
            latencies.append(time.perf_counter() - start)
        spawned = time.perf_counter() - begin
        for pid in pids:  # wait until each has exec'ed sleep
            while Path(f"/proc/{pid}/comm").read_text().strip() != "sleep":
                time.sleep(0.001)
        result.update(
            count=count,
            seconds=spawned,
            launches_per_s=count / spawned,
            p50_ms=statistics.median(latencies) * 1e3,
            p99_ms=_percentile(latencies, 0.99) * 1e3,
            running_s=time.perf_counter() - begin,
        )
        os.close(own_uts)
        os.close(own_pid)

    try:
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
    finally:
        _remove_all(root, pids)
    if not result:
        raise RuntimeError("the floor run failed (see the thread's traceback)")
    return result


def _remove_all(root: str, pids: list[int]) -> None:
    for pid in pids:  # pid 1 of its namespace: SIGKILL takes the namespace with it
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid in pids:
        os.waitpid(pid, 0)
    for controller in CONTROLLERS:
        top = CGROUPS / controller / root
        if not top.exists():
            continue
        for directory in top.iterdir():
            if directory.is_dir():
                directory.rmdir()
        top.rmdir()


def measure_containerizer(count: int) -> dict[str, Any]:
    """The same N sleeps through daemons.agent.containerizer (sandbox, user nobody, 5 cgroups)."""
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from daemons.agent.containerizer import Containerizer, ContainerizerConfig, ContainerSpec
    from daemons.agent.containerizer.detection import detect

    cz = Containerizer(ContainerizerConfig(cgroups_root=f"pydcos-bench-{uuid.uuid4().hex[:8]}"))
    sandboxes = Path(tempfile.mkdtemp(prefix="pydcos-bench-"))
    sandboxes.chmod(0o755)
    latencies, ids = [], []
    try:
        begin = time.perf_counter()
        for i in range(count):
            start = time.perf_counter()
            spec = ContainerSpec(f"c{i}", sandboxes / f"c{i}", ["sleep", "3600"],
                                 {"PATH": "/usr/bin:/bin"}, "nobody", 0.1, 32, 1024)  # fmt: skip
            cz.launch(spec)
            ids.append(spec.container_id)
            latencies.append(time.perf_counter() - start)
        spawned = time.perf_counter() - begin
    finally:
        for cid in ids:
            cz.destroy(cid)
        shutil.rmtree(sandboxes)
        for directory in detect(cz.config.cgroups_root).directories("x"):
            os.rmdir(Path(directory).parent)
    return {
        "count": count,
        "seconds": spawned,
        "launches_per_s": count / spawned,
        "p50_ms": statistics.median(latencies) * 1e3,
        "p99_ms": _percentile(latencies, 0.99) * 1e3,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--with-containerizer", action="store_true")
    args = parser.parse_args()
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               "?")  # fmt: skip
    print(f"machine: {cpu} x{os.cpu_count()}, kernel {platform.release()}, "
          f"python {sys.executable} {platform.python_version()}")  # fmt: skip
    rows = [("floor (raw kernel + util-linux)", measure_floor(args.count))]
    if args.with_containerizer:
        rows.append(("daemons.agent.containerizer", measure_containerizer(args.count)))
    header = ("what", "count", "launches/s", "p50 ms", "p99 ms", "all running s")
    print("{:34} {:>6} {:>11} {:>8} {:>8} {:>14}".format(*header))
    for name, r in rows:
        running = f"{r['running_s']:.2f}" if "running_s" in r else "-"
        print(f"{name:34} {r['count']:6d} {r['launches_per_s']:11.0f} {r['p50_ms']:8.2f} "
              f"{r['p99_ms']:8.2f} {running:>14}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
