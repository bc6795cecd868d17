"""The agent's copy of the built-in executors where anyone may read it, installed from a tree
only root may read (like a checkout under /root), and how to run something as nobody there
(not a test module)."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from daemons.agent import builtin_executors

AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


@contextlib.contextmanager
def public_copy(private: Path) -> Iterator[Path]:
    """Install the copy (from a test whose `private` directory is made 0700) under /var/tmp."""
    private.chmod(0o700)
    libexec = Path(tempfile.mkdtemp(prefix="pydcos-libexec-", dir="/var/tmp")) / "libexec"
    try:
        dest = builtin_executors.install(libexec)
        libexec.parent.chmod(0o755)
        yield dest
    finally:
        shutil.rmtree(libexec.parent, ignore_errors=True)
