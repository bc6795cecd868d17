"""Starting, watching and stopping PyDCOS daemons and ZooKeeper as real processes on loopback.

Shared by the integration-test fixtures and `tools/localcluster.py`. A daemon is
`<python> -m daemons.<name>.main --config FILE` with a TOML config written here; it runs in its
own session (so a terminal's Ctrl-C or the test runner's signals do not reach it directly), logs
to a file, and counts as up once `GET /health` answers 200. Processes are stopped by PID only:
SIGTERM, a grace period, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tools import zookeeper

REPO_ROOT = Path(__file__).resolve().parent.parent
CGROUP_ROOT = Path("/sys/fs/cgroup")


class StartFailed(RuntimeError):
    """A process exited or did not become healthy in time; the message holds its log tail."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on `host` right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def pid_alive(pid: int) -> bool:
    return zookeeper.pid_alive(pid)


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def log_tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def write_toml(path: Path, data: Mapping[str, Any]) -> None:
    import tomli_w  # a dev dependency: imported here so that stopping needs only the stdlib

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tomli_w.dumps(dict(data)).encode())


# Popen objects of processes this interpreter started, so that they are reaped (no zombies).
_children: dict[int, subprocess.Popen[bytes]] = {}


def spawn(argv: list[str], log_path: Path, env: Mapping[str, str] | None = None) -> int:
    """Start `argv` detached (own session, stdin from /dev/null, output appended to `log_path`)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            env=dict(env) if env is not None else None,
            start_new_session=True,
            close_fds=True,
        )
    _children[proc.pid] = proc
    return proc.pid


def _reap(pid: int) -> None:
    proc = _children.get(pid)
    if proc is not None and proc.poll() is not None:
        del _children[pid]


def exited(pid: int) -> bool:
    _reap(pid)
    return not pid_alive(pid)


def signal_pid(pid: int, sig: int) -> bool:
    """Send `sig` to `pid`; False when it no longer exists."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def wait_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if exited(pid):
            return True
        time.sleep(0.05)
    return exited(pid)


def parent_pid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def family(pid: int) -> list[int]:
    """`pid` and its children running the same command line: a gunicorn arbiter and its workers.

    Other children (an agent's executors and tasks) are not part of the daemon and are left alone.
    """
    argv = cmdline(pid)
    if not argv:
        return [pid]
    workers = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != pid:
            child = int(entry.name)
            if parent_pid(child) == pid and cmdline(child) == argv:
                workers.append(child)
    return [pid, *workers]


def kill_family(pid: int, sig: int, wait: float = 15.0) -> None:
    """Send `sig` to a daemon (arbiter and workers); for SIGKILL/SIGTERM wait until all are gone.

    Under systemd a killed daemon takes its workers with it (KillMode=control-group); this does
    the same, so a restarted daemon never meets an orphaned worker still holding its port.
    """
    members = family(pid)
    for member in members:
        signal_pid(member, sig)
    if sig in (signal.SIGKILL, signal.SIGTERM):
        for member in members:
            wait_exit(member, wait)


def stop_pid(pid: int, grace: float = 10.0) -> None:
    """SIGTERM, wait up to `grace` seconds, then SIGKILL (workers too) and wait for the end."""
    if exited(pid):
        return
    members = family(pid)
    signal_pid(pid, signal.SIGTERM)
    signal_pid(pid, signal.SIGCONT)  # a stopped process handles SIGTERM only once continued
    if not wait_exit(pid, grace):
        signal_pid(pid, signal.SIGKILL)
        wait_exit(pid, 10.0)
    for member in members[1:]:  # workers outliving their arbiter
        if not wait_exit(member, 2.0):
            signal_pid(member, signal.SIGKILL)
            wait_exit(member, 10.0)


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """The status of `GET url`, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            status: int = resp.status
            return status
    except urllib.error.HTTPError as err:
        return err.code
    except (OSError, ValueError):
        return None


def wait_healthy(url: str, pid: int, timeout: float) -> bool:
    """Poll `GET url` until 200; give up early when `pid` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if http_status(url) == 200:
            return True
        if exited(pid):
            return False
        time.sleep(0.1)
    return False


def daemon_argv(module: str, config_path: Path, python: str | None = None) -> list[str]:
    return [python or sys.executable, "-m", module, "--config", str(config_path)]


def start_daemon(
    module: str,
    config: Mapping[str, Any],
    config_path: Path,
    log_path: Path,
    *,
    python: str | None = None,
    health_timeout: float = 30.0,
) -> int:
    """Write the config, start the daemon and wait for `/health`; StartFailed with the log tail."""
    write_toml(config_path, config)
    pid = spawn(daemon_argv(module, config_path, python), log_path)
    url = f"http://{config['ip']}:{config['port']}/health"
    if not wait_healthy(url, pid, health_timeout):
        alive = not exited(pid)
        stop_pid(pid)
        why = f"not healthy at {url} after {health_timeout:.0f}s" if alive else "exited"
        raise StartFailed(f"{module} {why}; log {log_path}:\n{log_tail(log_path)}")
    return pid


def start_zookeeper(state_dir: Path, port: int, log_path: Path, timeout: float = 30.0) -> int:
    """Start a standalone ZooKeeper with its data in `state_dir`; wait for `ruok`."""
    config = zookeeper.write_config(state_dir, port)
    pid = spawn(zookeeper.command(config, log_path.parent), log_path, env=zookeeper.env())
    if not zookeeper.wait_ok("127.0.0.1", port, timeout, pid):
        stop_pid(pid)
        raise StartFailed(f"ZooKeeper did not answer ruok on {port}:\n{log_tail(log_path)}")
    return pid


# --- containers left by agents -------------------------------------------------------------------


def cgroups_named(name: str) -> list[Path]:
    """Every cgroup directory called `name` (a top-level `cgroups_root` part) in any hierarchy."""
    found = []
    with contextlib.suppress(OSError):
        for hierarchy in CGROUP_ROOT.iterdir():
            for dirpath, dirnames, _ in os.walk(hierarchy):
                if name in dirnames:
                    found.append(Path(dirpath) / name)
                    dirnames.remove(name)
    return found


def _walk_bottom_up(top: Path) -> Iterator[Path]:
    for dirpath, _, _ in os.walk(top, topdown=False):
        yield Path(dirpath)


def kill_cgroups(name: str, timeout: float = 10.0) -> list[int]:
    """SIGKILL every process in cgroups called `name`, then remove those cgroups.

    Agents leave their containers running when they stop (tasks survive agent restarts), so
    whoever started the agents cleans up this way. Returns the PIDs that were killed.
    """
    killed: list[int] = []
    deadline = time.monotonic() + timeout
    while True:
        pids: set[int] = set()
        for top in cgroups_named(name):
            for group in _walk_bottom_up(top):
                # A frozen process cannot die: thaw first (v1 freezer, v2 cgroup.freeze).
                for knob, value in (("freezer.state", "THAWED"), ("cgroup.freeze", "0")):
                    if (group / knob).exists():
                        with contextlib.suppress(OSError):
                            (group / knob).write_text(value)
                with contextlib.suppress(OSError):
                    pids.update(int(p) for p in (group / "cgroup.procs").read_text().split())
        pids = {pid for pid in pids if pid != os.getpid() and pid_alive(pid)}
        if not pids or time.monotonic() > deadline:
            break
        for pid in pids:
            if signal_pid(pid, signal.SIGKILL):
                killed.append(pid)
        time.sleep(0.1)
    for top in cgroups_named(name):
        for group in _walk_bottom_up(top):
            with contextlib.suppress(OSError):
                group.rmdir()
    return killed
