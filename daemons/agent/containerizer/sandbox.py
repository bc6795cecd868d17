"""The task user and the sandbox directory the container starts in.

The sandbox is made 0750 and owned by the task user (Mesos chowns it the same way), with `stdout`
and `stderr` files (0640, appended to, never truncated: a recovered or relaunched run keeps its
earlier output) that become the container's fds 1 and 2.
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from pathlib import Path

from daemons.agent.containerizer.errors import InvalidSpec

SANDBOX_MODE = 0o750
OUTPUT_MODE = 0o640


@dataclass(frozen=True)
class UserIds:
    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]  # supplementary groups, primary group included


def lookup_user(name: str) -> UserIds:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise InvalidSpec(f"unknown user {name!r}") from None
    return UserIds(name, entry.pw_uid, entry.pw_gid, tuple(os.getgrouplist(name, entry.pw_gid)))


def prepare_sandbox(sandbox: Path, owner: UserIds | None) -> tuple[int, int]:
    """Make the sandbox and open its stdout/stderr; returns the two fds (the caller closes them).

    `owner` None: leave ownership alone (no root to chown with)."""
    sandbox.mkdir(mode=SANDBOX_MODE, parents=True, exist_ok=True)
    if owner is not None:
        os.chown(sandbox, owner.uid, owner.gid)
        os.chmod(sandbox, SANDBOX_MODE)
    fds: list[int] = []
    try:
        for name in ("stdout", "stderr"):
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC | os.O_NOFOLLOW
            fd = os.open(sandbox / name, flags, OUTPUT_MODE)
            fds.append(fd)
            if owner is not None:
                os.fchown(fd, owner.uid, owner.gid)
    except OSError:
        for fd in fds:
            os.close(fd)
        raise
    return fds[0], fds[1]
