"""The cgroups adapter on fake trees: mountinfo parsing, detection, and the files each version
writes. (Real cgroups are in tests/integration/agent/test_containerizer.py.)"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest

from daemons.agent.containerizer.cgroups import flat_keyed, parse_mountinfo
from daemons.agent.containerizer.cgroups_v1 import V1Hierarchy, _cgroup_paths
from daemons.agent.containerizer.cgroups_v2 import V2Hierarchy
from daemons.agent.containerizer.detection import detect
from daemons.agent.containerizer.errors import IsolationUnavailable
from daemons.agent.containerizer.limits import limits_for

# What this machine kind shows (hybrid: v1 controllers, an empty v2 `unified`), plus a co-mounted
# cpu,cpuacct as Debian's systemd would mount it and a path with an escaped space.
HYBRID = """\
25 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw
35 25 0:30 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw
36 25 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct
37 25 0:32 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory
38 25 0:33 / /sys/fs/cgroup/pids rw,nosuid - cgroup cgroup rw,pids
39 25 0:34 / /sys/fs/cgroup/free\\040zer rw,nosuid - cgroup cgroup rw,freezer
40 25 0:35 / /sys/fs/cgroup/systemd rw,nosuid - cgroup cgroup rw,xattr,name=systemd
"""


def test_parse_mountinfo_keeps_cgroup_mounts_only() -> None:
    mounts = parse_mountinfo(HYBRID)
    assert [m.fstype for m in mounts] == ["cgroup2"] + ["cgroup"] * 5
    assert mounts[1].mount_point == "/sys/fs/cgroup/cpu,cpuacct"
    assert {"cpu", "cpuacct"} <= mounts[1].super_options
    assert mounts[4].mount_point == "/sys/fs/cgroup/free zer"  # \040 unescaped
    assert all(m.root == "/" for m in mounts)


def test_detect_picks_v1_when_the_v2_mount_has_no_controllers() -> None:
    hierarchy = detect("pydcos", HYBRID)  # /sys/fs/cgroup/unified here offers none
    assert isinstance(hierarchy, V1Hierarchy)
    assert hierarchy.directories("c1") == [
        "/sys/fs/cgroup/cpu,cpuacct/pydcos/c1",  # co-mounted: one directory for both
        "/sys/fs/cgroup/memory/pydcos/c1",
        "/sys/fs/cgroup/pids/pydcos/c1",
        "/sys/fs/cgroup/free zer/pydcos/c1",
    ]
    assert hierarchy.thread_join_files("c1") == [f"{d}/tasks" for d in hierarchy.directories("c1")]


def test_detect_picks_v2_when_a_cgroup2_mount_offers_the_controllers(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory hugetlb pids rdma\n")
    text = f"30 1 0:26 / {tmp_path} rw - cgroup2 cgroup2 rw,nsdelegate\n"
    hierarchy = detect("pydcos", text)
    assert isinstance(hierarchy, V2Hierarchy)
    assert hierarchy.directories("c1") == [f"{tmp_path}/pydcos/c1"]
    assert hierarchy.thread_join_files("c1") is None  # v2 moves processes, not threads


# A container (an nspawn test host) whose read-only hierarchies are each hidden by its own
# subtree bound on top, with the fresh mounts it was bound from still visible elsewhere.
STACKED = """\
25 30 0:22 / /sys rw - sysfs sysfs rw
50 25 0:40 / /sys/fs/cgroup/freezer ro,nosuid - cgroup cgroup rw,freezer
51 25 0:41 / /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory
52 25 0:42 / /sys/fs/cgroup/cpu ro,nosuid - cgroup cgroup rw,cpu
53 25 0:43 / /sys/fs/cgroup/cpuacct ro,nosuid - cgroup cgroup rw,cpuacct
54 25 0:44 / /sys/fs/cgroup/pids ro,nosuid - cgroup cgroup rw,pids
60 30 0:40 / /run/dcos-testhost/freezer rw - cgroup cgroup rw,freezer
61 50 0:40 /dcos-nodes/a1 /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer
62 30 0:41 / /run/dcos-testhost/memory rw - cgroup cgroup rw,memory
63 51 0:41 /dcos-nodes/a1 /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
64 52 0:42 /dcos-nodes/a1 /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu
65 53 0:43 /dcos-nodes/a1 /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct
66 54 0:44 /dcos-nodes/a1 /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
"""


def test_detect_uses_the_mount_on_top_of_a_mount_point(tmp_path: Path) -> None:
    hierarchy = detect("pydcos", STACKED)
    assert isinstance(hierarchy, V1Hierarchy)
    assert "/sys/fs/cgroup/freezer/pydcos/c1" in hierarchy.directories("c1")
    # Recovery compares /proc/<pid>/cgroup with the hierarchy path mounted there: the bound one.
    assert hierarchy._mounts["freezer"] == (Path("/sys/fs/cgroup/freezer"), "/dcos-nodes/a1")
    assert hierarchy._mounts["memory"][1] == "/dcos-nodes/a1"


def test_detect_without_usable_cgroups_says_what_is_missing() -> None:
    only_memory = "37 25 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    with pytest.raises(IsolationUnavailable, match="cpu, cpuacct, pids, freezer"):
        detect("pydcos", only_memory)


def _v1_tree(tmp_path: Path) -> V1Hierarchy:
    mounts = {c: (tmp_path / c, "/") for c in ("cpu", "cpuacct", "memory", "pids", "freezer")}
    hierarchy = V1Hierarchy("pydcos", mounts)
    files = {
        "cpu": ["cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us"],
        "memory": ["memory.limit_in_bytes"],
        "pids": ["pids.max"],
    }
    for controller, names in files.items():
        directory = tmp_path / controller / "pydcos" / "c1"
        directory.mkdir(parents=True)
        for name in names:
            (directory / name).write_text("")
    return hierarchy


def test_v1_apply_writes_every_limit(tmp_path: Path) -> None:
    hierarchy = _v1_tree(tmp_path)
    hierarchy.apply("c1", limits_for(0.5, 64, 100, cfs_enabled=True, cfs_period_us=100_000))
    cpu = tmp_path / "cpu/pydcos/c1"
    assert (cpu / "cpu.shares").read_text() == "512"
    assert (cpu / "cpu.cfs_period_us").read_text() == "100000"
    assert (cpu / "cpu.cfs_quota_us").read_text() == "50000"
    assert (tmp_path / "memory/pydcos/c1/memory.limit_in_bytes").read_text() == str(64 << 20)
    assert (tmp_path / "pids/pydcos/c1/pids.max").read_text() == "100"
    hierarchy.apply("c1", limits_for(0.5, 64, None, cfs_enabled=False, cfs_period_us=100_000))
    assert (cpu / "cpu.cfs_quota_us").read_text() == "-1"
    assert (tmp_path / "pids/pydcos/c1/pids.max").read_text() == "max"
    assert hierarchy.container_ids() == ["c1"]


def test_v1_thread_home_files_point_at_the_threads_own_cgroups(tmp_path: Path) -> None:
    hierarchy = _v1_tree(tmp_path)
    tid = threading.get_native_id()
    paths = _cgroup_paths(Path(f"/proc/self/task/{tid}/cgroup").read_text())
    if not {"cpu", "memory"} <= paths.keys():
        pytest.skip("this host has no cgroup v1 cpu/memory hierarchy")
    homes = hierarchy.thread_home_files(tid)
    assert f"{tmp_path}/memory{paths['memory'].rstrip('/')}/tasks".replace("//", "/") in homes


def test_v2_apply_converts_shares_to_weight(tmp_path: Path) -> None:
    hierarchy = V2Hierarchy("pydcos", tmp_path)
    directory = tmp_path / "pydcos" / "c1"
    directory.mkdir(parents=True)
    for name in ("cpu.weight", "cpu.max", "memory.max", "pids.max"):
        (directory / name).write_text("")
    hierarchy.apply("c1", limits_for(1.0, 128, 64, cfs_enabled=True, cfs_period_us=100_000))
    assert (directory / "cpu.weight").read_text() == "39"
    assert (directory / "cpu.max").read_text() == "100000 100000"
    assert (directory / "memory.max").read_text() == str(128 << 20)
    assert (directory / "pids.max").read_text() == "64"
    hierarchy.apply("c1", limits_for(1.0, 128, None, cfs_enabled=False, cfs_period_us=100_000))
    assert (directory / "cpu.max").read_text() == "max 100000"


def test_v2_oom_kills_come_from_memory_events(tmp_path: Path) -> None:
    hierarchy = V2Hierarchy("pydcos", tmp_path)
    assert hierarchy.oom_kills("c1") == 0  # no cgroup: none
    directory = tmp_path / "pydcos" / "c1"
    directory.mkdir(parents=True)
    (directory / "memory.events").write_text("low 0\nhigh 0\nmax 7\noom 2\noom_kill 1\n")
    assert hierarchy.oom_kills("c1") == 1


def test_flat_keyed_reads_v1_oom_control() -> None:
    text = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"
    assert flat_keyed(text) == {"oom_kill_disable": 0, "under_oom": 0, "oom_kill": 3}


def test_cgroup_paths_splits_comounted_controllers() -> None:
    text = "4:memory:/pydcos/c1\n2:cpu,cpuacct:/pydcos/c1\n1:name=systemd:/\n0::/\n"
    paths = _cgroup_paths(text)
    assert paths["cpu"] == paths["cpuacct"] == paths["memory"] == "/pydcos/c1"


def test_v1_thread_home_outside_the_mounted_subtree_is_the_agents_root(tmp_path: Path) -> None:
    """In a test host only `/dcos-nodes/<node>` is mounted, while the agent's own cgroup lies
    outside it (`../..` from there): the launcher thread then goes home to the agent's root
    (this failed every launch after the first before)."""
    tid = threading.get_native_id()
    paths = _cgroup_paths(Path(f"/proc/self/task/{tid}/cgroup").read_text())
    if not {"cpu", "memory", "pids", "freezer"} <= paths.keys():
        pytest.skip("this host has no cgroup v1 hierarchies")
    unrelated = "/dcos-nodes/no-such-node-" + uuid.uuid4().hex[:8]
    mounts = {c: (tmp_path / c, unrelated) for c in ("cpu", "cpuacct", "memory", "pids", "freezer")}
    homes = V1Hierarchy("pydcos", mounts).thread_home_files(tid)
    assert sorted(homes) == sorted(
        f"{tmp_path}/{c}/pydcos/tasks" for c in ("cpu", "cpuacct", "memory", "pids", "freezer")
    )
