"""The cgroups adapter's interface: `Hierarchy`, what a v1 and a v2 implementation share
(cgroups_v1.py, cgroups_v2.py; detection.py picks one at start), and mountinfo parsing.

Containers live at `<mount>/<root>/<container_id>`. This module imports neither implementation:
they import it.
"""

from __future__ import annotations

import errno
import os
import signal
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from daemons.agent.containerizer.limits import Limits

V1_CONTROLLERS = ("cpu", "cpuacct", "memory", "pids", "freezer")
V2_CONTROLLERS = ("cpu", "memory", "pids")
_RMDIR_TRIES = 50  # x 10 ms: a cgroup whose last task is still exiting answers EBUSY briefly


@dataclass(frozen=True)
class Mount:
    mount_point: str
    root: str  # the hierarchy path mounted there ("/" unless inside a cgroup namespace)
    fstype: str
    super_options: frozenset[str]


def parse_mountinfo(text: str) -> list[Mount]:
    """cgroup and cgroup2 mounts from proc(5) mountinfo lines (other file systems are skipped)."""
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 5 or len(tail) < 3 or tail[0] not in ("cgroup", "cgroup2"):
            continue
        mounts.append(
            Mount(
                mount_point=_unescape(fields[4]),
                root=_unescape(fields[3]),
                fstype=tail[0],
                super_options=frozenset(tail[2].split(",")),
            )
        )
    return mounts


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal (`\\040`)."""
    for code in ("\\040", "\\011", "\\012", "\\134"):
        field = field.replace(code, chr(int(code[1:], 8)))
    return field


def read_text(path: str) -> str:
    with open(path, encoding="ascii") as f:
        return f.read()


def write_text(path: str, text: str) -> None:
    """One write(2), as cgroup files want; errors surface as OSError from the write."""
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC)  # O_TRUNC: as `echo >` does
    try:
        os.write(fd, text.encode("ascii"))
    finally:
        os.close(fd)


def flat_keyed(text: str) -> dict[str, int]:
    """`key value` lines (memory.stat, cpu.stat, memory.events, oom_control) -> dict."""
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            out[key] = int(value)
    return out


class Hierarchy(ABC):
    """The cgroups of every container under one root, whatever the cgroup version."""

    version: int

    def __init__(self, root: str) -> None:
        self.root = root

    # --- lifecycle ------------------------------------------------------------------------

    @abstractmethod
    def directories(self, container_id: str) -> list[str]:
        """One directory per hierarchy (v1) or the single v2 directory."""

    @abstractmethod
    def prepare(self) -> None:
        """Make `<root>` wherever needed (and enable v2 controllers for its children)."""

    def create(self, container_id: str, limits: Limits) -> None:
        """Make the directories and write the limits. FileExistsError: the id is taken (the
        first mkdir is the claim, so two launches of one id cannot both get here)."""
        first, *rest = self.directories(container_id)
        try:
            os.mkdir(first)
        except FileNotFoundError:  # the root went away (an operator's rmdir): make it again
            self.prepare()
            os.mkdir(first)
        for directory in rest:
            os.makedirs(directory, exist_ok=True)
        self.apply(container_id, limits)

    def apply(self, container_id: str, limits: Limits, previous: Limits | None = None) -> None:
        """Write the limits (only those that differ from `previous`, when given)."""
        old = self.limit_files(container_id, previous) if previous is not None else {}
        for path, value in self.limit_files(container_id, limits).items():
            if old.get(path) != value:
                write_text(path, value)

    @abstractmethod
    def limit_files(self, container_id: str, limits: Limits) -> dict[str, str]:
        """File -> value for every limit, in the order they must be written."""

    def exists(self, container_id: str) -> bool:
        return any(os.path.isdir(d) for d in self.directories(container_id))

    def remove(self, container_id: str) -> bool:
        """rmdir every directory of the container; False if a task still holds one."""
        gone = True
        for directory in self.directories(container_id):
            for _ in range(_RMDIR_TRIES):
                try:
                    os.rmdir(directory)
                    break
                except FileNotFoundError:
                    break
                except OSError as err:
                    if err.errno != errno.EBUSY:
                        raise
                    time.sleep(0.01)
            else:
                gone = False
        return gone

    @abstractmethod
    def container_ids(self) -> list[str]:
        """Container ids that have a directory under the root."""

    # --- joining --------------------------------------------------------------------------

    @abstractmethod
    def process_join_files(self, container_id: str) -> list[str]:
        """Files to which a process writes "0" to move itself into the container."""

    def thread_join_files(self, container_id: str) -> list[str] | None:
        """v1 `tasks` files that move one thread; None where threads cannot move alone (v2)."""
        return None

    def thread_home_files(self, tid: int) -> list[str]:
        """The `tasks` files of the cgroups thread `tid` is in now (to move it back later)."""
        return []

    # --- processes ------------------------------------------------------------------------

    @abstractmethod
    def procs(self, container_id: str) -> list[int]:
        """Pids of the container's processes; [] if it has no cgroup (any more)."""

    @abstractmethod
    def contains(self, container_id: str, pid: int) -> bool:
        """Whether process `pid` is in this container's cgroup (False if it is gone)."""

    def signal_all(self, container_id: str, signum: int) -> int:
        """Signal every process of the container (never the agent itself, whose launcher thread
        may be passing through the container's cgroups)."""
        sent = 0
        own = os.getpid()
        for pid in self.procs(container_id):
            if pid == own:
                continue
            try:
                os.kill(pid, signum)
                sent += 1
            except ProcessLookupError:
                pass
        return sent

    def kill_all(self, container_id: str) -> None:
        """Freeze, SIGKILL every task, thaw: nothing can fork its way out in between."""
        frozen = self.freeze(container_id)
        try:
            self.signal_all(container_id, signal.SIGKILL)
        finally:
            if frozen:
                self.thaw(container_id)

    @abstractmethod
    def freeze(self, container_id: str) -> bool:
        """Freeze the container (bounded wait); False if there was nothing to freeze."""

    @abstractmethod
    def thaw(self, container_id: str) -> None: ...

    # --- accounting -----------------------------------------------------------------------

    @abstractmethod
    def oom_kills(self, container_id: str) -> int:
        """How many times the OOM killer fired inside the container (0 if it has no cgroup)."""

    @abstractmethod
    def usage(self, container_id: str) -> dict[str, float]:
        """mem_rss_bytes, mem_limit_bytes, cpus_user_time_secs, cpus_system_time_secs,
        cpus_limit, processes."""


def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.002) -> bool:
    """Poll `predicate()` with a growing step (2 ms -> 50 ms) until true or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(step, left))
        step = min(step * 2, 0.05)
