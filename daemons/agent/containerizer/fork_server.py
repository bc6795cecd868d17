"""The fork server: one per agent, it starts containers' top processes by fork instead of exec.

Run by the containerizer (fork_launcher.py) as `python -I -S fork_server.py --fd N SCRIPT...`
with the interpreter of the built-in executors, as root, in a session of its own; it talks to
the agent over the SOCK_SEQPACKET socket N (fork_wire.py). Standard library only (it imports
fork_wire and syscalls as top-level modules, from this file's directory).

At start it loads each warm SCRIPT (a file that imports what it needs at module level and runs
`main()` only as `__main__`, as the built-in executors' command.py does; one that fails to load
is exec'ed instead, its traceback in the agent's log), freezes the garbage
collector (so that the children's collections never write to the pages they share with it),
becomes a child subreaper and sets no_new_privs on itself (inherited by all it starts). Per
request, in one thread, one request at a time:

1. fork a *middle* child, which reads the request and the container's stdout/stderr off the
   socket itself (the server only peeks: no request -- environments hold secrets -- is ever in
   the memory every later container inherits from it), writes itself into the container's
   `cgroup.procs` files (before anything of the container can fork), then unshares the pid,
   mount, uts and ipc namespaces, makes every mount private (nothing it mounts propagates back
   to the host), sets the hostname, changes to the working directory (as root, as the exec
   chain did: a missing one fails the launch), and forks the container's *top process* -- pid 1
   of the new pid namespace -- reports its pid through a pipe, and exits;
2. the top process mounts a /proc of its own pid namespace (nosuid, nodev, noexec), sets
   no_new_privs, drops to the user (setgroups, setgid, setuid: every capability goes with uid
   0), starts a session of its own, takes /dev/null, the sandbox's stdout and stderr as fds
   0-2, closes every other fd, and then either runs the warm script's `main()` with the
   request's environment and argv (no exec, no interpreter start: what the fork server is for),
   or execs argv (default signal dispositions restored first, as subprocess does) for anything
   else;
3. the server answers `Started` with a pidfd of the top process, opened before it could reap it
   (it is the only process that can: the middle child never waits for it, and once the middle
   child is gone the server, as subreaper, is its parent), then goes back to its loop.

The loop reaps every child as SIGCHLD arrives and reports `Exited` with the raw status, so the
containerizer keeps its contract (exit statuses, wait, destroy). When the agent goes away (end of
file on the socket) the server exits at once and leaves the containers running: they are
re-parented to init, and the next agent recovers them by pid like any other, with no exit status
to collect (as after a restart of the agent alone). Errors in 2 go to the container's stderr and
end it with status 1 (126/127 when the exec fails), as util-linux reports its own.

A warm executor differs from an exec'ed one in what nobody should rely on: its command line is
the server's, it shares the server's str hash seed, and, having changed its uid without an
exec, it is not dumpable (no core dumps; its task, same uid, cannot ptrace it or read its
memory).
"""

from __future__ import annotations

import array
import dataclasses
import gc
import importlib.util
import io
import os
import select
import signal
import socket
import sys
import time
import traceback

TYPE_CHECKING = False
if TYPE_CHECKING or __package__:
    from collections.abc import Callable, Mapping
    from typing import NoReturn

    from daemons.agent.containerizer import fork_wire, syscalls
else:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import fork_wire
    import syscalls

    del sys.path[0]  # the containerizer's other modules must never shadow a container's imports

PROGRAM = "pydcos-fork-server"
_MAX_FD = os.sysconf("SC_OPEN_MAX")  # closerange up to it is one close_range(2)
_PROC_FLAGS = syscalls.MS_NOSUID | syscalls.MS_NODEV | syscalls.MS_NOEXEC
_NAMESPACES = (
    syscalls.CLONE_NEWPID | syscalls.CLONE_NEWNS | syscalls.CLONE_NEWUTS | syscalls.CLONE_NEWIPC
)


def load_warm(path: str, name: str) -> Callable[[], object]:
    """Import a warm script as module `name` (not as `__main__`) and return its `main`."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    entry: Callable[[], object] = module.main
    return entry


class Server:
    def __init__(self, sock: socket.socket, warm: Mapping[str, Callable[[], object]]) -> None:
        self.sock = sock
        self.warm = warm
        self.executors: set[int] = set()  # top processes started and not yet reaped
        self.wake_r, self.wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    def serve(self) -> int:
        signal.signal(signal.SIGCHLD, lambda _signum, _frame: None)
        signal.set_wakeup_fd(self.wake_w)
        poller = select.poll()
        poller.register(self.sock.fileno(), select.POLLIN)
        poller.register(self.wake_r, select.POLLIN)
        try:
            while True:
                for fd, _events in poller.poll():
                    if fd == self.wake_r:
                        while _drain(self.wake_r):
                            pass
                    elif not self.handle():
                        return 0  # the agent is gone: leave the containers running
                self.reap()
        except (BrokenPipeError, ConnectionResetError):
            return 0  # the agent went away while we were telling it something: the same

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.executors:
                self.executors.discard(pid)
                self.send(fork_wire.Exited(pid, status))

    def send(self, reply: fork_wire.Reply, fds: list[int] | None = None) -> None:
        ancillary = []
        if fds:
            ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())]
        self.sock.sendmsg([fork_wire.encode_reply(reply)], ancillary)

    def handle(self) -> bool:
        """One request; False at the end of the agent's socket.

        The server only peeks at it: the middle child reads it (and the stdout/stderr fds) from
        the socket itself, so no request -- environments hold secrets -- is ever in the memory
        that every later container inherits from the server."""
        try:
            if not self.sock.recv(1, socket.MSG_PEEK):
                return False  # end of file: the agent closed its end or died
        except ConnectionResetError:
            return False
        report_r, report_w = os.pipe2(os.O_CLOEXEC)
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            middle = os.fork()
        except OSError as err:
            os.close(report_r)
            os.close(report_w)
            self.discard_request()
            self.send(fork_wire.Failed(f"cannot fork: {err}"))
            return True
        if middle == 0:
            _middle(self.sock, report_w, self.warm)
        os.close(report_w)
        report = b""
        try:
            while chunk := os.read(report_r, 4096):
                report += chunk
        finally:
            os.close(report_r)
            _, status = os.waitpid(middle, 0)
        try:
            self.answer(report, status)
        except OSError as err:  # pidfd_open: what was started was killed
            self.send(fork_wire.Failed(str(err)))
        return True

    def discard_request(self) -> None:
        """Take the request off the socket unread (its fds closed): it cannot be served."""
        fds = array.array("i")
        _data, ancdata, _flags, _addr = self.sock.recvmsg(
            fork_wire.MAX_REQUEST_BYTES, socket.CMSG_SPACE(fork_wire.REQUEST_FDS * fds.itemsize)
        )
        for fd in _received_fds(ancdata):
            os.close(fd)

    def answer(self, report: bytes, status: int) -> None:
        """The middle child's report (b"P<pid>" or b"E<message>") to the agent."""
        if report.startswith(b"P"):
            pid = int(report[1:])
            self.executors.add(pid)
            try:
                pidfd = os.pidfd_open(pid)  # not reaped yet: only this process can reap it
            except OSError:
                os.kill(pid, signal.SIGKILL)  # nobody could watch it: it must not run
                raise
            try:
                self.send(fork_wire.Started(pid), [pidfd])
            finally:
                os.close(pidfd)
        elif report.startswith(b"E"):
            self.send(fork_wire.Failed(report[1:].decode("utf-8", "replace")))
        else:
            self.send(fork_wire.Failed(f"the launch process ended with status {status}"))


def _middle(sock: socket.socket, report: int, warm: Mapping[str, Callable[[], object]]) -> NoReturn:
    """The middle child (step 1 of the module docstring). Never returns."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        data, ancdata, _flags, _addr = sock.recvmsg(
            fork_wire.MAX_REQUEST_BYTES, socket.CMSG_SPACE(fork_wire.REQUEST_FDS * 4)
        )
        os.close(sock.detach())  # nothing below holds the agent's socket
        fds = _received_fds(ancdata)
        if len(fds) != fork_wire.REQUEST_FDS:
            raise ValueError(f"expected {fork_wire.REQUEST_FDS} fds, got {len(fds)}")
        request = fork_wire.decode_request(data)
        if request.warm is not None and request.warm not in warm:  # it failed to load: exec
            request = dataclasses.replace(request, warm=None)
        stdout, stderr = fds
        for path in request.join_files:  # "0": the writer; first, before anything can fork
            fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.write(fd, b"0")
            finally:
                os.close(fd)
        syscalls.unshare(_NAMESPACES)
        syscalls.mount("none", "/", None, syscalls.MS_REC | syscalls.MS_PRIVATE)
        syscalls.sethostname(request.hostname)
        os.chdir(request.cwd)  # as root, as before; a missing one fails the launch, as before
        pid = os.fork()
        if pid == 0:
            os.close(report)
            _top(request, stdout, stderr, warm)
        os.write(report, b"P%d" % pid)
        code = 0
    except BaseException as err:
        try:
            os.write(report, b"E" + f"cannot make the container: {err}".encode()[:3000])
        finally:
            os._exit(1)
    os._exit(code)


def _top(
    request: fork_wire.ForkRequest,
    stdout: int,
    stderr: int,
    warm: Mapping[str, Callable[[], object]],
) -> NoReturn:
    """The container's top process (step 2). Never returns."""
    try:
        syscalls.mount("proc", "/proc", "proc", _PROC_FLAGS)
        syscalls.set_no_new_privs()
        if request.uid is not None and request.gid is not None:
            os.setgroups(list(request.groups))
            os.setgid(request.gid)
            os.setuid(request.uid)
        os.setsid()
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(stdout, 1)
        os.dup2(stderr, 2)
        os.closerange(3, _MAX_FD)
    except BaseException as err:
        _die(stderr, f"cannot start the container: {err}", 1)
    if request.warm is None:
        _exec(request)
    _run_warm(request, warm[request.warm])


def _exec(request: fork_wire.ForkRequest) -> NoReturn:
    for signum in (signal.SIGPIPE, signal.SIGXFSZ):  # Python ignores them; argv must not
        signal.signal(signum, signal.SIG_DFL)
    try:
        os.execvpe(request.argv[0], list(request.argv), dict(request.environment))
    except OSError as err:
        code = 127 if isinstance(err, FileNotFoundError | NotADirectoryError) else 126
        _die(2, f"failed to execute {request.argv[0]}: {err.strerror}", code)
    except BaseException as err:
        _die(2, f"failed to execute {request.argv[0]}: {err}", 126)


def _run_warm(request: fork_wire.ForkRequest, main: Callable[[], object]) -> NoReturn:
    """What `python -I -S script` would have done from here: environment, argv, stdio, main()."""
    code: object = 1
    try:
        os.environ.clear()
        os.environ.update(request.environment)
        time.tzset()
        sys.argv = list(request.argv[3:])
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 (lives as long as the process)
        sys.stderr = io.TextIOWrapper(
            open(2, "wb", buffering=0, closefd=False),  # noqa: SIM115
            errors="backslashreplace",
            line_buffering=True,
            write_through=True,
        )
        code = main()
    except SystemExit as exit_:
        code = exit_.code
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # nothing left to report it to
                code = code or 1
    if code is None:
        os._exit(0)
    if not isinstance(code, int):
        print(code, file=sys.stderr, flush=True)
        os._exit(1)
    os._exit(code & 0xFF)


def _die(fd: int, message: str, code: int) -> NoReturn:
    try:
        os.write(fd, f"{PROGRAM}: {message}\n".encode(errors="replace"))
    finally:
        os._exit(code)


def _received_fds(ancdata: list[tuple[int, int, bytes]]) -> list[int]:
    fds = array.array("i")
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    return list(fds)


def _drain(fd: int) -> bool:
    try:
        return bool(os.read(fd, 512))
    except BlockingIOError:
        return False


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "--fd" or not argv[1].isdigit():
        sys.stderr.write(f"usage: {PROGRAM} --fd N [WARM_SCRIPT...]\n")
        return 2
    sock = socket.socket(fileno=int(argv[1]))
    os.set_inheritable(sock.fileno(), False)
    syscalls.set_child_subreaper()
    syscalls.set_no_new_privs()
    warm = {}
    for i, path in enumerate(argv[2:]):
        try:
            warm[path] = load_warm(path, f"pydcos_warm_{i}")
        except Exception:  # any error of the script's: it is exec'ed instead, as without us
            sys.stderr.write(f"{PROGRAM}: cannot load {path}; it will be exec'ed\n")
            traceback.print_exc()
    gc.collect()
    gc.freeze()  # the children's collections leave the shared objects' pages alone
    return Server(sock, warm).serve()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
