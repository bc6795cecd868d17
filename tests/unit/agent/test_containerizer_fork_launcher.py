"""The agent's side of the fork server (fork_launcher.py) against a stand-in server
(fake_fork_server.py: plain children, no isolation): answers, exit statuses, a dead server."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemons.agent.containerizer import LaunchFailed, fork_launcher
from daemons.agent.containerizer.fork_launcher import ForkServer
from daemons.agent.containerizer.fork_wire import ForkRequest

FAKE = str(Path(__file__).resolve().parent / "fake_fork_server.py")


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ForkServer]:
    monkeypatch.setattr(fork_launcher, "SERVER", FAKE)
    forks = ForkServer(sys.executable, ())
    yield forks
    forks.close()


def request(*argv: str) -> ForkRequest:
    return ForkRequest(tuple(argv), {}, "/", "h", None, None, (), (), None)


def spawn(server: ForkServer, *argv: str, out: Path) -> fork_launcher.ForkedProcess:
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        return server.spawn(request(*argv), fd, fd)
    finally:
        os.close(fd)


def test_a_started_process_comes_with_its_pidfd_and_exit_status(
    server: ForkServer, tmp_path: Path
) -> None:
    process = spawn(server, "exit", "3", out=tmp_path / "out")
    pidfd = process.take_pidfd()
    try:
        assert process.wait() == 3 and process.poll() == 3
        assert (tmp_path / "out").read_text() == "started\n"  # fds went over SCM_RIGHTS
    finally:
        os.close(pidfd)


def test_a_refusal_is_a_launch_failure(server: ForkServer, tmp_path: Path) -> None:
    with pytest.raises(LaunchFailed, match="asked to fail"):
        spawn(server, "fail", out=tmp_path / "out")
    process = spawn(server, "exit", "0", out=tmp_path / "out")  # the server goes on
    os.close(process.take_pidfd())
    assert process.wait() == 0


def test_a_dead_server_fails_the_launch_and_the_next_one_starts_a_new_server(
    server: ForkServer, tmp_path: Path
) -> None:
    sleeper = spawn(server, "sleep", out=tmp_path / "out")
    first = server.pid()
    with pytest.raises(LaunchFailed, match="died"):
        spawn(server, "die", out=tmp_path / "out")
    assert sleeper.wait() is None  # still running, but nobody can report its end now
    pidfd = sleeper.take_pidfd()
    signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    os.close(pidfd)
    process = spawn(server, "exit", "5", out=tmp_path / "out")
    assert server.pid() not in (None, first)
    os.close(process.take_pidfd())
    assert process.wait() == 5


def test_an_oversized_request_is_refused_before_sending(server: ForkServer) -> None:
    huge = ForkRequest(("exit", "0"), {"X": "x" * (2 << 20)}, "/", "h", None, None, (), (), None)
    with pytest.raises(LaunchFailed, match="too large"):
        server.spawn(huge, 1, 2)
