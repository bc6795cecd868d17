"""What the agent and its fork server (fork_server.py) say to each other. Pure: no I/O.

One SOCK_SEQPACKET socketpair, one JSON object per message (the kernel keeps the boundaries, so
no framing), file descriptors beside them as SCM_RIGHTS:

- agent -> server: a launch request (`ForkRequest`), with the container's stdout and stderr.
- server -> agent, in this order for each request: `Started` (with a pidfd of the container's
  top process, opened before the server could reap it, so that the agent never watches a reused
  pid) or `Failed`; later, for every started one, `Exited` with the raw waitpid(2) status.

Both sides import this file: the agent as `daemons.agent.containerizer.fork_wire`, the server
(run with `python -I -S`, standard library only) as a top-level module. So: standard library
only, and nothing costly at import.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing itself is not imported at run time
    from typing import TypeGuard

# SCM_RIGHTS fds a request carries (stdout, stderr) and a Started reply carries (the pidfd).
REQUEST_FDS = 2
STARTED_FDS = 1
# The largest request (the environment is most of it); the agent refuses a launch beyond it.
MAX_REQUEST_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ForkRequest:
    argv: tuple[str, ...]
    environment: Mapping[str, str]  # the whole environment; nothing comes from the server's
    cwd: str
    hostname: str
    uid: int | None  # None: keep the server's ids (root)
    gid: int | None
    groups: tuple[int, ...]  # supplementary groups after the drop (setgroups)
    join_files: tuple[str, ...]  # cgroup.procs files the child writes itself into first
    warm: str | None  # a warm script of the server to run instead of exec'ing argv


@dataclass(frozen=True)
class Started:
    pid: int  # host pid of the container's top process (pid 1 inside)


@dataclass(frozen=True)
class Failed:
    message: str


@dataclass(frozen=True)
class Exited:
    pid: int
    status: int  # raw waitpid(2) status


Reply = Started | Failed | Exited


def warm_script(argv: Sequence[str], python: str, scripts: Sequence[str]) -> str | None:
    """The warm script `argv` asks for: exactly `[python, "-I", "-S", script]` with `script`
    one the server loaded (anything else is exec'ed, as before)."""
    if len(argv) == 4 and argv[0] == python and tuple(argv[1:3]) == ("-I", "-S"):
        return argv[3] if argv[3] in scripts else None
    return None


def user_ids(
    uid: int | None, gid: int | None, groups: Sequence[int]
) -> tuple[int | None, int | None, tuple[int, ...]]:
    """(uid, gid, supplementary groups) of the drop, as util-linux does it: root keeps the
    server's ids; a user whose only group is its primary one gets none (`--setgid` clears
    them); others get their list (`setpriv --groups`)."""
    if uid is None or gid is None or uid == 0:
        return None, None, ()
    return uid, gid, () if set(groups) <= {gid} else tuple(groups)


def encode_request(request: ForkRequest) -> bytes:
    body = {
        "argv": list(request.argv),
        "env": dict(request.environment),
        "cwd": request.cwd,
        "hostname": request.hostname,
        "uid": request.uid,
        "gid": request.gid,
        "groups": list(request.groups),
        "join": list(request.join_files),
        "warm": request.warm,
    }
    return json.dumps(body, separators=(",", ":")).encode("ascii")


def decode_request(data: bytes) -> ForkRequest:
    """ValueError on anything but a well-formed request (the server answers it Failed)."""
    body = _object(data)
    argv, env = body.get("argv"), body.get("env")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise ValueError("argv: a non-empty list of strings")
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise ValueError("env: an object of strings")
    uid, gid, groups = body.get("uid"), body.get("gid"), body.get("groups")
    if not ((uid is None and gid is None) or (_id(uid) and _id(gid))):
        raise ValueError("uid and gid: both ids or both null")
    if not isinstance(groups, list) or not all(_id(g) for g in groups):
        raise ValueError("groups: a list of ids")
    join, cwd, hostname, warm = (
        body.get("join"),
        body.get("cwd"),
        body.get("hostname"),
        body.get("warm"),
    )
    if not isinstance(join, list) or not all(isinstance(p, str) for p in join):
        raise ValueError("join: a list of paths")
    if not isinstance(cwd, str) or not isinstance(hostname, str):
        raise ValueError("cwd and hostname: strings")
    if warm is not None and not isinstance(warm, str):
        raise ValueError("warm: a path or null")
    return ForkRequest(tuple(argv), env, cwd, hostname, uid, gid, tuple(groups), tuple(join), warm)


def encode_reply(reply: Reply) -> bytes:
    if isinstance(reply, Started):
        body: dict[str, object] = {"started": reply.pid}
    elif isinstance(reply, Failed):
        body = {"failed": reply.message}
    else:
        body = {"exited": reply.pid, "status": reply.status}
    return json.dumps(body, separators=(",", ":")).encode("ascii")


def decode_reply(data: bytes) -> Reply:
    body = _object(data)
    started, failed = body.get("started"), body.get("failed")
    exited, status = body.get("exited"), body.get("status")
    if _id(started):
        return Started(started)
    if isinstance(failed, str):
        return Failed(failed)
    if _id(exited) and _id(status):
        return Exited(exited, status)
    raise ValueError(f"not a fork server reply: {data[:200]!r}")


def _object(data: bytes) -> dict[str, object]:
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"not JSON: {err}") from None
    if not isinstance(body, dict):
        raise ValueError("not a JSON object")
    return body


def _id(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
