"""Starting a container's top process: namespaces, cgroups, user, exec -- with two execs in all.

The chain, per container (on this machine kind 1.5-3.5 ms of agent time, quiet to busy):

1. The launcher -- one dedicated agent thread, with no_new_privs set on it once -- moves *itself*
   into the container's v1 cgroups (`tasks` moves a single thread), calls unshare(CLONE_NEWPID |
   CLONE_NEWUTS) (which affects only what it starts next) and sethostname(container id).
2. It vfork+execs (subprocess without preexec_fn) util-linux `unshare --mount --mount-proc --ipc`,
   which is therefore born in the cgroups (no window in which a fork escapes them), in the new
   pid namespace as pid 1, a session leader, with no_new_privs inherited.
3. It setns()es back to its own uts/pid namespaces and moves back to its own cgroups; only then
   are the cpu limits and the exact pids.max written (inside a 0.01-cpu cgroup the launcher
   itself would be throttled), microseconds before `unshare` has even finished exec'ing.
4. `unshare` makes the mount and ipc namespaces (mount propagation private), mounts a /proc of the
   new pid namespace, drops to the user (`--setgid/--setuid`, which clears supplementary groups;
   users that have some go through `setpriv --groups` instead, one exec more) and execs argv.

Where threads cannot move alone (cgroup v2), the join happens in the child instead: a `/bin/sh -c
'echo 0 > cgroup.procs && exec "$@"'` prefix (one exec more, still before anything can fork).
A preexec_fn was measured too: it forces fork() of the whole agent (~8 ms at 150 MB RSS).
"""

from __future__ import annotations

import os
import queue
import shlex
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

import daemons.agent.containerizer.syscalls as syscalls
from daemons.agent.containerizer.cgroups import write_text
from daemons.agent.containerizer.errors import IsolationUnavailable, LaunchFailed
from daemons.agent.containerizer.sandbox import UserIds

HOST_NAME_MAX = 64


def container_argv(
    unshare: str, setpriv: str, user: UserIds | None, argv: Sequence[str]
) -> list[str]:
    """What the launcher execs: unshare (mount, ipc, /proc), the drop to `user`, then argv.

    `user` None or root: keep the launcher's ids."""
    command = [unshare, "--mount", "--mount-proc", "--ipc"]
    if user is None or user.uid == 0:
        return [*command, "--", *argv]
    if set(user.groups) <= {user.gid}:
        return [*command, "--setgid", str(user.gid), "--setuid", str(user.uid), "--", *argv]
    groups = ",".join(str(g) for g in user.groups)
    drop = [setpriv, f"--regid={user.gid}", f"--reuid={user.uid}", f"--groups={groups}"]
    return [*command, "--", *drop, "--", *argv]


def shell_join_argv(join_files: Sequence[str], argv: Sequence[str]) -> list[str]:
    """Prefix argv with a shell that moves itself into the cgroups, then execs argv."""
    joins = " && ".join(f"echo 0 > {shlex.quote(path)}" for path in join_files)
    return ["/bin/sh", "-c", f'{joins} && exec "$@"', "pydcos-join", *argv]


def container_hostname(container_id: str) -> str:
    return container_id[:HOST_NAME_MAX]


@dataclass(frozen=True)
class SpawnRequest:
    argv: Sequence[str]
    environment: Mapping[str, str]
    cwd: str
    stdout: int
    stderr: int
    hostname: str
    thread_join_files: Sequence[str] | None  # None: argv joins the cgroups itself


class Launcher:
    """The dedicated thread that starts containers (see the module docstring)."""

    def __init__(self, home_files: Callable[[int], list[str]]) -> None:
        """`home_files(tid)`: the `tasks` files that put thread `tid` back where it started."""
        self._home_files = home_files
        self._requests: queue.SimpleQueue[tuple[SpawnRequest, Future[subprocess.Popen[bytes]]]]
        self._requests = queue.SimpleQueue()
        self._lock = threading.Lock()
        # Held while the launcher thread sits in a container's cgroups (join .. back home):
        # freezing or SIGKILLing that container meanwhile would freeze or kill the agent itself
        # (v1 `cgroup.procs` lists the agent's pid while one of its threads is in there).
        self.window = threading.Lock()
        self._thread: threading.Thread | None = None
        self._broken: BaseException | None = None

    def spawn(self, request: SpawnRequest) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="pydcos-launcher", daemon=True
                )
                self._thread.start()
        future: Future[subprocess.Popen[bytes]] = Future()
        self._requests.put((request, future))
        return future.result()

    def _run(self) -> None:
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, [])  # children inherit this thread's mask
            syscalls.set_no_new_privs()
            home = self._home_files(threading.get_native_id())
            uts = os.open("/proc/thread-self/ns/uts", os.O_RDONLY | os.O_CLOEXEC)
            pid = os.open("/proc/thread-self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        except OSError as err:
            self._broken = IsolationUnavailable(f"the launcher thread cannot start: {err}")
            home, uts, pid = [], -1, -1
        while True:
            request, future = self._requests.get()
            if self._broken is not None:
                future.set_exception(self._broken)
                continue
            try:
                future.set_result(self._spawn(request, home, uts, pid))
            except LaunchFailed as err:
                future.set_exception(err)
            except BaseException as err:  # could not restore the thread: no launch after this
                self._broken = IsolationUnavailable(f"the launcher thread is unusable: {err}")
                future.set_exception(self._broken)

    def _spawn(
        self, request: SpawnRequest, home: Sequence[str], uts: int, pid: int
    ) -> subprocess.Popen[bytes]:
        with self.window:
            return self._spawn_inside(request, home, uts, pid)

    def _spawn_inside(
        self, request: SpawnRequest, home: Sequence[str], uts: int, pid: int
    ) -> subprocess.Popen[bytes]:
        joined = request.thread_join_files is not None
        try:
            if request.thread_join_files is not None:
                _join(request.thread_join_files)
            syscalls.unshare(syscalls.CLONE_NEWPID | syscalls.CLONE_NEWUTS)
        except OSError as err:
            if joined:
                _join(home)
            raise LaunchFailed(
                f"cannot enter the container's cgroups or namespaces: {err}"
            ) from err
        try:
            syscalls.sethostname(request.hostname)
            return subprocess.Popen(
                request.argv,
                env=dict(request.environment),
                cwd=request.cwd,
                stdin=subprocess.DEVNULL,
                stdout=request.stdout,
                stderr=request.stderr,
                start_new_session=True,  # the agent's death or its process group never reach it
            )
        except OSError as err:
            raise LaunchFailed(f"cannot start {request.argv[0]}: {err}") from err
        finally:
            # Restoring can only fail if the kernel took our own namespaces away: _run then
            # marks the launcher broken rather than start containers in the wrong place.
            syscalls.setns(uts, syscalls.CLONE_NEWUTS)
            syscalls.setns(pid, syscalls.CLONE_NEWPID)
            if joined:
                _join(home)


def _join(files: Sequence[str]) -> None:
    for path in files:
        write_text(path, "0")  # "0": the writer itself (here: this one thread)
