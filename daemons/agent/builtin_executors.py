"""Where the built-in executors run from: a root-owned, world-readable copy of their files.

Executors run as the task's (unprivileged) user, who may not be able to read the agent's own
installation — a checkout under /root is mode 0700. At start the agent copies the stdlib-only
executor files into `<libexec_dir>/<content hash>/` (directories 0755, files 0644), compiles them
there (so every executor start loads cached bytecode), and runs them from that copy. The hash
names the version: an upgrade adds a directory and never rewrites files a running executor uses.

Beside them goes the part of the protocols layer they share with the agent (`SHARED`: the task
states and the RecordIO framing, modules that import nothing at start-up), as the package
`daemons.protocols` of its own: the executors import it from there (command.py puts the copy's
directory first on sys.path), and nothing else of the project.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import py_compile
import shutil
import tempfile
from pathlib import Path

from daemons.agent.config import AgentConfig

log = logging.getLogger(__name__)

SOURCE = Path(__file__).resolve().parent / "executors"
FILES = (
    "command.py",
    "command_executor.py",
    "executor_wire.py",
    "health_checks.py",
    "health_probes.py",
    "default.py",
    "default_executor.py",
)
SCRIPTS = ("command.py", "default.py")  # run, not imported: Python compiles them on each run
# The tree the `daemons` package lives in, and the files of it the executors import, relative
# to it (each package with its __init__).
PROJECT = Path(__file__).resolve().parents[2]
SHARED = (
    "daemons/__init__.py",
    "daemons/protocols/__init__.py",
    "daemons/protocols/recordio.py",
    "daemons/protocols/states.py",
)
_DONE = ".installed"


def _sources() -> list[tuple[str, Path]]:
    """(path in the copy, source file) of everything the copy holds."""
    return [(name, SOURCE / name) for name in FILES] + [(name, PROJECT / name) for name in SHARED]


def _digest() -> str:
    sha = hashlib.sha256()
    for name, source in _sources():
        sha.update(name.encode() + b"\0" + source.read_bytes())
    return sha.hexdigest()[:16]


def install(libexec_dir: Path) -> Path:
    """The directory to run the executors from; the source directory when it cannot copy."""
    dest = libexec_dir / _digest()
    if (dest / _DONE).exists():
        return dest
    try:
        libexec_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=libexec_dir))
        for name, source in _sources():
            target = staging / name
            target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            os.chmod(target, 0o644)
            if name not in SCRIPTS:
                cfile = Path(importlib.util.cache_from_source(str(target)))
                py_compile.compile(str(target), cfile=str(cfile), doraise=True)
                os.chmod(cfile, 0o644)
        for directory in (staging, *(p for p in staging.rglob("*") if p.is_dir())):
            os.chmod(directory, 0o755)  # whatever the umask made of them
        (staging / _DONE).touch(mode=0o644)
        try:
            staging.rename(dest)
        except OSError:  # another agent on this host installed the same version first
            shutil.rmtree(staging, ignore_errors=True)
        return dest
    except OSError as err:
        log.warning(
            "cannot install executors into %s (%s); running them from %s", dest, err, SOURCE
        )
        return SOURCE


def argv(config: AgentConfig) -> tuple[list[str], list[str]]:
    """The argv of the command executor and of the default executor: the configured scripts,
    or the installed copy of ours, run by `executor_python -I -S` (isolated, no site)."""
    builtin = (
        install(Path(config.libexec_dir))
        if not (config.command_executor and config.default_executor)
        else SOURCE
    )
    command = config.command_executor or str(builtin / "command.py")
    default = config.default_executor or str(builtin / "default.py")
    return (
        [config.executor_python, "-I", "-S", command],
        [config.executor_python, "-I", "-S", default],
    )
