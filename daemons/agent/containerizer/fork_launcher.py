"""The agent's side of the fork server (fork_server.py): start it, ask it for containers, and
learn their exit statuses from it.

The server is started on the first launch and again after it died; one request is in flight at
a time (the server handles them one by one anyway). A reader thread takes every message: the
answer to the request in flight, and the `Exited` reports, which complete the `ForkedProcess`
of that pid. If the server dies, what it had started keeps running (re-parented to init); their
exit statuses are lost, and their `wait()` answers None, as for a container recovered after an
agent restart. The containerizer watches them by the pidfd the server sent, never by pid.
"""

from __future__ import annotations

import array
import contextlib
import logging
import os
import queue
import signal
import socket
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path

from daemons.agent.containerizer import fork_wire
from daemons.agent.containerizer.errors import LaunchFailed

log = logging.getLogger(__name__)

SERVER = str(Path(__file__).resolve().parent / "fork_server.py")
_REPLY_TIMEOUT = 60.0  # a launch is milliseconds; this long means the server is stuck
_STATUS_TIMEOUT = 30.0  # after the pidfd said "exited", the server's report is milliseconds away
_RECV_BYTES = 64 * 1024
# A request holds the whole environment; a SEQPACKET message must fit the send buffer (the
# kernel caps this at net.core.wmem_max: a request beyond that fails with EMSGSIZE).
_SEND_BUFFER = 2 * fork_wire.MAX_REQUEST_BYTES


class ForkedProcess:
    """A container's top process started by the fork server; Popen's shape where the
    containerizer uses it (returncodes: negative = killed by that signal)."""

    def __init__(self, pid: int, pidfd: int) -> None:
        self.pid = pid
        self.pidfd: int | None = pidfd  # the containerizer takes it over (take_pidfd)
        self._done = threading.Event()
        self._returncode: int | None = None

    def take_pidfd(self) -> int:
        pidfd = self.pidfd
        assert pidfd is not None
        self.pidfd = None
        return pidfd

    def poll(self) -> int | None:
        return self._returncode

    def wait(self) -> int | None:
        """The returncode once the server reported it; None when it never will (the server
        died, or did not answer within `_STATUS_TIMEOUT`)."""
        if not self._done.wait(_STATUS_TIMEOUT):
            log.warning("no exit status from the fork server pid=%d", self.pid)
        return self._returncode

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def exited(self, status: int | None) -> None:
        if status is not None:
            self._returncode = os.waitstatus_to_exitcode(status)
        self._done.set()


class _Connection:
    """One running server: its process, socket and reader thread."""

    def __init__(self, python: str, warm_scripts: Sequence[str]) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        for end in (ours, theirs):
            end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _SEND_BUFFER)
        try:
            self.process = subprocess.Popen(
                [python, "-I", "-S", SERVER, "--fd", str(theirs.fileno()), *warm_scripts],
                stdin=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
                start_new_session=True,  # signals to the agent's process group spare it
            )
        finally:
            theirs.close()
        self.sock = ours
        self.replies: queue.SimpleQueue[ForkedProcess | fork_wire.Failed | None]
        self.replies = queue.SimpleQueue()
        self.processes: dict[int, ForkedProcess] = {}
        self.alive = True
        self.lock = threading.Lock()  # processes, alive
        threading.Thread(target=self._read, name="fork-server-reader", daemon=True).start()

    def _read(self) -> None:
        fds = array.array("i")
        try:
            while True:
                data, ancdata, _flags, _addr = self.sock.recvmsg(
                    _RECV_BYTES, socket.CMSG_SPACE(fork_wire.STARTED_FDS * fds.itemsize)
                )
                received = _fds(ancdata)
                if not data:
                    break
                self._dispatch(fork_wire.decode_reply(data), received)
        except (OSError, ValueError) as err:
            log.error("fork server connection broken: %s", err)
        finally:
            self._lost()

    def _dispatch(self, reply: fork_wire.Reply, fds: list[int]) -> None:
        if isinstance(reply, fork_wire.Exited):
            with self.lock:
                process = self.processes.pop(reply.pid, None)
            if process is not None:
                process.exited(reply.status)
            return
        if isinstance(reply, fork_wire.Started):
            if len(fds) != fork_wire.STARTED_FDS:
                for fd in fds:
                    os.close(fd)
                raise ValueError("a Started reply without its pidfd")
            process = ForkedProcess(reply.pid, fds[0])
            with self.lock:  # registered here, before any Exited of that pid can be read
                self.processes[reply.pid] = process
            self.replies.put(process)
            return
        for fd in fds:
            os.close(fd)
        self.replies.put(reply)

    def _lost(self) -> None:
        with self.lock:
            self.alive = False
            orphans, self.processes = list(self.processes.values()), {}
        for process in orphans:
            process.exited(None)  # still running, but nobody will report their end now
        self.replies.put(None)
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)  # reaped; the next launch starts a new server

    def request(self, request: fork_wire.ForkRequest, stdout: int, stderr: int) -> ForkedProcess:
        fds = array.array("i", [stdout, stderr]).tobytes()
        data = fork_wire.encode_request(request)
        if len(data) > fork_wire.MAX_REQUEST_BYTES:
            raise LaunchFailed(f"the launch request is {len(data)} bytes (environment too large)")
        try:
            self.sock.sendmsg(
                [data],
                [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)],
            )
        except OSError as err:
            raise LaunchFailed(f"cannot reach the fork server: {err}") from err
        try:
            reply = self.replies.get(timeout=_REPLY_TIMEOUT)
        except queue.Empty:
            self.close()
            raise LaunchFailed("the fork server did not answer") from None
        if reply is None:
            raise LaunchFailed("the fork server died")
        if isinstance(reply, fork_wire.Failed):
            raise LaunchFailed(reply.message)
        return reply

    def close(self) -> None:
        """Make the server exit (end of file); its containers keep running."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)


def _fds(ancdata: list[tuple[int, int, bytes]]) -> list[int]:
    fds = array.array("i")
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    return list(fds)


class ForkServer:
    """Starts containers through a fork server that runs `python` with `warm_scripts` loaded."""

    def __init__(self, python: str, warm_scripts: Sequence[str]) -> None:
        self.python = python
        self.warm_scripts = tuple(warm_scripts)
        self._lock = threading.Lock()  # one request at a time; guards _connection
        self._connection: _Connection | None = None

    def warm_script(self, argv: Sequence[str]) -> str | None:
        return fork_wire.warm_script(argv, self.python, self.warm_scripts)

    def spawn(self, request: fork_wire.ForkRequest, stdout: int, stderr: int) -> ForkedProcess:
        with self._lock:
            connection = self._connection
            if connection is None or not connection.alive:
                try:
                    connection = self._connection = _Connection(self.python, self.warm_scripts)
                except OSError as err:
                    raise LaunchFailed(f"cannot start the fork server: {err}") from err
                log.info("fork server started pid=%d", connection.process.pid)
            return connection.request(request, stdout, stderr)

    def pid(self) -> int | None:
        connection = self._connection
        return connection.process.pid if connection is not None and connection.alive else None

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
