"""The four Linux calls Python 3.11's `os` lacks (3.12 adds unshare/setns), through libc.

Each acts on the *calling thread* only: the launcher runs them on its own dedicated thread.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

CLONE_NEWUTS = 0x04000000
CLONE_NEWPID = 0x20000000
PR_SET_NO_NEW_PRIVS = 38

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.unshare.argtypes = [ctypes.c_int]
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
_libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
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


def set_no_new_privs() -> None:
    """Irreversible for this thread and everything it starts: exec can never gain privileges."""
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
