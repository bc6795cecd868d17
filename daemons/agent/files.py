"""The files API: `/files/browse`, `/files/read`, `/files/download` (+ `.json`), `/files/debug`.

A `path` is either a host sandbox path (what `/state` shows as an executor's `directory`) or
Mesos' virtual form `/frameworks/<fid>/executors/<eid>/runs/latest[/...]`. Query values are
percent-decoded exactly once. Resolution has two steps, with no gap between a check and an open:

1. `locate` (lexical, pure): a NUL byte or a `..` component is a 400; the path names an attached
   directory (the sandboxes tree, or an executor's run directory for the virtual form) and a
   relative path beneath it, else 404 -- so `/etc/passwd` is "not found".
2. `beneath.open_beneath` opens that relative path from the directory's fd, refusing every
   symlink on the way (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS). A symlink in a sandbox is
   "not found" wherever it points, and a component a task swaps for a symlink meanwhile cannot
   lead the open out: what is read, listed or sent is the file that was opened.
"""

from __future__ import annotations

import errno
import grp
import mimetypes
import os
import pwd
import re
import stat
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from flask import Blueprint, Response, jsonify, request, send_file

from daemons.agent.beneath import Resolver, components, open_beneath
from daemons.agent.web import current_runtime
from daemons.kit.errors import BadRequest, NotFound
from daemons.protocols import JSON

PAGE = 4096
MAX_READ = 16 * PAGE  # Mesos caps one read at 16 pages
_INTEGER = re.compile(r"^-?\d{1,19}$")
# What a failed open beneath a root means "not found": missing, a symlink (ELOOP), an escape
# (EXDEV), a socket (ENXIO), a name too long.
_NOT_FOUND = frozenset(
    {
        errno.ENOENT,
        errno.ENOTDIR,
        errno.ELOOP,
        errno.EXDEV,
        errno.ENXIO,
        errno.EACCES,
        errno.EPERM,
        errno.ENAMETOOLONG,
    }
)

bp = Blueprint("files", __name__)


# --- resolution -----------------------------------------------------------------------------


def _beneath(names: list[str], root: Sequence[str]) -> list[str] | None:
    """The names after `root`'s, when `names` starts with them."""
    return names[len(root) :] if names[: len(root)] == list(root) else None


def locate(
    path: str | None, roots: Sequence[Path], virtual: Mapping[str, Path]
) -> tuple[Path, str]:
    """(attached directory, path relative to it) that `path` names, or BadRequest/NotFound."""
    if not path:
        raise BadRequest("Expecting 'path' to be present")
    if "\x00" in path:
        raise BadRequest("'path' must not contain a NUL byte")
    try:
        names = components(path)
    except ValueError:
        raise BadRequest("'path' must not contain '..'") from None
    for prefix, directory in virtual.items():
        rest = _beneath(names, components(prefix))
        if rest is not None:
            return directory, "/".join(rest)
    if path.startswith("/"):
        for root in roots:
            # The root as configured, or as the kernel spells it (work_dir may be a symlink).
            for spelling in {str(root), os.path.realpath(root)}:
                rest = _beneath(names, components(spelling))
                if rest is not None:
                    return Path(spelling), "/".join(rest)
    raise NotFound(f"Path '{path}' not found")


@contextmanager
def opened(
    path: str | None,
    roots: Sequence[Path],
    virtual: Mapping[str, Path],
    resolver: Resolver | None = None,
) -> Iterator[int]:
    """An fd on the file or directory `path` names, closed after the block."""
    directory, relative = locate(path, roots, virtual)
    try:
        fd = open_beneath(str(directory), relative, resolver=resolver)
    except OSError as err:
        if err.errno in _NOT_FOUND:
            raise NotFound(f"Path '{path}' not found") from None
        raise
    try:
        yield fd
    finally:
        os.close(fd)


def parse_number(value: str | None, name: str) -> int:
    """offset/length: absent means -1; otherwise an integer of at least -1."""
    if value is None:
        return -1
    if not _INTEGER.match(value):
        raise BadRequest(f"Failed to parse {name}: {value!r} is not an integer")
    number = int(value)
    if number < -1:
        raise BadRequest(f"Negative {name} provided: {number}")
    return number


def read_chunk(fd: int, offset: int, length: int) -> JSON:
    """`{"data", "offset"}`: offset -1 asks for the size; at most 16 pages per read."""
    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):
        raise BadRequest("Cannot read a directory")
    size = info.st_size
    if offset == -1:
        return {"data": "", "offset": size}
    length = MAX_READ if length == -1 else min(length, MAX_READ)
    if offset >= size or length == 0:
        return {"data": "", "offset": offset}
    data = os.pread(fd, length, offset)
    return {"data": data.decode("utf-8", "replace"), "offset": offset}


def _owner(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def browse_dir(fd: int, shown: str) -> list[JSON]:
    if not stat.S_ISDIR(os.fstat(fd).st_mode):
        raise BadRequest("Cannot browse a file; use /files/read")
    out = []
    with os.scandir(fd) as entries:
        listing = sorted(entries, key=lambda e: e.name)
    for entry in listing:
        st = entry.stat(follow_symlinks=False)
        out.append(
            {
                "path": shown.rstrip("/") + "/" + entry.name,
                "nlink": st.st_nlink,
                "size": st.st_size,
                "mtime": st.st_mtime,
                "mode": stat.filemode(st.st_mode),
                "uid": _owner(st.st_uid),
                "gid": _group(st.st_gid),
            }
        )
    return out


def attachment_name(name: str) -> str:
    """A file name safe inside `Content-Disposition` (no CR/LF, quotes, backslashes, non-ASCII)."""
    safe = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\;' else "_" for c in name)
    return safe or "download"


def _request_path() -> tuple[str | None, list[Path], dict[str, Path]]:
    roots, virtual = current_runtime().attached()
    return request.args.get("path"), roots, virtual


# --- endpoints -----------------------------------------------------------------------------


@bp.get("/files/browse")
@bp.get("/files/browse.json")
def browse() -> Response:
    path, roots, virtual = _request_path()
    with opened(path, roots, virtual) as fd:
        return jsonify(browse_dir(fd, str(path)))


@bp.get("/files/read")
@bp.get("/files/read.json")
def read() -> Response:
    offset = parse_number(request.args.get("offset"), "offset")
    length = parse_number(request.args.get("length"), "length")
    path, roots, virtual = _request_path()
    with opened(path, roots, virtual) as fd:
        return jsonify(read_chunk(fd, offset, length))


@bp.get("/files/download")
@bp.get("/files/download.json")
def download() -> Response:
    path, roots, virtual = _request_path()
    with opened(path, roots, virtual) as fd:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise BadRequest("Cannot download a directory")
        if not stat.S_ISREG(mode):
            raise BadRequest("Cannot download a special file")
        name = components(str(path))[-1]
        handle = os.fdopen(os.dup(fd), "rb")  # werkzeug closes it when the response is done
    mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return send_file(
        handle, mimetype=mimetype, as_attachment=True, download_name=attachment_name(name)
    )


@bp.get("/files/debug")
@bp.get("/files/debug.json")
def debug() -> Response:
    _, _, virtual = _request_path()
    return jsonify({k: str(v) for k, v in virtual.items()})
