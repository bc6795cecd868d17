"""cgroup v2: one directory per container under `<mount>/<root>`, with cpu, memory and pids
enabled in `<root>/cgroup.subtree_control`. Files: cpu.weight, cpu.max, memory.max, pids.max,
cgroup.freeze (+ `frozen` in cgroup.events), cgroup.kill (kernel >= 5.14), memory.events
(`oom_kill`), memory.stat (`anon`), cpu.stat. Threads cannot leave their process here, so the
launcher joins through a process (see launch.py).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from pathlib import Path

from daemons.agent.containerizer.cgroups import (
    V2_CONTROLLERS,
    Hierarchy,
    flat_keyed,
    read_text,
    wait_until,
    write_text,
)
from daemons.agent.containerizer.limits import Limits, cpu_weight

_FREEZE_TIMEOUT = 2.0
_ENABLE = " ".join(f"+{c}" for c in V2_CONTROLLERS)


class V2Hierarchy(Hierarchy):
    version = 2

    def __init__(self, root: str, mount_point: Path, mount_root: str = "/") -> None:
        super().__init__(root)
        self._mount = mount_point
        self._mount_root = mount_root

    def _dir(self, container_id: str) -> str:
        return str(self._mount / self.root / container_id)

    def directories(self, container_id: str) -> list[str]:
        return [self._dir(container_id)]

    def prepare(self) -> None:
        # Controllers reach a child only if every ancestor enables them for its children.
        top = self._mount / self.root
        enabled = set(read_text(f"{self._mount}/cgroup.subtree_control").split())
        if not enabled.issuperset(V2_CONTROLLERS):
            write_text(f"{self._mount}/cgroup.subtree_control", _ENABLE)
        os.makedirs(top, exist_ok=True)
        write_text(f"{top}/cgroup.subtree_control", _ENABLE)

    def limit_files(self, container_id: str, limits: Limits) -> dict[str, str]:
        d = self._dir(container_id)
        quota = "max" if limits.cfs_quota_us is None else str(limits.cfs_quota_us)
        return {
            f"{d}/cpu.weight": str(cpu_weight(limits.cpu_shares)),
            f"{d}/cpu.max": f"{quota} {limits.cfs_period_us}",
            f"{d}/memory.max": str(limits.memory_bytes),
            f"{d}/pids.max": "max" if limits.pids_max is None else str(limits.pids_max),
        }

    def container_ids(self) -> list[str]:
        try:
            with os.scandir(self._mount / self.root) as entries:
                return sorted(e.name for e in entries if e.is_dir(follow_symlinks=False))
        except FileNotFoundError:
            return []

    def process_join_files(self, container_id: str) -> list[str]:
        return [f"{self._dir(container_id)}/cgroup.procs"]

    def procs(self, container_id: str) -> list[int]:
        try:
            return [
                int(pid) for pid in read_text(f"{self._dir(container_id)}/cgroup.procs").split()
            ]
        except FileNotFoundError:
            return []

    def contains(self, container_id: str, pid: int) -> bool:
        try:
            text = read_text(f"/proc/{pid}/cgroup")
        except (FileNotFoundError, ProcessLookupError):
            return False
        expected = posixpath.join(self._mount_root, self.root, container_id)
        return any(line == f"0::{expected}" for line in text.splitlines())

    def kill_all(self, container_id: str) -> None:
        kill = f"{self._dir(container_id)}/cgroup.kill"
        if os.path.exists(kill):  # one atomic write kills the whole subtree, forks included
            write_text(kill, "1")
        else:
            super().kill_all(container_id)

    def freeze(self, container_id: str) -> bool:
        d = self._dir(container_id)
        try:
            write_text(f"{d}/cgroup.freeze", "1")
        except FileNotFoundError:
            return False
        events = f"{d}/cgroup.events"
        wait_until(lambda: flat_keyed(read_text(events)).get("frozen") == 1, _FREEZE_TIMEOUT)
        return True

    def thaw(self, container_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            write_text(f"{self._dir(container_id)}/cgroup.freeze", "0")

    def oom_kills(self, container_id: str) -> int:
        try:
            text = read_text(f"{self._dir(container_id)}/memory.events")
        except FileNotFoundError:
            return 0
        return flat_keyed(text).get("oom_kill", 0)

    def usage(self, container_id: str) -> dict[str, float]:
        d = self._dir(container_id)
        stat = flat_keyed(read_text(f"{d}/memory.stat"))
        cpu = flat_keyed(read_text(f"{d}/cpu.stat"))
        limit = read_text(f"{d}/memory.max").strip()
        quota, _, period = read_text(f"{d}/cpu.max").strip().partition(" ")
        if quota != "max":
            cpus = int(quota) / int(period)
        else:  # weight back to shares-like cores (approximate, as the conversion rounds)
            cpus = (int(read_text(f"{d}/cpu.weight")) - 1) * 262_142 / 9999 / 1024
        return {
            "mem_rss_bytes": float(stat.get("anon", 0)),
            "mem_limit_bytes": 0.0 if limit == "max" else float(limit),
            "cpus_user_time_secs": cpu.get("user_usec", 0) / 1e6,
            "cpus_system_time_secs": cpu.get("system_usec", 0) / 1e6,
            "cpus_limit": cpus,
            "processes": float(len(self.procs(container_id))),
        }
