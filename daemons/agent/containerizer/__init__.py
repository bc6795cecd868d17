"""The Mesos containerizer: runs a process tree in cgroups and namespaces as an unprivileged user.

Owns the container's cgroups (`<controller mount>/<cgroups_root>/<container_id>`), its sandbox
stdout/stderr files and its namespaces. Imports only the standard library (no Flask, kazoo,
requests, and nothing else of the agent): the agent imports this package, never the reverse.

Interface (the agent calls exactly this)::

    ContainerSpec(container_id: str, sandbox: Path, argv: Sequence[str],
                  environment: Mapping[str, str], user: str, cpus: float, mem_mb: float,
                  pids_max: int | None, working_dir: Path | None = None)
    ContainerizerConfig(isolation: bool = True, cgroups_root: str = "pydcos",
                        cfs_enabled: bool = True, cfs_period_us: int = 100_000,
                        executor_launch: str = "exec",
                        warm_argvs: tuple[tuple[str, ...], ...] = ())
    ContainerHandle(container_id: str, pid: int)
    ContainerTermination(status: int | None, limitation: str | None, message: str)

    class Containerizer:
        def __init__(self, config: ContainerizerConfig) -> None
        def launch(self, spec: ContainerSpec) -> ContainerHandle
        def recover(self, container_id: str, pid: int) -> ContainerHandle | None
        def update(self, container_id: str, cpus: float, mem_mb: float, pids_max: int | None)
        def wait(self, container_id: str, timeout: float | None = None)
                -> ContainerTermination | None
        def destroy(self, container_id: str, grace_period: float = 0.0) -> None
        def limitation(self, container_id: str) -> str | None
        def usage(self, container_id: str) -> dict[str, float]
        def containers(self) -> list[str]
        def close(self) -> None

Semantics:

- `launch` returns once the top process has exec'ed util-linux `unshare` (a few ms, see
  launch.py) or, with `executor_launch = "fork_server"`, once the fork server has forked it
  (fork_server.py: a warm server per containerizer, started on the first launch, that runs the
  `warm_argvs` as forks of itself and execs anything else); the handle's `pid` is that
  process's host pid -- pid 1 of the container.
- `recover(id, pid)` re-attaches (no parent needed) when `pid` is alive *and* in the container's
  cgroup; otherwise it returns None and removes the cgroups if they are empty (if they still hold
  processes it leaves them: `destroy(id)` kills them, and works without a handle).
- `update` writes new limits into a running container's cgroups (a task group joining a default
  executor); ContainerNotFound when its cgroups are gone; a no-op without isolation.
- `wait` returns when every process of the container is gone (a pidfd on the top process, then
  the cgroup's procs), None on timeout. It collects the exit status (raw waitpid(2) status; None
  for recovered containers, whose parent is no longer us, and for those whose fork server
  died), reads the OOM-kill counter (v1 memory.oom_control / v2 memory.events `oom_kill`) into
  `limitation` ("REASON_CONTAINER_LIMITATION_MEMORY"), and removes the cgroups: an exited
  container leaves no directory behind even if nobody calls `destroy`.
- `destroy` is idempotent and fine on an exited or unknown container: SIGTERM to every process,
  up to `grace_period` for them to go, then freeze / SIGKILL all / thaw, then as `wait`. It
  forgets the container: call it last.
- `close` stops the fork server, if one runs; containers keep running (as when the agent dies:
  the server exits at the end of its socket). Without a call the server lives as long as this
  process.
- `usage` raises ContainerNotFound once the cgroups are gone; `limitation` answers from the
  termination after that. `containers()` lists the cgroups under the root (orphans included: the
  agent destroys those it does not recover).
- Errors: everything raised on purpose derives from `ContainerizerError` (errors.py); bad specs
  are `InvalidSpec`, kernel or util-linux refusals `LaunchFailed`.

What a container is (isolation = True; root required):

- cgroups: cpu (cpu.shares = max(2, 1024 * cpus); cfs quota = cpus * period, at least 1 ms, if
  cfs_enabled), cpuacct, memory (limit = max(mem_mb, 32) MiB, Mesos' MIN_MEMORY; no swap
  limit: swap is off), pids (pids.max), freezer -- v1 here; v2 (cpu.weight, cpu.max, memory.max,
  pids.max, cgroup.freeze/kill) where a cgroup2 mount offers the controllers. Joined before
  anything in the container runs (by the launcher thread, or by the fork server's child
  writing itself into `cgroup.procs` before it forks the top process).
- namespaces: new pid (the argv runs as pid 1; the kernel kills every other process when it
  exits; it ignores signals it has no handler for, SIGKILL excepted), mount (propagation private,
  a fresh /proc of its own pid namespace; the host's file system is otherwise shared), uts
  (hostname = the container id, first 64 characters), ipc. Host network and user namespace.
- user: `spec.user` via setgid/setuid (supplementary groups via `setpriv --groups` when the user
  has any; the fork server calls setgroups/setgid/setuid itself), no_new_privs set, all
  capabilities gone with the uid change, its own session.
  /proc/sys and /sys are *not* remounted read-only: that costs two more execs per launch and an
  unprivileged user cannot write them anyway.
- sandbox: made if missing, mode 0750, owned by the user; fds 1/2 append to sandbox/stdout and
  sandbox/stderr; stdin is /dev/null; cwd = working_dir or the sandbox; environment = exactly
  `spec.environment` (PATH included, if the caller wants one).

isolation = False (development without root): a plain child in its own session, as the agent's
user, with the same sandbox files; no cgroups, so no limits, usage of the top process only, and
destroy signals the session's process group.
"""

from daemons.agent.containerizer.containerizer import Containerizer
from daemons.agent.containerizer.errors import (
    ContainerizerError,
    ContainerNotFound,
    InvalidSpec,
    IsolationUnavailable,
    LaunchFailed,
)
from daemons.agent.containerizer.model import (
    MEMORY_LIMITATION,
    ContainerHandle,
    ContainerizerConfig,
    ContainerSpec,
    ContainerTermination,
)

__all__ = [
    "MEMORY_LIMITATION",
    "ContainerHandle",
    "ContainerNotFound",
    "ContainerSpec",
    "ContainerTermination",
    "Containerizer",
    "ContainerizerConfig",
    "ContainerizerError",
    "InvalidSpec",
    "IsolationUnavailable",
    "LaunchFailed",
]
