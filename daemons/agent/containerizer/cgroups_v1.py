"""cgroup v1: one directory per hierarchy (cpu, cpuacct, memory, pids, freezer; co-mounted
controllers share one). Files: cpu.shares, cpu.cfs_{period,quota}_us, memory.limit_in_bytes,
pids.max, freezer.state, memory.oom_control (`oom_kill` counter, kernel >= 4.13), memory.stat,
cpuacct.stat. Threads can be moved one at a time through `tasks`, which the launcher relies on.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from pathlib import Path

from daemons.agent.containerizer.cgroups import (
    Hierarchy,
    flat_keyed,
    read_text,
    wait_until,
    write_text,
)
from daemons.agent.containerizer.limits import CPU_SHARES_PER_CPU, Limits

_FREEZE_TIMEOUT = 2.0
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")  # cpuacct.stat counts USER_HZ ticks


class V1Hierarchy(Hierarchy):
    version = 1

    def __init__(self, root: str, mounts: dict[str, tuple[Path, str]]) -> None:
        """`mounts`: controller -> (mount point, hierarchy path mounted there)."""
        super().__init__(root)
        self._mounts = mounts
        self._bases = {controller: f"{point}/{root}" for controller, (point, _) in mounts.items()}
        # Co-mounted controllers (cpu,cpuacct) share a directory: keep each mount once.
        self._distinct: dict[Path, tuple[str, set[str]]] = {}
        for controller, (point, mount_root) in mounts.items():
            self._distinct.setdefault(point, (mount_root, set()))[1].add(controller)
        self._distinct_bases = [f"{point}/{root}" for point in self._distinct]

    def _dir(self, controller: str, container_id: str) -> str:
        return f"{self._bases[controller]}/{container_id}"

    def directories(self, container_id: str) -> list[str]:
        return [f"{base}/{container_id}" for base in self._distinct_bases]

    def prepare(self) -> None:
        for base in self._distinct_bases:
            os.makedirs(base, exist_ok=True)

    def limit_files(self, container_id: str, limits: Limits) -> dict[str, str]:
        cpu = self._dir("cpu", container_id)
        files = {f"{cpu}/cpu.shares": str(limits.cpu_shares)}
        if limits.cfs_quota_us is None:
            files[f"{cpu}/cpu.cfs_quota_us"] = "-1"
        else:  # the period first: the kernel checks the quota against it
            files[f"{cpu}/cpu.cfs_period_us"] = str(limits.cfs_period_us)
            files[f"{cpu}/cpu.cfs_quota_us"] = str(limits.cfs_quota_us)
        memory, pids = self._dir("memory", container_id), self._dir("pids", container_id)
        files[f"{memory}/memory.limit_in_bytes"] = str(limits.memory_bytes)
        files[f"{pids}/pids.max"] = "max" if limits.pids_max is None else str(limits.pids_max)
        return files

    def container_ids(self) -> list[str]:
        found: set[str] = set()
        for base in self._distinct_bases:
            try:
                with os.scandir(base) as entries:
                    found.update(e.name for e in entries if e.is_dir(follow_symlinks=False))
            except FileNotFoundError:
                pass
        return sorted(found)

    def process_join_files(self, container_id: str) -> list[str]:
        return [f"{d}/cgroup.procs" for d in self.directories(container_id)]

    def thread_join_files(self, container_id: str) -> list[str] | None:
        return [f"{d}/tasks" for d in self.directories(container_id)]

    def thread_home_files(self, tid: int) -> list[str]:
        """Where thread `tid` is now, per hierarchy. A cgroup outside the mounted subtree (an
        agent inside a container that was given only a subtree of its own, e.g. a test host)
        cannot be returned to: the thread's home is then this agent's cgroups root there."""
        paths = _cgroup_paths(read_text(f"/proc/self/task/{tid}/cgroup"))
        files = []
        for point, (mount_root, controllers) in self._distinct.items():
            path = paths[next(iter(controllers))]
            relative = posixpath.relpath(path, mount_root)
            if relative == ".." or relative.startswith("../"):
                files.append(f"{point}/{self.root}/tasks")
            elif relative == ".":
                files.append(f"{point}/tasks")
            else:
                files.append(str(point / relative / "tasks"))
        return files

    def procs(self, container_id: str) -> list[int]:
        try:
            text = read_text(f"{self._dir('freezer', container_id)}/cgroup.procs")
        except FileNotFoundError:
            return []
        return [int(pid) for pid in text.split()]

    def contains(self, container_id: str, pid: int) -> bool:
        try:
            paths = _cgroup_paths(read_text(f"/proc/{pid}/cgroup"))
        except (FileNotFoundError, ProcessLookupError):
            return False
        mount_root = self._mounts["freezer"][1]
        return paths.get("freezer") == posixpath.join(mount_root, self.root, container_id)

    def freeze(self, container_id: str) -> bool:
        state = f"{self._dir('freezer', container_id)}/freezer.state"
        try:
            write_text(state, "FROZEN")
        except FileNotFoundError:
            return False
        # FREEZING lasts while a task sits in an uninterruptible sleep; SIGKILL goes on anyway.
        wait_until(lambda: read_text(state).strip() == "FROZEN", _FREEZE_TIMEOUT)
        return True

    def thaw(self, container_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            write_text(f"{self._dir('freezer', container_id)}/freezer.state", "THAWED")

    def oom_kills(self, container_id: str) -> int:
        try:
            text = read_text(f"{self._dir('memory', container_id)}/memory.oom_control")
        except FileNotFoundError:
            return 0
        return flat_keyed(text).get("oom_kill", 0)

    def usage(self, container_id: str) -> dict[str, float]:
        memory, cpu = self._dir("memory", container_id), self._dir("cpu", container_id)
        stat = flat_keyed(read_text(f"{memory}/memory.stat"))
        ticks = flat_keyed(read_text(f"{self._dir('cpuacct', container_id)}/cpuacct.stat"))
        quota = int(read_text(f"{cpu}/cpu.cfs_quota_us"))
        if quota > 0:
            cpus = quota / int(read_text(f"{cpu}/cpu.cfs_period_us"))
        else:
            cpus = int(read_text(f"{cpu}/cpu.shares")) / CPU_SHARES_PER_CPU
        return {
            "mem_rss_bytes": float(stat.get("total_rss", stat.get("rss", 0))),
            "mem_limit_bytes": float(read_text(f"{memory}/memory.limit_in_bytes")),
            "cpus_user_time_secs": ticks.get("user", 0) / _CLOCK_TICKS,
            "cpus_system_time_secs": ticks.get("system", 0) / _CLOCK_TICKS,
            "cpus_limit": cpus,
            "processes": float(len(self.procs(container_id))),
        }


def _cgroup_paths(text: str) -> dict[str, str]:
    """/proc/<pid>/cgroup (`id:controllers:path`) -> controller -> hierarchy path (v1 only)."""
    paths = {}
    for line in text.splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            if controller:
                paths[controller] = path
    return paths
