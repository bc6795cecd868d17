"""Handing freed memory back to the kernel after a large rebuild.

A daemon that rebuilds big structures (a 10,000-task `/master/state` parsed, a DNS zone of
70,000 names) frees the old ones, but glibc keeps freed heap memory for later allocations:
the daemon's RSS stays near its peak. `malloc_trim(0)` returns the free pages of every heap
(bench/dns_memory.py measures it: ≈ 18 MiB of a 10,000-task Mesos-DNS load). It costs a walk
of the heaps' free lists (well under a millisecond when little is free), so daemons call it
after a rebuild, not on the query path. Memory CPython's own allocator keeps (its arenas of
small objects) is not touched: an arena goes back only once all of it is free.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any


@functools.cache
def _libc() -> Any:
    """glibc, or None where there is none (musl, another system)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return libc


def release_free_memory() -> bool:
    """Return the free pages of the C heaps to the kernel; whether there was glibc to ask."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
