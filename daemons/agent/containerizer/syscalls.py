"""The Linux calls Python 3.11's `os` lacks (3.12 adds unshare/setns), through libc.

Each acts on the *calling thread* only: the launcher runs them on its own dedicated thread, the
fork server (fork_server.py, which imports this file as a top-level module: stdlib only) in its
single-threaded children.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REC = 0x4000
MS_PRIVATE = 1 << 18

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.unshare.argtypes = [ctypes.c_int]
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
_libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_void_p]
# prctl(2) is variadic; the kernel reads (and for NO_NEW_PRIVS checks) all four extra words.
_libc.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4


def _check(result: object, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def setns(fd: int, nstype: int) -> None:
    _check(_libc.setns(fd, nstype), "setns")


def sethostname(name: str) -> None:
    raw = name.encode("ascii")
    _check(_libc.sethostname(raw, len(raw)), "sethostname")


def mount(source: str, target: str, fstype: str | None, flags: int) -> None:
    kind = None if fstype is None else fstype.encode()
    _check(_libc.mount(source.encode(), target.encode(), kind, flags, None), f"mount {target}")


def set_no_new_privs() -> None:
    """Irreversible for this thread and everything it starts: exec can never gain privileges."""
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")


def set_child_subreaper() -> None:
    """Orphaned descendants are re-parented to this process (not to init): it reaps them."""
    _check(_libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl(PR_SET_CHILD_SUBREAPER)")
