"""Test hosts: throwaway "machines" (full systemd + sshd) made from this host's own root filesystem.

A test host (a *node*) is an overlay of `/` (lower, read-only) with its own upper directory,
booted with `systemd-nspawn -b --register=no` in its own network namespace whose `eth0` is one end
of a veth pair plugged into the bridge `dcosbr0` (198.18.0.1/24, the host's side). Inside: its own
hostname (= node name), machine-id, ssh host keys, root's `authorized_keys` and private key (one
ed25519 key pair per cluster, so the controller reaches every node and every node reaches the
others), and a writable cgroup v1 subtree for cpu, cpuacct, memory, pids and freezer (nspawn
mounts the v1 hierarchies read-only; a oneshot unit seeded into the node mounts fresh ones under
/run/dcos-testhost and binds `<hierarchy>/dcos-nodes/<node>` over /sys/fs/cgroup/<controller>).
Each nspawn starts in cgroups of its own, `dcos-testhost.<cluster>.<node>` under its starter's
cgroup in those hierarchies, name=systemd and the unified one: nspawn puts its `supervisor` and
`payload` cgroups beside itself, so two nspawns in one cgroup would share them. The node has its
own cgroup namespace rooted there, so its writable subtree is `<that>/dcos-nodes/<node>` on the
host; stopping the node kills (by PID) whatever is left in those cgroups and removes them.
Host units a fresh node must not run (databases, timers, gettys, ...) are masked in the node.
Host folders the node must not see (/work, /tmp, /root/.pyenv, /root/.cargo, the state dir) are
hidden under empty tmpfs mounts. Needs root, `systemd-nspawn`, `ssh`/`sshd`, `ip`; works without
systemd as PID 1 (nothing is registered with machined, no scopes are made).

Commands (`python -m tools.testhosts ...`; each prints JSON where it has something to say):

    up     --cluster NAME [--key-dir DIR] NODE=IP ...   create and boot the missing nodes (a node
           whose directory exists but whose nspawn is dead boots again from the same disk), wait
           until each answers ssh and `systemctl is-system-running` says running or degraded;
           prints {"cluster", "key", "known_hosts", "nodes": {node: ip}}
    down   --cluster NAME [NODE ...]   destroy nodes (all of the cluster if none named); tolerates
           half-built ones; removes the cluster dir when it has no node left, and the bridge and
           the state tmpfs when no cluster is left
    stop   --cluster NAME NODE   SIGTERM its nspawn (SIGKILL after 20 s), keep its disk
    start  --cluster NAME NODE   boot a stopped node again from the same disk, wait until ready
    cut    --cluster NAME NODE   set its veth down (network partition); `heal` sets it up again
    status --cluster NAME        {node: {"ip", "running", "pid", "link_up"}}

`--key-dir DIR` takes the cluster's key pair from DIR/id_ed25519{,.pub} (generated there when
missing) instead of generating one; either way it is kept at `key_path(cluster)`, and
`known_hosts_path(cluster)` lists the nodes' host keys (`ssh_argv` uses both).

State: /var/lib/dcos-nodes (a tmpfs, size=16g, mode=0700) holds `<cluster>/id_ed25519{,.pub}`,
`<cluster>/known_hosts` and `<cluster>/nodes/<node>/` with `upper/ work/ root/` (the overlay),
`ip`, `veth`, `netns`, `nspawn.pid`, `console.log`, `seeded` and `cgroups.json` (the node's
cgroups, recorded before it boots). Veth `vd-<8 hex of sha1(cluster/node)>`, netns and nspawn
machine name `dcos.<cluster>.<node>`. Node addresses must lie in 198.18.0.0/24 (not .0, .1, .255)
and be unique on the machine; names are [a-z0-9-] without a leading or trailing `-`, up to 20
(cluster) or 30 (node) characters. Safety: unreachable routes for 198.18.0.0/15 and 198.51.100.0/24
on the host and in every node (the bridge's connected /24 wins), no forwarding or NAT is set up,
and no other address or route is touched (the unreachable routes stay). Processes are stopped by
PID only. Mutations are serialised between concurrent invocations by a lock file under /run/lock.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from tools import processes

BASE = Path("/var/lib/dcos-nodes")
TMPFS_OPTIONS = "size=16g,mode=0700"
LOCK_FILE = Path("/run/lock/dcos-testhosts.lock")
BRIDGE = "dcosbr0"
GATEWAY = "198.18.0.1"
SUBNET = ipaddress.IPv4Network("198.18.0.0/24")
# Unreachable on the host and in every node: whatever is not on the bridge goes nowhere.
UNREACHABLE_ROUTES = ("198.18.0.0/15", "198.51.100.0/24")
CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_CONTROLLERS = ("cpu", "cpuacct", "memory", "pids", "freezer")
CGROUP_SUBTREE = "dcos-nodes"
# Host folders hidden from nodes under an empty tmpfs (those that exist on the host).
HIDDEN_HOST_DIRS = ("/work", "/tmp", "/root/.pyenv", "/root/.cargo", str(BASE))
# Always masked in a node, besides the units enabled in the host's /etc/systemd/system/*.wants.
MASKED_UNITS = (
    "zookeeper.service",
    "nginx.service",
    "postgresql.service",
    "getty@tty1.service",
    "e2scrub_reap.service",
    "systemd-timesyncd.service",
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "man-db.timer",
    "dpkg-db-backup.timer",
    "e2scrub_all.timer",
    "fstrim.timer",
)
KEPT_UNITS = frozenset({"ssh.service", "sshd.service"})
CGROUP_UNIT = "dcos-testhost-cgroups.service"
CGROUP_SCRIPT = "usr/local/lib/dcos-testhost/cgroups.sh"
BOOT_TIMEOUT = 120.0
STOP_GRACE = 20.0
READY_STATES = frozenset({"running", "degraded"})

CLUSTER_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?")
NODE_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,28}[a-z0-9])?")


class TestHostError(RuntimeError):
    """A request that cannot be done (bad name or address, clash) or a step that failed."""

    __test__ = False  # not a pytest test class, whatever its name


# --- names, addresses, paths (pure) -------------------------------------------------------------


def validate_cluster_name(name: str) -> str:
    """`name` if it is a valid cluster name: 1-20 of [a-z0-9-], no edge -."""
    if not CLUSTER_RE.fullmatch(name):
        raise TestHostError(f"bad cluster name {name!r}: 1-20 of [a-z0-9-], no leading/trailing -")
    return name


def validate_node_name(name: str) -> str:
    """`name` if it is a valid node name (also its hostname): 1-30 of [a-z0-9-], no edge -."""
    if not NODE_RE.fullmatch(name):
        raise TestHostError(f"bad node name {name!r}: 1-30 of [a-z0-9-], no leading/trailing -")
    return name


def validate_address(address: str) -> str:
    """`address` in canonical form if it may be a node's: in 198.18.0.0/24, not .0, .1 or .255."""
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError:
        raise TestHostError(f"bad node address {address!r}: not an IPv4 address") from None
    if ip not in SUBNET:
        raise TestHostError(f"node address {ip} is outside {SUBNET}")
    if ip in (SUBNET.network_address, SUBNET.broadcast_address, ipaddress.IPv4Address(GATEWAY)):
        raise TestHostError(f"node address {ip} is reserved (network, bridge or broadcast)")
    return str(ip)


def parse_node_specs(specs: Sequence[str]) -> dict[str, str]:
    """`["n1=198.18.0.11", ...]` as {node: address}, validated; names and addresses unique."""
    nodes: dict[str, str] = {}
    for spec in specs:
        name, sep, address = spec.partition("=")
        if not sep:
            raise TestHostError(f"bad node spec {spec!r}: expected NODE=IP")
        name, address = validate_node_name(name), validate_address(address)
        if name in nodes:
            raise TestHostError(f"node {name} given twice")
        if address in nodes.values():
            raise TestHostError(f"address {address} given twice")
        nodes[name] = address
    if not nodes:
        raise TestHostError("no nodes given")
    return nodes


def _digest(cluster: str, node: str) -> str:
    return hashlib.sha1(f"{cluster}/{node}".encode()).hexdigest()[:8]


def veth_name(cluster: str, node: str) -> str:
    """The host end of the node's veth pair: `vd-` + 8 hex digits (11 chars, IFNAMSIZ is 16)."""
    return f"vd-{_digest(cluster, node)}"


def netns_name(cluster: str, node: str) -> str:
    """The node's network namespace (under /run/netns); `.` never occurs in either name."""
    return f"dcos.{cluster}.{node}"


def machine_name(cluster: str, node: str) -> str:
    """The node's nspawn machine name (nspawn keys host state like /run/systemd/nspawn by it)."""
    return f"dcos.{cluster}.{node}"


def node_cgroup_name(cluster: str, node: str) -> str:
    """The cgroup the node's nspawn runs in, in each hierarchy, under its starter's cgroup."""
    return f"dcos-testhost.{cluster}.{node}"


def cluster_dir(cluster: str) -> Path:
    return BASE / validate_cluster_name(cluster)


def node_dir(cluster: str, node: str) -> Path:
    return cluster_dir(cluster) / "nodes" / validate_node_name(node)


def key_path(cluster: str) -> Path:
    """The cluster's private ssh key (root on every node accepts it; `.pub` beside it)."""
    return cluster_dir(cluster) / "id_ed25519"


def known_hosts_path(cluster: str) -> Path:
    """An ssh known_hosts file with every node's host keys, by address."""
    return cluster_dir(cluster) / "known_hosts"


def ssh_argv(cluster: str, address: str, *command: str) -> list[str]:
    """`ssh` as root to a node of `cluster` at `address`, non-interactive, host keys checked."""
    options = {
        "BatchMode": "yes",
        "IdentitiesOnly": "yes",
        "StrictHostKeyChecking": "yes",
        "UserKnownHostsFile": str(known_hosts_path(cluster)),
        "ConnectTimeout": "3",
        "LogLevel": "ERROR",
    }
    argv = ["ssh", "-F", "/dev/null", "-i", str(key_path(cluster))]
    for key, value in options.items():
        argv += ["-o", f"{key}={value}"]
    return [*argv, f"root@{address}", *command]


def nspawn_argv(
    root: Path, machine: str, hostname: str, netns: str, hidden: Iterable[str]
) -> list[str]:
    """The systemd-nspawn command line booting `root` as `machine` in `netns`."""
    return [
        "systemd-nspawn",
        "-b",
        "-D",
        str(root),
        "-M",
        machine,
        f"--hostname={hostname}",
        "--register=no",
        "--keep-unit",
        f"--network-namespace-path=/run/netns/{netns}",
        # The node's own network namespace: it may change its links and addresses (the DNS
        # proxy's addresses, as on a real host) without touching the host's; nspawn drops
        # CAP_NET_ADMIN for a namespace it did not make itself.
        "--capability=CAP_NET_ADMIN",
        "--resolv-conf=off",
        "--timezone=off",
        "--link-journal=no",
        *(f"--tmpfs={path}" for path in hidden),
    ]


def _cgroup_mounts(mountinfo: str) -> list[tuple[str, set[str], str, str]]:
    """(fstype, super options, mount root, mount point) of every cgroup/cgroup2 mount."""
    mounts = []
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        fields, fs_fields = left.split(), right.split()
        if not sep or len(fields) < 5 or len(fs_fields) < 3:
            continue
        if fs_fields[0] in ("cgroup", "cgroup2"):
            root, point = _unescape_mount(fields[3]), _unescape_mount(fields[4])
            mounts.append((fs_fields[0], set(fs_fields[2].split(",")), root, point))
    return mounts


def _relative_to_mount(path: str, mount_root: str) -> str | None:
    if mount_root == "/":
        return path.lstrip("/")
    if path == mount_root or path.startswith(mount_root.rstrip("/") + "/"):
        return path[len(mount_root) :].lstrip("/")
    return None


def own_cgroup_dirs(proc_cgroup: str, mountinfo: str) -> dict[str, str]:
    """{hierarchy: directory} of a process's cgroups in the hierarchies a node's nspawn is moved in.

    Those are the ones holding CGROUP_CONTROLLERS, name=systemd and the unified one (nspawn makes
    its `supervisor` and `payload` cgroups there, beside itself: two nspawns started in one cgroup
    would share them). `proc_cgroup` is /proc/<pid>/cgroup, `mountinfo` /proc/<pid>/mountinfo.
    """
    mounts = _cgroup_mounts(mountinfo)
    dirs: dict[str, str] = {}
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, path = parts[1], parts[2]
        wanted = set(hierarchy.split(",")) if hierarchy else set()
        if hierarchy and not (wanted & set(CGROUP_CONTROLLERS) or "name=systemd" in wanted):
            continue
        candidates = [
            (root, point)
            for fstype, options, root, point in mounts
            if (fstype == "cgroup2" if not hierarchy else fstype == "cgroup" and wanted <= options)
        ]
        candidates.sort(key=lambda c: not c[1].startswith(f"{CGROUP_ROOT}/"))
        for root, point in candidates:
            relative = _relative_to_mount(path, root)
            if relative is not None:
                dirs[hierarchy or "unified"] = str(Path(point, relative))
                break
    return dirs


def is_node_cgroup_dir(path: str, cluster: str, node: str) -> bool:
    """Whether `path` (read back from cgroups.json) may be one of the node's cgroups."""
    parts = Path(path).parts
    return (
        Path(path).is_absolute()
        and ".." not in parts
        and Path(path).is_relative_to(CGROUP_ROOT)
        and parts[-1] == node_cgroup_name(cluster, node)
    )


def units_to_mask(enabled: Iterable[str]) -> list[str]:
    """The fixed masks plus the host's enabled services/timers/sockets, minus ssh."""
    masked = set(MASKED_UNITS)
    masked.update(unit for unit in enabled if not unit.endswith(".target"))
    return sorted(masked - KEPT_UNITS)


def cgroup_script(node: str) -> str:
    """The node's boot script that makes its cgroup v1 subtree writable (see module doc)."""
    controllers = " ".join(CGROUP_CONTROLLERS)
    return f"""#!/bin/sh
# Seeded by tools/testhosts.py: nspawn mounts the cgroup v1 hierarchies read-only; mount fresh
# ones and bind this node's own subtree over /sys/fs/cgroup/<controller>.
set -eu
for c in {controllers}; do
    top=/run/dcos-testhost/$c
    mkdir -p "$top"
    mountpoint -q "$top" || mount -t cgroup -o "$c" cgroup "$top"
    mkdir -p "$top/{CGROUP_SUBTREE}/{node}"
    mount --bind "$top/{CGROUP_SUBTREE}/{node}" "/sys/fs/cgroup/$c"
done
"""


def cgroup_unit() -> str:
    return f"""[Unit]
Description=Writable cgroup v1 subtree for this test host
DefaultDependencies=no
Before=sysinit.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/{CGROUP_SCRIPT}

[Install]
WantedBy=sysinit.target
"""


NODE_SSH_CONFIG = f"""Host {".".join(GATEWAY.split(".")[:3])}.*
    StrictHostKeyChecking no
    UserKnownHostsFile /dev/null
    LogLevel ERROR
"""


# --- host plumbing ------------------------------------------------------------------------------


def _run(argv: Sequence[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise TestHostError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def _unescape_mount(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def mountpoints() -> set[str]:
    """Every mount point in this mount namespace."""
    text = Path("/proc/self/mountinfo").read_text()
    return {_unescape_mount(line.split()[4]) for line in text.splitlines() if line}


def _link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    """Serialise changes between concurrent invocations (this is also the root check)."""
    if os.geteuid() != 0:
        raise TestHostError("test hosts need root (mounts, namespaces, systemd-nspawn)")
    LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
    with open(LOCK_FILE, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _ensure_base() -> None:
    BASE.mkdir(mode=0o700, parents=True, exist_ok=True)
    if str(BASE) not in mountpoints():
        _run(["mount", "-t", "tmpfs", "-o", TMPFS_OPTIONS, "tmpfs", str(BASE)])


def _add_unreachable(prefix_argv: list[str], prefix: str) -> None:
    proc = _run([*prefix_argv, "route", "add", "unreachable", prefix], check=False)
    if proc.returncode != 0 and "File exists" not in proc.stderr:
        raise TestHostError(f"unreachable route {prefix}: {proc.stderr.strip()}")


def _ensure_bridge() -> None:
    for prefix in UNREACHABLE_ROUTES:
        _add_unreachable(["ip"], prefix)
    if not _link_exists(BRIDGE):
        _run(["ip", "link", "add", BRIDGE, "type", "bridge"])
    _run(["ip", "addr", "replace", f"{GATEWAY}/{SUBNET.prefixlen}", "dev", BRIDGE])
    _run(["ip", "link", "set", BRIDGE, "up"])


def _ensure_netns(cluster: str, node: str, address: str) -> None:
    """The node's netns with eth0 (its veth end) addressed and routed; idempotent."""
    netns, veth = netns_name(cluster, node), veth_name(cluster, node)
    directory = node_dir(cluster, node)
    (directory / "netns").write_text(netns + "\n")
    (directory / "veth").write_text(veth + "\n")
    if not Path("/run/netns", netns).exists():
        _run(["ip", "netns", "add", netns])
    inside = ["ip", "-n", netns]
    if not _link_exists(veth):
        _run([*inside, "link", "del", "eth0"], check=False)  # a half-built pair's orphan end
        _run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns])
        _run(["ip", "link", "set", veth, "master", BRIDGE, "up"])
    _run([*inside, "addr", "replace", f"{address}/{SUBNET.prefixlen}", "dev", "eth0"])
    _run([*inside, "link", "set", "eth0", "up"])
    _run([*inside, "link", "set", "lo", "up"])
    _run([*inside, "route", "replace", "default", "via", GATEWAY])
    for prefix in UNREACHABLE_ROUTES:
        _run([*inside, "route", "replace", "unreachable", prefix])


def _recorded(directory: Path, name: str, default: str) -> str:
    try:
        return (directory / name).read_text().strip() or default
    except OSError:
        return default


# --- the cluster's key --------------------------------------------------------------------------


def _generate_key(path: Path, cluster: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    comment = f"dcos-testhosts-{cluster}"
    _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])


def _ensure_key(cluster: str, key_dir: Path | None) -> None:
    key = key_path(cluster)
    if key_dir is None:
        if not key.exists():
            _generate_key(key, cluster)
        return
    source = key_dir / "id_ed25519"
    if not source.exists():
        _generate_key(source, cluster)
    source_pub = Path(f"{source}.pub")
    if key.exists():
        if key.read_bytes() != source.read_bytes():
            raise TestHostError(f"cluster {cluster} already has another key than {source}")
        return
    for src, dst in ((source, key), (source_pub, Path(f"{key}.pub"))):
        shutil.copyfile(src, dst)
        dst.chmod(0o600)


def _write_known_hosts(cluster: str) -> None:
    lines = []
    for node, address in sorted(nodes_of(cluster).items()):
        ssh_dir = node_dir(cluster, node) / "upper" / "etc" / "ssh"
        for pub in sorted(ssh_dir.glob("ssh_host_*_key.pub")):
            keytype, keydata = pub.read_text().split()[:2]
            lines.append(f"{address} {keytype} {keydata}\n")
    known_hosts_path(cluster).write_text("".join(lines))


# --- a node's disk ------------------------------------------------------------------------------


def _ensure_overlay(directory: Path) -> Path:
    root = directory / "root"
    for sub in ("upper", "work", "root"):
        (directory / sub).mkdir(mode=0o755, exist_ok=True)
    if str(root) not in mountpoints():
        options = f"lowerdir=/,upperdir={directory / 'upper'},workdir={directory / 'work'}"
        _run(["mount", "-t", "overlay", "overlay", "-o", options, str(root)])
    return root


def _host_enabled_units() -> list[str]:
    return [entry.name for entry in Path("/etc/systemd/system").glob("*.wants/*")]


def _write(path: Path, text: str | bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    path.chmod(mode)


def _symlink(path: Path, target: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    path.symlink_to(target)


def _seed_identity(root: Path, node: str) -> None:
    _write(root / "etc/hostname", node + "\n")
    _write(root / "etc/machine-id", uuid.uuid4().hex + "\n", 0o444)
    _write(root / "etc/fstab", "")
    # No name server: a node must never send queries to the host's resolver (an address outside
    # the test network); lookups of other names fail at once on loopback instead of timing out.
    _write(root / "etc/resolv.conf", "# test host: no name server (tools/testhosts.py)\n")
    _write(
        root / "etc/hosts",
        f"127.0.0.1\tlocalhost\n127.0.1.1\t{node}\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    )
    for old in (root / "etc/ssh").glob("ssh_host_*"):
        old.unlink()
    _run(["ssh-keygen", "-A", "-f", str(root)])


def _seed_root_ssh(root: Path, cluster: str) -> None:
    ssh_dir = root / "root/.ssh"
    shutil.rmtree(ssh_dir, ignore_errors=True)  # nothing of the host's own ~/.ssh
    ssh_dir.mkdir(mode=0o700, parents=True)
    key = key_path(cluster)
    public = Path(f"{key}.pub").read_bytes()
    _write(ssh_dir / "authorized_keys", public, 0o600)
    _write(ssh_dir / "id_ed25519", key.read_bytes(), 0o600)
    _write(ssh_dir / "id_ed25519.pub", public, 0o644)
    _write(ssh_dir / "config", NODE_SSH_CONFIG, 0o600)


def _seed_units(root: Path, node: str) -> None:
    system = root / "etc/systemd/system"
    for unit in units_to_mask(_host_enabled_units()):
        _symlink(system / unit, "/dev/null")
    for unit_dir in ("lib/systemd/system", "usr/lib/systemd/system"):
        if (root / unit_dir / "ssh.service").exists():
            _symlink(system / "multi-user.target.wants/ssh.service", f"/{unit_dir}/ssh.service")
            break
    _write(root / CGROUP_SCRIPT, cgroup_script(node), 0o755)
    _write(system / CGROUP_UNIT, cgroup_unit())
    _symlink(system / "sysinit.target.wants" / CGROUP_UNIT, f"/etc/systemd/system/{CGROUP_UNIT}")


def _seed(root: Path, cluster: str, node: str) -> None:
    """Make a fresh overlay of the host into node `node` of `cluster` (once per disk)."""
    _seed_identity(root, node)
    _seed_root_ssh(root, cluster)
    _seed_units(root, node)


# --- a node's processes and cgroups -------------------------------------------------------------


def nspawn_pid(cluster: str, node: str) -> int | None:
    """The PID of the node's running systemd-nspawn, or None (checked against its cmdline)."""
    directory = node_dir(cluster, node)
    try:
        pid = int((directory / "nspawn.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        del _children[pid]
    argv = processes.cmdline(pid)
    if processes.exited(pid) or not argv or Path(argv[0]).name != "systemd-nspawn":
        return None
    return pid if str(directory / "root") in argv else None


# Popen objects of the nspawns this interpreter started, so that they are reaped (no zombies).
_children: dict[int, subprocess.Popen[bytes]] = {}


def _spawn_in_cgroups(argv: list[str], log: Path, cgroup_dirs: Sequence[str]) -> int:
    """Start `argv` detached (own session, output to `log`), already in `cgroup_dirs`."""
    procs_files = [os.path.join(d, "cgroup.procs") for d in cgroup_dirs]

    def enter_cgroups() -> None:  # runs in the child, before exec
        pid = str(os.getpid())
        for procs in procs_files:
            with open(procs, "w") as out:
                out.write(pid)

    with open(log, "ab") as out:
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd="/",
                # A node has a network namespace of its own: let it set its net.* sysctls.
                env={**os.environ, "SYSTEMD_NSPAWN_API_VFS_WRITABLE": "network"},
                start_new_session=True,
                close_fds=True,
                preexec_fn=enter_cgroups,
            )
        except (OSError, subprocess.SubprocessError) as err:
            raise TestHostError(f"cannot start {argv[0]} in {cgroup_dirs}: {err}") from err
    _children[proc.pid] = proc
    return proc.pid


def _boot(cluster: str, node: str) -> int:
    """Start the node's nspawn in cgroups of its own (recorded in cgroups.json first)."""
    directory = node_dir(cluster, node)
    own = own_cgroup_dirs(
        Path("/proc/self/cgroup").read_text(), Path("/proc/self/mountinfo").read_text()
    )
    dirs = [str(Path(parent, node_cgroup_name(cluster, node))) for parent in own.values()]
    (directory / "cgroups.json").write_text(json.dumps(dirs, indent=1) + "\n")
    for cgroup in dirs:
        Path(cgroup).mkdir(exist_ok=True)
    netns = _recorded(directory, "netns", netns_name(cluster, node))
    hidden = [path for path in HIDDEN_HOST_DIRS if os.path.isdir(path)]
    argv = nspawn_argv(directory / "root", machine_name(cluster, node), node, netns, hidden)
    log = directory / "console.log"
    with open(log, "a") as out:
        out.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(argv)}\n")
    pid = _spawn_in_cgroups(argv, log, dirs)
    (directory / "nspawn.pid").write_text(f"{pid}\n")
    return pid


def _stop_pids(pids: Iterable[int], grace: float = STOP_GRACE) -> None:
    """SIGTERM (an orderly poweroff of the node), SIGKILL whoever is left after `grace`."""
    pids = list(pids)
    for pid in pids:
        processes.signal_pid(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for pid in pids:
        if not processes.wait_exit(pid, max(0.0, deadline - time.monotonic())):
            processes.signal_pid(pid, signal.SIGKILL)
            processes.wait_exit(pid, 5.0)


def _walk_bottom_up(top: Path) -> Iterator[Path]:
    for dirpath, _, _ in os.walk(top, topdown=False):
        yield Path(dirpath)


def _cgroup_pids(tops: Sequence[Path]) -> set[int]:
    pids: set[int] = set()
    for top in tops:
        for group in _walk_bottom_up(top):
            if (group / "freezer.state").exists():
                with contextlib.suppress(OSError):
                    (group / "freezer.state").write_text("THAWED")
            with contextlib.suppress(OSError, ValueError):
                pids.update(int(p) for p in (group / "cgroup.procs").read_text().split())
    return {pid for pid in pids if pid != os.getpid() and not processes.exited(pid)}


def _remove_cgroups(cluster: str, node: str, timeout: float = 10.0) -> None:
    """Kill (by PID) what is left in the node's recorded cgroups, then rmdir them depth-first."""
    record = node_dir(cluster, node) / "cgroups.json"
    try:
        recorded = json.loads(record.read_text())
    except (OSError, ValueError):
        return
    tops = [
        Path(p) for p in recorded if isinstance(p, str) and is_node_cgroup_dir(p, cluster, node)
    ]
    deadline = time.monotonic() + timeout
    while (pids := _cgroup_pids(tops)) and time.monotonic() < deadline:
        for pid in pids:
            processes.signal_pid(pid, signal.SIGKILL)
        time.sleep(0.1)
    for top in tops:
        for group in _walk_bottom_up(top):
            with contextlib.suppress(FileNotFoundError):
                _rmdir_retrying(group, deadline)
    record.unlink()


def _rmdir_retrying(path: Path, deadline: float) -> None:
    while True:
        try:
            path.rmdir()
            return
        except OSError as err:
            if isinstance(err, FileNotFoundError) or time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def _umount(path: Path) -> None:
    if str(path) in mountpoints():
        _run(["umount", str(path)])


def _halt(cluster: str, nodes: Sequence[str]) -> None:
    """Stop the nodes' nspawns, remove their cgroups, unmount their disks (which are kept)."""
    pids = [pid for node in nodes if (pid := nspawn_pid(cluster, node)) is not None]
    _stop_pids(pids)
    for node in nodes:
        _remove_cgroups(cluster, node)
        _umount(node_dir(cluster, node) / "root")
        with contextlib.suppress(FileNotFoundError):
            (node_dir(cluster, node) / "nspawn.pid").unlink()


def _destroy(cluster: str, node: str) -> None:
    directory = node_dir(cluster, node)
    netns = _recorded(directory, "netns", netns_name(cluster, node))
    veth = _recorded(directory, "veth", veth_name(cluster, node))
    if Path("/run/netns", netns).exists():
        _run(["ip", "netns", "del", netns])  # takes the veth pair with it, eventually
    if _link_exists(veth):
        proc = _run(["ip", "link", "del", veth], check=False)
        if proc.returncode != 0 and _link_exists(veth):
            raise TestHostError(f"ip link del {veth}: {proc.stderr.strip()}")
    shutil.rmtree(directory, ignore_errors=True)
    if directory.exists():
        raise TestHostError(f"could not remove {directory}")


def _cleanup_machine() -> None:
    """Once no cluster is left: remove the bridge and the state tmpfs."""
    if BASE.is_dir() and any(BASE.iterdir()):
        return
    if _link_exists(BRIDGE):
        _run(["ip", "link", "del", BRIDGE])
    _umount(BASE)
    with contextlib.suppress(OSError):
        BASE.rmdir()


# --- readiness ----------------------------------------------------------------------------------


def system_state(cluster: str, address: str, timeout: float = 10.0) -> str | None:
    """`systemctl is-system-running` on the node over ssh, or None when ssh does not answer."""
    argv = ssh_argv(cluster, address, "systemctl", "is-system-running")
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None
    if proc.returncode == 255:  # ssh's own failure: no connection, key refused, ...
        return None
    return proc.stdout.strip() or None


def wait_ready(cluster: str, nodes: Mapping[str, str], timeout: float = BOOT_TIMEOUT) -> None:
    """Wait until every node answers ssh and its systemd is running (or degraded)."""
    deadline = time.monotonic() + timeout
    pending = dict(nodes)
    states: dict[str, str | None] = {}
    while pending:
        for node, address in list(pending.items()):
            if nspawn_pid(cluster, node) is None:
                tail = processes.log_tail(node_dir(cluster, node) / "console.log")
                raise TestHostError(f"node {node}: systemd-nspawn exited\n{tail}")
            states[node] = system_state(cluster, address)
            if states[node] in READY_STATES:
                del pending[node]
        if pending and time.monotonic() > deadline:
            late = ", ".join(f"{n} ({states.get(n)})" for n in pending)
            raise TestHostError(f"not ready after {timeout:.0f} s: {late}")
        if pending:
            time.sleep(0.5)


# --- commands -----------------------------------------------------------------------------------


def nodes_of(cluster: str) -> dict[str, str]:
    """{node: address} for every node directory of `cluster` (address "" when not recorded)."""
    nodes_root = cluster_dir(cluster) / "nodes"
    if not nodes_root.is_dir():
        return {}
    return {d.name: _recorded(d, "ip", "") for d in sorted(nodes_root.iterdir()) if d.is_dir()}


def _addresses_in_use() -> dict[str, str]:
    """{address: "cluster/node"} over every cluster on this machine."""
    used: dict[str, str] = {}
    if not BASE.is_dir():
        return used
    for cdir in sorted(BASE.iterdir()):
        if cdir.is_dir() and CLUSTER_RE.fullmatch(cdir.name):
            for node, address in nodes_of(cdir.name).items():
                used[address] = f"{cdir.name}/{node}"
    return used


def _check_clashes(cluster: str, nodes: Mapping[str, str]) -> None:
    existing = nodes_of(cluster)
    used = _addresses_in_use()
    for node, address in nodes.items():
        if node in existing and existing[node] not in ("", address):
            raise TestHostError(
                f"node {cluster}/{node} exists with address {existing[node]}, not {address}"
            )
        owner = used.get(address)
        if owner is not None and owner != f"{cluster}/{node}":
            raise TestHostError(f"address {address} is taken by {owner}")


def _bring_up(cluster: str, node: str, address: str) -> None:
    """Create (or reuse the disk of) a node that is not running, and boot it."""
    directory = node_dir(cluster, node)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    (directory / "ip").write_text(address + "\n")
    _remove_cgroups(cluster, node)  # a previous boot that died
    root = _ensure_overlay(directory)
    if not (directory / "seeded").exists():
        _seed(root, cluster, node)
        (directory / "seeded").write_text("")
    _ensure_netns(cluster, node, address)
    _boot(cluster, node)


def up(
    cluster: str,
    nodes: Mapping[str, str],
    key_dir: Path | None = None,
    timeout: float = BOOT_TIMEOUT,
) -> dict[str, str]:
    """Create and boot the nodes that are not running; wait until all are ready. Idempotent."""
    validate_cluster_name(cluster)
    nodes = parse_node_specs([f"{n}={a}" for n, a in nodes.items()])
    with _locked():
        _check_clashes(cluster, nodes)
        _ensure_base()
        _ensure_bridge()
        cluster_dir(cluster).mkdir(mode=0o700, exist_ok=True)
        _ensure_key(cluster, key_dir)
        for node, address in nodes.items():
            if nspawn_pid(cluster, node) is None:
                _bring_up(cluster, node, address)
        _write_known_hosts(cluster)
    wait_ready(cluster, nodes, timeout)
    return nodes


def down(cluster: str, nodes: Iterable[str] | None = None) -> None:
    """Destroy the nodes (all of the cluster when None); idempotent, half-built nodes too."""
    validate_cluster_name(cluster)
    with _locked():
        names = sorted(nodes_of(cluster)) if nodes is None else sorted(set(nodes))
        for node in names:
            validate_node_name(node)
        _halt(cluster, names)
        for node in names:
            _destroy(cluster, node)
        cdir = cluster_dir(cluster)
        if cdir.is_dir() and not nodes_of(cluster):
            shutil.rmtree(cdir)
        elif cdir.is_dir():
            _write_known_hosts(cluster)
        _cleanup_machine()


def _existing(cluster: str, node: str) -> str:
    address = nodes_of(cluster).get(validate_node_name(node))
    if address is None:
        raise TestHostError(f"no node {cluster}/{node}")
    return address


def stop(cluster: str, node: str) -> None:
    """Power the node off (SIGTERM to its nspawn, SIGKILL after 20 s); its disk is kept."""
    _existing(cluster, node)
    with _locked():
        _halt(cluster, [node])


def start(cluster: str, node: str, timeout: float = BOOT_TIMEOUT) -> None:
    """Boot a stopped node again from its disk (nothing to do when it runs); wait until ready."""
    address = _existing(cluster, node)
    up(cluster, {node: address}, timeout=timeout)


def _set_link(cluster: str, node: str, state: str) -> None:
    _existing(cluster, node)
    veth = _recorded(node_dir(cluster, node), "veth", veth_name(cluster, node))
    if not _link_exists(veth):
        raise TestHostError(f"node {cluster}/{node} has no link {veth}")
    _run(["ip", "link", "set", veth, state])


def cut(cluster: str, node: str) -> None:
    """Partition the node: its veth on the bridge goes down."""
    _set_link(cluster, node, "down")


def heal(cluster: str, node: str) -> None:
    """Reconnect a cut node."""
    _set_link(cluster, node, "up")


def link_up(veth: str) -> bool:
    try:
        flags = int(Path("/sys/class/net", veth, "flags").read_text(), 16)
    except (OSError, ValueError):
        return False
    return bool(flags & 0x1)  # IFF_UP


def status(cluster: str) -> dict[str, dict[str, Any]]:
    """{node: {"ip", "running", "pid", "link_up"}} for every node of the cluster."""
    result: dict[str, dict[str, Any]] = {}
    for node, address in nodes_of(cluster).items():
        pid = nspawn_pid(cluster, node)
        veth = _recorded(node_dir(cluster, node), "veth", veth_name(cluster, node))
        result[node] = {
            "ip": address,
            "running": pid is not None,
            "pid": pid,
            "link_up": link_up(veth),
        }
    return result


# --- command line -------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.testhosts",
        description="Create and destroy systemd-nspawn test hosts on bridge dcosbr0.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--cluster", required=True, help="cluster name ([a-z0-9-]{1,20})")
        return sub

    up_cmd = command("up", "create and boot the missing nodes, wait until they are ready")
    up_cmd.add_argument("--key-dir", type=Path, help="take the cluster key pair from this dir")
    up_cmd.add_argument("--timeout", type=float, default=BOOT_TIMEOUT, help="seconds to boot")
    up_cmd.add_argument("nodes", nargs="+", metavar="NODE=IP")
    down_cmd = command("down", "destroy nodes (all of the cluster when none is named)")
    down_cmd.add_argument("nodes", nargs="*", metavar="NODE")
    for name, help_text in (
        ("stop", "power a node off, keep its disk"),
        ("start", "boot a stopped node again"),
        ("cut", "cut a node's link (partition)"),
        ("heal", "restore a cut node's link"),
    ):
        command(name, help_text).add_argument("node", metavar="NODE")
    command("status", "the cluster's nodes as JSON")
    return parser


def run(args: argparse.Namespace) -> dict[str, Any] | None:
    """Carry out parsed arguments; returns what to print as JSON, if anything."""
    cluster = validate_cluster_name(args.cluster)
    if args.command == "up":
        nodes = up(cluster, parse_node_specs(args.nodes), args.key_dir, args.timeout)
        return {
            "cluster": cluster,
            "key": str(key_path(cluster)),
            "known_hosts": str(known_hosts_path(cluster)),
            "nodes": nodes,
        }
    if args.command == "down":
        down(cluster, args.nodes or None)
        return None
    if args.command == "status":
        return status(cluster)
    actions = {"stop": stop, "start": start, "cut": cut, "heal": heal}
    actions[args.command](cluster, args.node)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = run(args)
    except TestHostError as err:
        print(f"testhosts: error: {err}", file=sys.stderr)
        return 1
    if result is not None:
        print(json.dumps(result, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
