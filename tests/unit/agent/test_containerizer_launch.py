"""The pure parts of launching: argv building, hostnames, statuses and messages, the sandbox."""

from __future__ import annotations

import os
import signal
import stat
from pathlib import Path

import pytest

from daemons.agent.containerizer.errors import InvalidSpec
from daemons.agent.containerizer.launch import (
    container_argv,
    container_hostname,
    shell_join_argv,
)
from daemons.agent.containerizer.model import MEMORY_LIMITATION
from daemons.agent.containerizer.processes import termination_message, wait_status
from daemons.agent.containerizer.sandbox import UserIds, lookup_user, prepare_sandbox

NOBODY = UserIds("nobody", 65534, 65534, (65534,))
EXECUTOR = ["/usr/bin/python3", "-I", "-S", "command.py"]


def test_argv_for_a_user_without_supplementary_groups_is_one_unshare() -> None:
    assert container_argv("/usr/bin/unshare", "/usr/bin/setpriv", NOBODY, EXECUTOR) == [
        "/usr/bin/unshare", "--mount", "--mount-proc", "--ipc",
        "--setgid", "65534", "--setuid", "65534",
        "--", *EXECUTOR,
    ]  # fmt: skip


def test_argv_for_a_user_with_groups_goes_through_setpriv() -> None:
    user = UserIds("deploy", 1000, 1000, (1000, 27, 44))
    argv = container_argv("unshare", "setpriv", user, EXECUTOR)
    assert argv == [
        "unshare", "--mount", "--mount-proc", "--ipc",
        "--", "setpriv", "--regid=1000", "--reuid=1000", "--groups=1000,27,44",
        "--", *EXECUTOR,
    ]  # fmt: skip


@pytest.mark.parametrize("user", [None, UserIds("root", 0, 0, (0,))])
def test_argv_for_root_keeps_the_ids(user: UserIds | None) -> None:
    argv = container_argv("unshare", "setpriv", user, ["sleep", "1"])
    assert argv == ["unshare", "--mount", "--mount-proc", "--ipc", "--", "sleep", "1"]


def test_shell_join_quotes_paths_and_execs_the_rest() -> None:
    argv = shell_join_argv(["/sys/fs/cgroup/a b/cgroup.procs"], ["unshare", "--", "x"])
    assert argv[:2] == ["/bin/sh", "-c"]
    assert argv[2] == "echo 0 > '/sys/fs/cgroup/a b/cgroup.procs' && exec \"$@\""
    assert argv[3:] == ["pydcos-join", "unshare", "--", "x"]  # $0, then "$@"


def test_hostname_is_the_container_id_cut_to_64() -> None:
    assert container_hostname("c1") == "c1"
    assert container_hostname("x" * 100) == "x" * 64


def test_wait_status_round_trips_popen_returncodes() -> None:
    assert os.WEXITSTATUS(wait_status(3)) == 3
    assert os.WIFEXITED(wait_status(0))
    assert os.WTERMSIG(wait_status(-9)) == 9


@pytest.mark.parametrize(
    ("status", "limitation", "message"),
    [
        (0, None, "Container exited with status 0"),
        (3 << 8, None, "Container exited with status 3"),
        (signal.SIGKILL, None, "Container terminated by signal SIGKILL"),
        (None, None, "Container terminated (its exit status was not ours to collect)"),
        (
            signal.SIGKILL,
            MEMORY_LIMITATION,
            "Memory limit exceeded: the OOM killer fired in the container. "
            "Container terminated by signal SIGKILL",
        ),
    ],
)
def test_termination_messages(status: int | None, limitation: str | None, message: str) -> None:
    assert termination_message(status, limitation) == message


def test_lookup_user() -> None:
    user = lookup_user("root")
    assert (user.uid, user.gid) == (0, 0)
    with pytest.raises(InvalidSpec, match="unknown user"):
        lookup_user("no-such-user-pydcos")


def test_prepare_sandbox_makes_dir_and_output_files(tmp_path: Path) -> None:
    sandbox = tmp_path / "runs" / "c1"
    stdout, stderr = prepare_sandbox(sandbox, None)
    try:
        os.write(stdout, b"out\n")
        os.write(stderr, b"err\n")
    finally:
        os.close(stdout)
        os.close(stderr)
    assert stat.S_IMODE(sandbox.stat().st_mode) == 0o750 & ~_umask()
    assert (sandbox / "stdout").read_text() == "out\n"
    stdout, stderr = prepare_sandbox(sandbox, None)  # again: appends, never truncates
    os.write(stdout, b"more\n")
    os.close(stdout)
    os.close(stderr)
    assert (sandbox / "stdout").read_text() == "out\nmore\n"


def test_prepare_sandbox_refuses_a_symlinked_output_file(tmp_path: Path) -> None:
    (tmp_path / "stdout").symlink_to("/etc/hostname")
    with pytest.raises(OSError):
        prepare_sandbox(tmp_path, None)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
