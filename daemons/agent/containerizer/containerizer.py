"""The Mesos containerizer: launch, recover, wait for, destroy and measure containers.

A container is known here by a record (made by `launch` or `recover`) holding the host pid of its
top process and a pidfd on it. Waiting polls the pidfd (children and recovered non-children
alike) and then the cgroup until it holds no process; the first waiter to see that reaps the
status, reads the OOM counter and removes the cgroups. The pid namespace makes "top process
gone" imply "every process gone": the kernel kills the rest when its pid 1 exits.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field, replace

from daemons.agent.containerizer.cgroups import Hierarchy, wait_until
from daemons.agent.containerizer.detection import detect
from daemons.agent.containerizer.errors import (
    ContainerNotFound,
    InvalidSpec,
    IsolationUnavailable,
    LaunchFailed,
)
from daemons.agent.containerizer.fork_launcher import ForkedProcess, ForkServer
from daemons.agent.containerizer.fork_wire import ForkRequest, user_ids
from daemons.agent.containerizer.launch import (
    Launcher,
    SpawnRequest,
    container_argv,
    container_hostname,
    shell_join_argv,
)
from daemons.agent.containerizer.limits import (
    CPU_SHARES_PER_CPU,
    Limits,
    limits_for,
    valid_container_id,
)
from daemons.agent.containerizer.model import (
    MEMORY_LIMITATION,
    ContainerHandle,
    ContainerizerConfig,
    ContainerSpec,
    ContainerTermination,
)
from daemons.agent.containerizer.processes import (
    pidfd_exited,
    process_usage,
    termination_message,
    wait_status,
)
from daemons.agent.containerizer.sandbox import UserIds, lookup_user, prepare_sandbox

log = logging.getLogger(__name__)

_WAIT_SLICE = 1.0  # pidfd polls are bounded so that a waiter re-checks the record now and then
_KILL_TIMEOUT = 10.0  # after SIGKILL of a frozen cgroup, how long its tasks may take to vanish


@dataclass(eq=False)
class _Container:
    container_id: str
    pid: int | None  # None: adopted from a cgroup without knowing its top process
    # Set when this object started it: we reap it (Popen) or the fork server reports its end.
    popen: subprocess.Popen[bytes] | ForkedProcess | None
    pidfd: int | None
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: threading.Event = field(default_factory=threading.Event)
    termination: ContainerTermination | None = None


class Containerizer:
    def __init__(self, config: ContainerizerConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._containers: dict[str, _Container] = {}
        self._hierarchy: Hierarchy | None = None
        self._fork_server = _fork_server(config)
        if not config.isolation:
            return
        if not valid_container_id(config.cgroups_root):
            raise InvalidSpec(f"cgroups_root {config.cgroups_root!r} is not a plain name")
        if os.geteuid() != 0:
            raise IsolationUnavailable("isolation needs root (set isolation = false for dev)")
        unshare = shutil.which("unshare")
        if unshare is None:
            raise IsolationUnavailable("util-linux unshare is not installed")
        self._unshare = unshare
        self._setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
        self._hierarchy = detect(config.cgroups_root)
        self._hierarchy.prepare()
        self._launcher = Launcher(self._hierarchy.thread_home_files)
        log.info(
            "containerizer ready cgroups=v%d root=%s", self._hierarchy.version, config.cgroups_root
        )

    # --- launch -------------------------------------------------------------------------------

    def launch(self, spec: ContainerSpec) -> ContainerHandle:
        cid = spec.container_id
        if not valid_container_id(cid):
            raise InvalidSpec(f"container id {cid!r} is not a plain name")
        if not spec.argv:
            raise InvalidSpec("argv is empty")
        try:
            limits = limits_for(
                spec.cpus,
                spec.mem_mb,
                spec.pids_max,
                self.config.cfs_enabled,
                self.config.cfs_period_us,
            )
        except ValueError as err:
            raise InvalidSpec(str(err)) from None
        with self._lock:
            if cid in self._containers:
                raise InvalidSpec(f"container {cid} already exists")
        root = os.geteuid() == 0
        user = lookup_user(spec.user) if root else None
        stdout, stderr = prepare_sandbox(spec.sandbox, user)
        try:
            cwd = str(spec.working_dir or spec.sandbox)
            popen: subprocess.Popen[bytes] | ForkedProcess
            if self._hierarchy is None:
                popen = self._spawn_plain(spec, cwd, stdout, stderr)
            else:
                popen = self._spawn_isolated(
                    spec, self._hierarchy, limits, user, cwd, stdout, stderr
                )
        finally:
            os.close(stdout)
            os.close(stderr)
        # A forked one's pidfd was opened by the server before it could reap the pid.
        pidfd = popen.take_pidfd() if isinstance(popen, ForkedProcess) else os.pidfd_open(popen.pid)
        record = _Container(cid, popen.pid, popen, pidfd)
        with self._lock:
            self._containers[cid] = record
        log.info("container launched container=%s pid=%d", cid, popen.pid)
        return ContainerHandle(cid, popen.pid)

    def _spawn_plain(
        self, spec: ContainerSpec, cwd: str, stdout: int, stderr: int
    ) -> subprocess.Popen[bytes]:
        try:
            return subprocess.Popen(
                list(spec.argv),
                env=dict(spec.environment),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
        except OSError as err:
            raise LaunchFailed(f"cannot start {spec.argv[0]}: {err}") from err

    def _spawn_isolated(
        self,
        spec: ContainerSpec,
        hierarchy: Hierarchy,
        limits: Limits,
        user: UserIds | None,
        cwd: str,
        stdout: int,
        stderr: int,
    ) -> subprocess.Popen[bytes] | ForkedProcess:
        cid = spec.container_id
        if self._fork_server is not None:
            return self._spawn_forked(
                spec, self._fork_server, hierarchy, limits, user, cwd, stdout, stderr
            )
        thread_join = hierarchy.thread_join_files(cid)
        # While the launcher thread sits in the cgroups it counts in pids.current, and small
        # shares or quota would stall it (and so the agent) on a busy host: the cpu limits and
        # the exact pids.max are written the moment it has left (tens of microseconds later).
        staged = limits
        if thread_join is not None:
            pids = None if limits.pids_max is None else limits.pids_max + 1
            staged = replace(
                limits, cpu_shares=CPU_SHARES_PER_CPU, cfs_quota_us=None, pids_max=pids
            )
        _create_cgroups(hierarchy, cid, staged)
        popen: subprocess.Popen[bytes] | None = None
        try:
            argv = container_argv(self._unshare, self._setpriv, user, spec.argv)
            if thread_join is None:
                argv = shell_join_argv(hierarchy.process_join_files(cid), argv)
            request = SpawnRequest(
                argv, spec.environment, cwd, stdout, stderr, container_hostname(cid), thread_join
            )
            popen = self._launcher.spawn(request)
            if staged != limits:
                hierarchy.apply(cid, limits, previous=staged)
            return popen
        except BaseException as err:
            if popen is not None:
                popen.kill()
                popen.wait()
            with self._launcher.window:
                hierarchy.kill_all(cid)
            hierarchy.remove(cid)
            if isinstance(err, OSError):
                raise LaunchFailed(f"cannot make container {cid}: {err}") from err
            raise

    def _spawn_forked(
        self,
        spec: ContainerSpec,
        server: ForkServer,
        hierarchy: Hierarchy,
        limits: Limits,
        user: UserIds | None,
        cwd: str,
        stdout: int,
        stderr: int,
    ) -> ForkedProcess:
        """Through the fork server: its middle child joins the cgroups itself (v1 or v2), and
        counts in pids.current until the top process is forked, hence pids.max + 1 meanwhile.
        Nothing of the agent enters the cgroups, so the cpu limits are there from the start."""
        cid = spec.container_id
        staged = limits
        if limits.pids_max is not None:
            staged = replace(limits, pids_max=limits.pids_max + 1)
        _create_cgroups(hierarchy, cid, staged)
        process: ForkedProcess | None = None
        try:
            uid, gid, groups = (
                (None, None, ()) if user is None else user_ids(user.uid, user.gid, user.groups)
            )
            request = ForkRequest(
                argv=tuple(spec.argv),
                environment=dict(spec.environment),
                cwd=cwd,
                hostname=container_hostname(cid),
                uid=uid,
                gid=gid,
                groups=groups,
                join_files=tuple(hierarchy.process_join_files(cid)),
                warm=server.warm_script(spec.argv),
            )
            process = server.spawn(request, stdout, stderr)
            if staged != limits:
                hierarchy.apply(cid, limits, previous=staged)
            return process
        except BaseException as err:
            if process is not None:
                process.kill()
                os.close(process.take_pidfd())
            hierarchy.kill_all(cid)
            hierarchy.remove(cid)
            if isinstance(err, OSError):
                raise LaunchFailed(f"cannot make container {cid}: {err}") from err
            raise

    def close(self) -> None:
        """Stop the fork server, if one runs (its containers keep running)."""
        if self._fork_server is not None:
            self._fork_server.close()

    # --- recover ------------------------------------------------------------------------------

    def recover(self, container_id: str, pid: int) -> ContainerHandle | None:
        with self._lock:
            known = self._containers.get(container_id)
        if known is not None and not known.done.is_set() and known.pid == pid:
            return ContainerHandle(container_id, pid)
        try:
            pidfd: int | None = os.pidfd_open(pid)
        except (ProcessLookupError, ValueError):
            pidfd = None
        # pidfd first, membership second, then "still not exited": a reused pid cannot pass.
        if pidfd is not None and self._belongs(container_id, pid) and not pidfd_exited(pidfd, 0):
            with self._lock:
                self._containers[container_id] = _Container(container_id, pid, None, pidfd)
            log.info("container recovered container=%s pid=%d", container_id, pid)
            return ContainerHandle(container_id, pid)
        if pidfd is not None:
            os.close(pidfd)
        hierarchy = self._hierarchy
        if hierarchy is not None and hierarchy.exists(container_id):
            if hierarchy.procs(container_id):  # not its pid, yet alive: the caller decides
                log.warning(
                    "container has processes but not pid=%d container=%s", pid, container_id
                )
                return None
            hierarchy.remove(container_id)
        log.info("container not recovered (gone) container=%s pid=%d", container_id, pid)
        return None

    def _belongs(self, container_id: str, pid: int) -> bool:
        if self._hierarchy is not None:
            return self._hierarchy.contains(container_id, pid)
        try:
            return os.getsid(pid) == pid  # unisolated containers are session leaders
        except ProcessLookupError:
            return False

    # --- update -------------------------------------------------------------------------------

    def update(self, container_id: str, cpus: float, mem_mb: float, pids_max: int | None) -> None:
        """New limits for a running container (more tasks joined its executor)."""
        if self._hierarchy is None:
            return
        try:
            limits = limits_for(
                cpus, mem_mb, pids_max, self.config.cfs_enabled, self.config.cfs_period_us
            )
        except ValueError as err:
            raise InvalidSpec(str(err)) from None
        if not self._hierarchy.exists(container_id):
            raise ContainerNotFound(container_id)
        try:
            self._hierarchy.apply(container_id, limits)
        except FileNotFoundError:
            raise ContainerNotFound(container_id) from None
        except OSError as err:
            raise LaunchFailed(f"cannot update the limits of {container_id}: {err}") from err

    # --- wait / destroy -----------------------------------------------------------------------

    def wait(self, container_id: str, timeout: float | None = None) -> ContainerTermination | None:
        record = self._record(container_id)
        deadline = math.inf if timeout is None else time.monotonic() + timeout
        while not record.done.is_set():
            left = deadline - time.monotonic()
            if self._top_exited(record, max(0.0, min(left, _WAIT_SLICE))) and self._emptied(
                record, deadline
            ):
                self._finish(record)
                break
            if time.monotonic() >= deadline:
                return None
        return record.termination

    def destroy(self, container_id: str, grace_period: float = 0.0) -> None:
        with self._lock:
            record = self._containers.get(container_id)
        hierarchy = self._hierarchy
        if record is None:
            if hierarchy is not None and hierarchy.exists(container_id):
                self._kill_and_remove(container_id, grace_period)
            return
        if not record.done.is_set():
            if hierarchy is not None:
                self._kill_cgroup(container_id, hierarchy, record, grace_period)
            elif record.pid is not None:
                self._kill_session(record, record.pid, grace_period)
            self._top_exited(record, _KILL_TIMEOUT)
            self._finish(record)
        with self._lock:
            if self._containers.get(container_id) is record:
                del self._containers[container_id]
        log.info("container destroyed container=%s", container_id)

    def _kill_cgroup(
        self, cid: str, hierarchy: Hierarchy, record: _Container | None, grace: float
    ) -> None:
        def gone() -> bool:
            if record is not None and record.popen is not None:
                record.popen.poll()  # reap, so that pid 1's exit empties the pid namespace
            return not hierarchy.procs(cid)

        # The top process (an executor) is asked first, alone, for half the grace period: it
        # ends its tasks itself and reports them killed, which a SIGTERM reaching the tasks at
        # the same moment would race with (they would look failed). Then everything left gets
        # SIGTERM. A pid 1 without a SIGTERM handler ignores it (pid_namespaces(7)).
        if grace > 0 and record is not None and record.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(record.pid, signal.SIGTERM)
            if wait_until(gone, grace / 2):
                return
            grace /= 2
        if grace > 0 and hierarchy.signal_all(cid, signal.SIGTERM) and wait_until(gone, grace):
            return
        with self._launcher.window:
            hierarchy.kill_all(cid)
        if not wait_until(gone, _KILL_TIMEOUT):
            log.warning("container still has processes after SIGKILL container=%s", cid)

    def _kill_session(self, record: _Container, pid: int, grace: float) -> None:
        for signum, wait_for in ((signal.SIGTERM, grace), (signal.SIGKILL, _KILL_TIMEOUT)):
            if signum == signal.SIGTERM and grace <= 0:
                continue
            try:
                os.killpg(pid, signum)
            except ProcessLookupError:
                return
            if self._top_exited(record, wait_for):
                return

    def _kill_and_remove(self, cid: str, grace: float = 0.0) -> None:
        assert self._hierarchy is not None
        self._kill_cgroup(cid, self._hierarchy, None, grace)
        if not self._hierarchy.remove(cid):
            log.warning("cgroup still busy after kill container=%s", cid)

    def _top_exited(self, record: _Container, timeout: float) -> bool:
        if record.pidfd is not None:
            return pidfd_exited(record.pidfd, timeout)
        if record.pid is None and self._hierarchy is not None:  # adopted: the cgroup is all
            hierarchy = self._hierarchy
            return wait_until(lambda: not hierarchy.procs(record.container_id), timeout)
        return True

    def _emptied(self, record: _Container, deadline: float) -> bool:
        if self._hierarchy is None:
            return True
        if record.popen is not None:
            record.popen.poll()
        hierarchy, cid = self._hierarchy, record.container_id
        return wait_until(lambda: not hierarchy.procs(cid), max(0.0, deadline - time.monotonic()))

    def _finish(self, record: _Container) -> None:
        with record.lock:
            if record.done.is_set():
                return
            status = None
            if record.popen is not None and (code := record.popen.wait()) is not None:
                status = wait_status(code)
            cid, limitation = record.container_id, None
            if self._hierarchy is not None:
                if self._hierarchy.oom_kills(cid) > 0:
                    limitation = MEMORY_LIMITATION
                if not self._hierarchy.remove(cid):
                    log.warning("cgroup still busy after exit container=%s", cid)
            message = termination_message(status, limitation)
            record.termination = ContainerTermination(status, limitation, message)
            record.done.set()
            if record.pidfd is not None:
                os.close(record.pidfd)
                record.pidfd = None
        log.info("container exited container=%s status=%s limitation=%s", cid, status, limitation)

    def _record(self, container_id: str) -> _Container:
        with self._lock:
            record = self._containers.get(container_id)
            if record is None and self._hierarchy and self._hierarchy.exists(container_id):
                record = _Container(container_id, None, None, None)  # known only by its cgroup
                self._containers[container_id] = record
        if record is None:
            raise ContainerNotFound(container_id)
        return record

    # --- observation --------------------------------------------------------------------------

    def limitation(self, container_id: str) -> str | None:
        with self._lock:
            record = self._containers.get(container_id)
        if record is not None and record.termination is not None:
            return record.termination.limitation
        if self._hierarchy is not None and self._hierarchy.oom_kills(container_id) > 0:
            return MEMORY_LIMITATION
        return None

    def usage(self, container_id: str) -> dict[str, float]:
        if self._hierarchy is not None:
            try:
                return self._hierarchy.usage(container_id)
            except FileNotFoundError:
                raise ContainerNotFound(container_id) from None
        record = self._record(container_id)
        if record.pid is None or record.done.is_set():
            raise ContainerNotFound(container_id)
        return process_usage(record.pid)

    def containers(self) -> list[str]:
        if self._hierarchy is not None:
            return self._hierarchy.container_ids()
        with self._lock:
            return sorted(c for c, r in self._containers.items() if not r.done.is_set())


def _create_cgroups(hierarchy: Hierarchy, cid: str, staged: Limits) -> None:
    """The container's cgroups with the limits of its start; none left behind on failure."""
    try:
        hierarchy.create(cid, staged)
    except FileExistsError:
        raise InvalidSpec(f"container {cid} already exists (its cgroup does)") from None
    except OSError as err:
        hierarchy.remove(cid)
        raise LaunchFailed(f"cannot make the cgroups of {cid}: {err}") from err


def _fork_server(config: ContainerizerConfig) -> ForkServer | None:
    """The fork server `config` asks for (started on the first launch), or None."""
    if config.executor_launch == "exec":
        return None
    if config.executor_launch != "fork_server":
        raise InvalidSpec(f"executor_launch {config.executor_launch!r}: 'exec' or 'fork_server'")
    pythons = {argv[0] for argv in config.warm_argvs if argv}
    if len(pythons) > 1 or any(
        len(argv) != 4 or tuple(argv[1:3]) != ("-I", "-S") for argv in config.warm_argvs
    ):
        raise InvalidSpec("warm_argvs: each [python, '-I', '-S', script], one python for all")
    python = next(iter(pythons), sys.executable)
    return ForkServer(python, [argv[3] for argv in config.warm_argvs])
