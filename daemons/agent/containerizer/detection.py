"""Which cgroups this host offers: `detect()` picks the v2 or the v1 `Hierarchy` at start.

It reads /proc/self/mountinfo once: a cgroup2 mount whose `cgroup.controllers` offers cpu, memory
and pids wins (pure v2, or a hybrid host with controllers on `unified`); otherwise the v1
hierarchies of cpu, cpuacct, memory, pids and freezer are used wherever they are mounted
(separately or co-mounted as `cpu,cpuacct`).
"""

from __future__ import annotations

from pathlib import Path

from daemons.agent.containerizer.cgroups import (
    V1_CONTROLLERS,
    V2_CONTROLLERS,
    Hierarchy,
    Mount,
    parse_mountinfo,
    read_text,
)
from daemons.agent.containerizer.cgroups_v1 import V1Hierarchy
from daemons.agent.containerizer.cgroups_v2 import V2Hierarchy
from daemons.agent.containerizer.errors import IsolationUnavailable


def visible_v1(mounts: list[Mount]) -> list[Mount]:
    """The mounts a path lookup reaches: a later mount on the same point hides the earlier one
    (e.g. a container's own subtree bound over a read-only hierarchy); those under /sys/fs/cgroup
    come first."""
    top: dict[str, Mount] = {}
    for mount in mounts:
        top.pop(mount.mount_point, None)
        top[mount.mount_point] = mount
    return sorted(top.values(), key=lambda m: not m.mount_point.startswith("/sys/fs/cgroup/"))


def detect(root: str, mountinfo: str | None = None) -> Hierarchy:
    """The hierarchy this host offers: v2 where a cgroup2 mount has the controllers, else v1."""
    text = mountinfo if mountinfo is not None else read_text("/proc/self/mountinfo")
    mounts = parse_mountinfo(text)
    for mount in mounts:
        if mount.fstype != "cgroup2":
            continue
        try:
            offered = set(read_text(f"{mount.mount_point}/cgroup.controllers").split())
        except OSError:
            continue
        if offered.issuperset(V2_CONTROLLERS):
            return V2Hierarchy(root, Path(mount.mount_point), mount.root)
    v1 = {}
    for mount in visible_v1(mounts):
        if mount.fstype == "cgroup":
            for controller in V1_CONTROLLERS:
                if controller in mount.super_options and controller not in v1:
                    v1[controller] = mount
    missing = [c for c in V1_CONTROLLERS if c not in v1]
    if missing:
        raise IsolationUnavailable(
            f"no cgroup2 mount offers {', '.join(V2_CONTROLLERS)} and cgroup v1 lacks "
            f"{', '.join(missing)}"
        )
    return V1Hierarchy(root, {c: (Path(m.mount_point), m.root) for c, m in v1.items()})
