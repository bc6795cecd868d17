"""Opening a path beneath a directory in one step, never following a symlink.

A check-then-open ("resolve the real path, see that it lies inside, open it") has a gap: a
process that can write inside the directory swaps a component for a symlink between the check
and the open, and the open follows it out. Here the kernel resolves the path from the
directory's fd and refuses every symlink on the way, so what is opened is what was asked for.

- `openat2(2)` with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS (Linux 5.6+; syscall 437 on every
  architecture, called through libc's `syscall` since Python's `os` lacks it): one walk, done
  by the kernel, that fails with ELOOP at any symlink and EXDEV at any escape.
- Where the kernel lacks it (ENOSYS): one `openat(2)` per component from the directory's fd,
  each with O_NOFOLLOW, intermediate ones as O_PATH | O_DIRECTORY.

Either way `..` is refused before anything is opened. Errors are `OSError`s with the kernel's
errno; the caller decides which of them mean "not found".
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Callable

SYS_OPENAT2 = 437
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
# The last component: read-only, never a symlink, and never waiting (a FIFO opens at once).
FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
_STEP = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class _OpenHow(ctypes.Structure):
    """`struct open_how` of linux/openat2.h."""

    _fields_ = [
        ("flags", ctypes.c_uint64),
        ("mode", ctypes.c_uint64),
        ("resolve", ctypes.c_uint64),
    ]


# (directory fd, relative path, open flags) -> fd: `openat2_beneath` or `walk_beneath`.
Resolver = Callable[[int, str, int], int]

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_have_openat2: bool | None = None  # unknown until the first call answers


def components(relative: str) -> list[str]:
    """The names of `relative` (empty ones and `.` dropped); ValueError on `..`."""
    names = [name for name in relative.split("/") if name not in ("", ".")]
    if ".." in names:
        raise ValueError("'..' is not allowed")
    return names


def openat2_beneath(dirfd: int, relative: str, flags: int = FLAGS) -> int:
    """openat2(dirfd, relative) with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS."""
    path = "/".join(components(relative)) or "."
    how = _OpenHow(flags, 0, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)
    fd = _libc.syscall(
        ctypes.c_long(SYS_OPENAT2),
        ctypes.c_int(dirfd),
        ctypes.c_char_p(os.fsencode(path)),
        ctypes.byref(how),
        ctypes.c_size_t(ctypes.sizeof(how)),
    )
    if fd < 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), path)
    return int(fd)


def walk_beneath(dirfd: int, relative: str, flags: int = FLAGS) -> int:
    """The same by hand: one O_NOFOLLOW openat per component."""
    names = components(relative)
    if not names:
        return os.open(".", flags, dir_fd=dirfd)
    current = dirfd
    try:
        for name in names[:-1]:
            step = os.open(name, _STEP, dir_fd=current)
            if current != dirfd:
                os.close(current)
            current = step
        return os.open(names[-1], flags, dir_fd=current)
    finally:
        if current != dirfd:
            os.close(current)


def open_beneath(
    directory: str, relative: str, flags: int = FLAGS, resolver: Resolver | None = None
) -> int:
    """An fd on `directory/relative`, resolved beneath `directory` without symlinks (by
    `resolver` when given, else openat2 where the kernel has it). The directory itself is
    opened normally: it is the trusted root (under the operator's work_dir)."""
    global _have_openat2
    dirfd = os.open(directory, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if resolver is not None:
            return resolver(dirfd, relative, flags)
        if _have_openat2 is not False:
            try:
                fd = openat2_beneath(dirfd, relative, flags)
            except OSError as err:
                if err.errno != errno.ENOSYS:
                    raise
                _have_openat2 = False
            else:
                _have_openat2 = True
                return fd
        return walk_beneath(dirfd, relative, flags)
    finally:
        os.close(dirfd)
