"""What the agent hands the containerizer and what it gets back. Frozen values, no behaviour."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

MEMORY_LIMITATION = "REASON_CONTAINER_LIMITATION_MEMORY"


@dataclass(frozen=True)
class ContainerSpec:
    container_id: str  # unique; names the cgroups: <cgroups_root>/<container_id>
    sandbox: Path  # host sandbox dir; made (0750, owned by `user`) if missing
    argv: Sequence[str]  # what to exec inside the container (usually the executor)
    environment: Mapping[str, str]  # the full environment; nothing is inherited from the agent
    user: str  # run as this user
    cpus: float  # cpu.shares = max(2, int(1024 * cpus)); CFS quota = cpus * period
    mem_mb: float  # memory limit, at least 32 MiB (Mesos' MIN_MEMORY)
    pids_max: int | None  # pids.max; None: no limit
    working_dir: Path | None = None  # defaults to the sandbox


@dataclass(frozen=True)
class ContainerizerConfig:
    isolation: bool = True  # False: a plain process in its own session (development, no root)
    cgroups_root: str = "pydcos"  # hierarchy under each controller
    cfs_enabled: bool = True
    cfs_period_us: int = 100_000
    # How isolated containers start: "exec" (launch.py: the launcher thread, util-linux unshare,
    # exec) or "fork_server" (fork_server.py: a warm server forks them, no interpreter start).
    executor_launch: str = "exec"
    # With "fork_server": argvs `[python, "-I", "-S", script]` (one python for all, which also
    # runs the server) that start as a fork of the server running the script's main(); other
    # argvs are exec'ed by the server's child.
    warm_argvs: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class ContainerHandle:
    container_id: str
    pid: int  # host pid of the container's top process (pid 1 inside); checkpoint it


@dataclass(frozen=True)
class ContainerTermination:
    # Raw wait status of the top process as waitpid(2) returns it (Mesos' ContainerTermination
    # status); None when it is not ours to reap (a recovered container) or was reaped elsewhere.
    status: int | None
    limitation: str | None  # MEMORY_LIMITATION when the OOM killer fired in the container
    message: str
