"""A process that swaps a directory and a symlink back and forth as fast as it can (for the
/files race tests; not a test module).

`renameat2(RENAME_EXCHANGE)` trades the two names atomically, so at every instant the path is
either the real directory or the symlink leading out of the sandbox, never missing: a reader
that checks the path and then opens it sees one and opens the other as often as the scheduler
allows.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

SWAPPER = r"""
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
a, b = (p.encode() for p in sys.argv[1:3])
print("swapping", flush=True)
while True:
    if libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0:
        raise OSError(ctypes.get_errno(), "renameat2")
"""


@contextlib.contextmanager
def swapping(directory: Path, outside: Path) -> Iterator[None]:
    """While the block runs, `directory` keeps trading places with a symlink to `outside`."""
    link = directory.with_name(directory.name + ".swap")
    os.symlink(outside, link)
    proc = subprocess.Popen(
        [sys.executable, "-c", SWAPPER, str(directory), str(link)],
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"swapping\n"
        yield
    finally:
        proc.kill()
        proc.wait()
        # Leave the real directory under its own name, whichever way the last swap went.
        if directory.is_symlink():
            directory.unlink()
            os.rename(link, directory)
        else:
            link.unlink()
