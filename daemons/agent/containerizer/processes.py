"""A container's top process seen from outside: has it exited, how, and what it uses.

Used where cgroups say nothing (the exit status) or are absent (isolation off).
"""

from __future__ import annotations

import math
import os
import select
import signal

from daemons.agent.containerizer.errors import ContainerNotFound
from daemons.agent.containerizer.model import MEMORY_LIMITATION


def termination_message(status: int | None, limitation: str | None) -> str:
    if status is None:
        text = "Container terminated (its exit status was not ours to collect)"
    elif os.WIFSIGNALED(status):
        text = f"Container terminated by signal {signal.Signals(os.WTERMSIG(status)).name}"
    else:
        text = f"Container exited with status {os.WEXITSTATUS(status)}"
    if limitation == MEMORY_LIMITATION:
        return f"Memory limit exceeded: the OOM killer fired in the container. {text}"
    return text


def wait_status(returncode: int) -> int:
    """Popen's returncode (negative: signal) back to a raw waitpid(2) status."""
    return -returncode if returncode < 0 else returncode << 8


def pidfd_exited(fd: int, timeout: float) -> bool:
    """A pidfd polls readable once its process has exited."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(max(0, math.ceil(timeout * 1000))))


def process_usage(pid: int) -> dict[str, float]:
    """Unisolated containers: the top process alone, from /proc/<pid>/stat (proc(5))."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rpartition(")")[2].split()
    except FileNotFoundError:
        raise ContainerNotFound(str(pid)) from None
    ticks = os.sysconf("SC_CLK_TCK")
    return {
        "mem_rss_bytes": float(int(fields[21]) * os.sysconf("SC_PAGE_SIZE")),
        "mem_limit_bytes": 0.0,
        "cpus_user_time_secs": int(fields[11]) / ticks,
        "cpus_system_time_secs": int(fields[12]) / ticks,
        "cpus_limit": 0.0,
        "processes": 1.0,
    }
