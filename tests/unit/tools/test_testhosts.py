"""tools/testhosts.py without root: names, addresses, argument parsing, command lines, cgroup paths.

Nothing here touches the machine (the integration test boots real nodes).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tools import testhosts

# This machine's shape: cgroup v1 hierarchies, one per controller, plus the unified one (hybrid).
MOUNTINFO = """\
23 1 254:0 / / rw,relatime - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
PROC_CGROUP = """\
9:name=systemd:/
8:pids:/
6:freezer:/
4:memory:/ci/job 42
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/
"""
NAME = "dcos-testhost.c1.n1"


# --- names and addresses ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a", "local", "tht-itest", "a1-b2", "x" * 20])
def test_good_cluster_names(name: str) -> None:
    assert testhosts.validate_cluster_name(name) == name


@pytest.mark.parametrize("name", ["", "-a", "a-", "A", "a_b", "a.b", "a/b", "x" * 21, "é"])
def test_bad_cluster_names(name: str) -> None:
    with pytest.raises(testhosts.TestHostError, match="cluster name"):
        testhosts.validate_cluster_name(name)


@pytest.mark.parametrize("name", ["n", "master1", "agent-10", "x" * 30])
def test_good_node_names(name: str) -> None:
    assert testhosts.validate_node_name(name) == name


@pytest.mark.parametrize("name", ["", "-n", "n-", "N1", "n 1", "n.1", "../x", "x" * 31])
def test_bad_node_names(name: str) -> None:
    with pytest.raises(testhosts.TestHostError, match="node name"):
        testhosts.validate_node_name(name)


@pytest.mark.parametrize(
    ("address", "canonical"), [("198.18.0.2", "198.18.0.2"), ("198.18.0.254", "198.18.0.254")]
)
def test_good_addresses(address: str, canonical: str) -> None:
    assert testhosts.validate_address(address) == canonical


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("198.18.0.0", "reserved"),
        ("198.18.0.1", "reserved"),
        ("198.18.0.255", "reserved"),
        ("198.18.1.5", "outside"),
        ("198.19.0.5", "outside"),
        ("10.0.0.1", "outside"),
        ("127.0.0.1", "outside"),
        ("192.0.2.2", "outside"),
        ("::1", "not an IPv4 address"),
        ("198.18.0", "not an IPv4 address"),
        ("198.18.0.011", "not an IPv4 address"),  # leading zeros: octal or not?
        ("node", "not an IPv4 address"),
        ("", "not an IPv4 address"),
    ],
)
def test_bad_addresses(address: str, reason: str) -> None:
    with pytest.raises(testhosts.TestHostError, match=reason):
        testhosts.validate_address(address)


def test_parse_node_specs() -> None:
    specs = ["m1=198.18.0.11", "a1=198.18.0.21"]
    assert testhosts.parse_node_specs(specs) == {"m1": "198.18.0.11", "a1": "198.18.0.21"}


@pytest.mark.parametrize(
    ("specs", "problem"),
    [
        ([], "no nodes"),
        (["m1"], "expected NODE=IP"),
        (["m1:198.18.0.11"], "expected NODE=IP"),
        (["=198.18.0.11"], "node name"),
        (["m1=198.18.0.1"], "reserved"),
        (["m1=198.18.0.11", "m1=198.18.0.12"], "given twice"),
        (["m1=198.18.0.11", "m2=198.18.0.11"], "given twice"),
        (["M1=198.18.0.11"], "node name"),
    ],
)
def test_parse_node_specs_refuses(specs: list[str], problem: str) -> None:
    with pytest.raises(testhosts.TestHostError, match=problem):
        testhosts.parse_node_specs(specs)


def test_interface_names_are_short_stable_and_distinct() -> None:
    veth = testhosts.veth_name("local", "master1")
    assert veth == testhosts.veth_name("local", "master1")
    assert veth.startswith("vd-") and len(veth) == 11
    assert veth != testhosts.veth_name("other", "master1")
    assert veth != testhosts.veth_name("local", "master2")
    # "a-b"/"c" and "a"/"b-c" must not meet in the netns or machine name
    assert testhosts.netns_name("a-b", "c") != testhosts.netns_name("a", "b-c")
    assert testhosts.machine_name("a-b", "c") != testhosts.machine_name("a", "b-c")


names = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?", fullmatch=True)


@given(names, names)
def test_veth_names_fit_ifnamsiz(cluster: str, node: str) -> None:
    veth = testhosts.veth_name(cluster, node)
    assert len(veth) <= 15 and veth.isascii()


@given(st.tuples(names, names), st.tuples(names, names))
def test_netns_names_are_unique(one: tuple[str, str], two: tuple[str, str]) -> None:
    if one != two:
        assert testhosts.netns_name(*one) != testhosts.netns_name(*two)


def test_paths() -> None:
    assert testhosts.key_path("c1") == Path("/var/lib/dcos-nodes/c1/id_ed25519")
    assert testhosts.known_hosts_path("c1") == Path("/var/lib/dcos-nodes/c1/known_hosts")
    assert testhosts.node_dir("c1", "n1") == Path("/var/lib/dcos-nodes/c1/nodes/n1")
    with pytest.raises(testhosts.TestHostError):
        testhosts.node_dir("c1", "../../etc")
    with pytest.raises(testhosts.TestHostError):
        testhosts.key_path("../c1")


# --- command lines ------------------------------------------------------------------------------


def test_nspawn_argv() -> None:
    argv = testhosts.nspawn_argv(
        Path("/var/lib/dcos-nodes/c1/nodes/n1/root"), "dcos.c1.n1", "n1", "dcos.c1.n1", ["/work"]
    )
    assert argv[:4] == ["systemd-nspawn", "-b", "-D", "/var/lib/dcos-nodes/c1/nodes/n1/root"]
    for flag in (
        "--register=no",
        "--keep-unit",
        "--hostname=n1",
        "--network-namespace-path=/run/netns/dcos.c1.n1",
        "--capability=CAP_NET_ADMIN",  # its own addresses (the DNS proxy's), in its own netns
        "--tmpfs=/work",
    ):
        assert flag in argv
    assert argv[argv.index("-M") + 1] == "dcos.c1.n1"
    assert not any(arg.startswith("--bind") for arg in argv)


def test_ssh_argv() -> None:
    argv = testhosts.ssh_argv("c1", "198.18.0.11", "systemctl", "is-system-running")
    assert argv[0] == "ssh"
    assert argv[argv.index("-i") + 1] == "/var/lib/dcos-nodes/c1/id_ed25519"
    assert "BatchMode=yes" in argv
    assert "UserKnownHostsFile=/var/lib/dcos-nodes/c1/known_hosts" in argv
    assert argv[-3:] == ["root@198.18.0.11", "systemctl", "is-system-running"]


def test_units_to_mask_keeps_ssh_and_targets() -> None:
    masked = testhosts.units_to_mask(
        ["ssh.service", "cron.service", "remote-fs.target", "fstrim.timer", "getty@tty1.service"]
    )
    assert "ssh.service" not in masked and "remote-fs.target" not in masked
    assert {"cron.service", "fstrim.timer", "getty@tty1.service"} <= set(masked)
    assert set(testhosts.MASKED_UNITS) <= set(masked)


def test_cgroup_script_and_unit() -> None:
    script = testhosts.cgroup_script("n1")
    assert script.startswith("#!/bin/sh\n")
    assert "for c in cpu cpuacct memory pids freezer; do" in script
    assert 'mount --bind "$top/dcos-nodes/n1" "/sys/fs/cgroup/$c"' in script
    unit = testhosts.cgroup_unit()
    assert "DefaultDependencies=no" in unit and "Before=sysinit.target" in unit
    assert f"ExecStart=/{testhosts.CGROUP_SCRIPT}" in unit and "WantedBy=sysinit.target" in unit


# --- cgroups ------------------------------------------------------------------------------------


def test_own_cgroup_dirs() -> None:
    assert testhosts.own_cgroup_dirs(PROC_CGROUP, MOUNTINFO) == {
        "name=systemd": "/sys/fs/cgroup/systemd",
        "pids": "/sys/fs/cgroup/pids",
        "freezer": "/sys/fs/cgroup/freezer",
        "memory": "/sys/fs/cgroup/memory/ci/job 42",
        "cpuacct": "/sys/fs/cgroup/cpuacct",
        "cpu": "/sys/fs/cgroup/cpu",
        "unified": "/sys/fs/cgroup/unified",
    }  # not cpuset (a new cpuset cgroup has no CPUs) nor blkio/devices


def test_own_cgroup_dirs_comounted_and_escaped() -> None:
    mountinfo = (
        "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
        "35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
        "36 31 0:33 / /mnt/my\\040cg rw - cgroup cgroup rw,pids\n"
    )
    proc = "3:cpu,cpuacct:/a\n2:memory:/docker/abc/b\n1:pids:/c\n0::/\n"
    assert testhosts.own_cgroup_dirs(proc, mountinfo) == {
        "cpu,cpuacct": "/sys/fs/cgroup/cpu,cpuacct/a",
        "memory": "/sys/fs/cgroup/memory/b",
        "pids": "/mnt/my cg/c",
    }  # no cgroup2 mount: no unified entry


def test_is_node_cgroup_dir() -> None:
    good = f"/sys/fs/cgroup/memory/ci/{NAME}"
    assert testhosts.is_node_cgroup_dir(good, "c1", "n1")
    assert not testhosts.is_node_cgroup_dir(good, "c1", "n2")
    assert not testhosts.is_node_cgroup_dir(f"/tmp/{NAME}", "c1", "n1")
    assert not testhosts.is_node_cgroup_dir(f"/sys/fs/cgroup/../../tmp/{NAME}", "c1", "n1")
    assert not testhosts.is_node_cgroup_dir(f"sys/fs/cgroup/memory/{NAME}", "c1", "n1")
    assert not testhosts.is_node_cgroup_dir("/sys/fs/cgroup/memory", "c1", "n1")


# --- command line -------------------------------------------------------------------------------


def test_parser_up() -> None:
    args = testhosts.build_parser().parse_args(
        ["up", "--cluster", "c1", "--key-dir", "/k", "n1=198.18.0.11", "n2=198.18.0.12"]
    )
    assert (args.command, args.cluster, args.key_dir) == ("up", "c1", Path("/k"))
    assert args.nodes == ["n1=198.18.0.11", "n2=198.18.0.12"]
    assert args.timeout == testhosts.BOOT_TIMEOUT


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["down", "--cluster", "c1"], {"command": "down", "nodes": []}),
        (["down", "--cluster", "c1", "n1", "n2"], {"command": "down", "nodes": ["n1", "n2"]}),
        (["stop", "--cluster", "c1", "n1"], {"command": "stop", "node": "n1"}),
        (["start", "--cluster", "c1", "n1"], {"command": "start", "node": "n1"}),
        (["cut", "--cluster", "c1", "n1"], {"command": "cut", "node": "n1"}),
        (["heal", "--cluster", "c1", "n1"], {"command": "heal", "node": "n1"}),
        (["status", "--cluster", "c1"], {"command": "status"}),
    ],
)
def test_parser_commands(argv: list[str], expected: dict[str, object]) -> None:
    args = vars(testhosts.build_parser().parse_args(argv))
    assert args["cluster"] == "c1"
    assert {key: args[key] for key in expected} == expected


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["up", "--cluster", "c1"],  # no nodes
        ["up", "n1=198.18.0.11"],  # no cluster
        ["stop", "--cluster", "c1"],  # no node
        ["stop", "--cluster", "c1", "n1", "n2"],
        ["reboot", "--cluster", "c1"],
    ],
)
def test_parser_refuses(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        testhosts.build_parser().parse_args(argv)
    assert exit_info.value.code == 2


def test_main_reports_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert testhosts.main(["up", "--cluster", "c1", "n1=10.0.0.1"]) == 1
    assert "outside 198.18.0.0/24" in capsys.readouterr().err
    assert testhosts.main(["down", "--cluster", "Bad"]) == 1
    assert "bad cluster name" in capsys.readouterr().err


def test_changes_need_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(testhosts.os, "geteuid", lambda: 1000)
    with pytest.raises(testhosts.TestHostError, match="need root"):
        testhosts.up("c1", {"n1": "198.18.0.11"})
    with pytest.raises(testhosts.TestHostError, match="need root"):
        testhosts.down("c1")
