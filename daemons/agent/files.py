"""The files API: `/files/browse`, `/files/read`, `/files/download` (+ `.json`), `/files/debug`.

A `path` is either a host sandbox path (what `/state` shows as an executor's `directory`) or
Mesos' virtual form `/frameworks/<fid>/executors/<eid>/runs/latest[/...]`. Resolution is strict
(files.cpp resolve, reliability §(c)): a NUL byte or a `..` component is a 400; the real path
(symlinks resolved) must lie inside an attached root, else 404 — so `/etc/passwd` and a symlink
leading out of a sandbox are both "not found". Query values are percent-decoded exactly once.
"""

from __future__ import annotations

import grp
import mimetypes
import os
import pwd
import re
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Blueprint, Response, jsonify, request, send_file

from daemons.kit.errors import BadRequest, NotFound
from daemons.protocols import JSON

if TYPE_CHECKING:
    from daemons.agent.agent import Agent


PAGE = 4096
MAX_READ = 16 * PAGE  # Mesos caps one read at 16 pages
_INTEGER = re.compile(r"^-?\d{1,19}$")

bp = Blueprint("files", __name__)


# --- resolution (pure but for realpath/stat) -----------------------------------------------


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def resolve(path: str | None, roots: Sequence[Path], virtual: Mapping[str, Path]) -> Path:
    """The real file a `path` names, or BadRequest/NotFound."""
    if not path:
        raise BadRequest("Expecting 'path' to be present")
    if "\x00" in path:
        raise BadRequest("'path' must not contain a NUL byte")
    if ".." in path.split("/"):
        raise BadRequest("'path' must not contain '..'")
    candidate: Path | None = None
    allowed = [os.path.realpath(r) for r in roots]
    normalized = "/" + path.strip("/")
    for prefix, real in virtual.items():
        if _within(normalized, prefix):
            candidate = real / normalized[len(prefix) :].lstrip("/")
            allowed = [os.path.realpath(real)]
            break
    if candidate is None:
        if not path.startswith("/"):
            raise NotFound(f"Path '{path}' not found")
        candidate = Path(path)
    real_path = os.path.realpath(candidate)
    if not any(_within(real_path, root) for root in allowed) or not os.path.exists(real_path):
        raise NotFound(f"Path '{path}' not found")
    return Path(real_path)


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


def read_chunk(path: Path, offset: int, length: int) -> JSON:
    """`{"data", "offset"}`: offset -1 asks for the size; at most 16 pages per read."""
    if path.is_dir():
        raise BadRequest("Cannot read a directory")
    size = path.stat().st_size
    if offset == -1:
        return {"data": "", "offset": size}
    length = MAX_READ if length == -1 else min(length, MAX_READ)
    if offset >= size or length == 0:
        return {"data": "", "offset": offset}
    with open(path, "rb") as handle:
        handle.seek(offset)
        data = handle.read(length)
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


def browse_dir(path: Path, shown: str) -> list[JSON]:
    if not path.is_dir():
        raise BadRequest("Cannot browse a file; use /files/read")
    out = []
    for entry in sorted(os.scandir(path), key=lambda e: e.name):
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


# --- the agent's attached paths -------------------------------------------------------------


def attached(agent: Agent) -> tuple[list[Path], dict[str, Path]]:
    """Roots (the sandboxes tree) and virtual path -> latest run directory of each executor."""
    virtual: dict[str, Path] = {}
    with agent.lock:
        frameworks = [*agent.completed_frameworks, *agent.frameworks.values()]
        for framework in frameworks:
            for executor in [*framework.completed_executors, *framework.executors.values()]:
                key = f"/frameworks/{framework.framework_id}/executors/{executor.executor_id}"
                virtual[f"{key}/runs/latest"] = executor.directory
    return [agent.work_dir / "slaves"], virtual


def _resolve_request() -> tuple[Path, str]:
    from daemons.agent.agent import current_agent

    path = request.args.get("path")
    roots, virtual = attached(current_agent())
    return resolve(path, roots, virtual), str(path)


# --- endpoints -----------------------------------------------------------------------------


@bp.get("/files/browse")
@bp.get("/files/browse.json")
def browse() -> Response:
    real, shown = _resolve_request()
    return jsonify(browse_dir(real, shown))


@bp.get("/files/read")
@bp.get("/files/read.json")
def read() -> Response:
    offset = parse_number(request.args.get("offset"), "offset")
    length = parse_number(request.args.get("length"), "length")
    real, _ = _resolve_request()
    return jsonify(read_chunk(real, offset, length))


@bp.get("/files/download")
@bp.get("/files/download.json")
def download() -> Response:
    real, _ = _resolve_request()
    if real.is_dir():
        raise BadRequest("Cannot download a directory")
    mimetype = mimetypes.guess_type(real.name)[0] or "application/octet-stream"
    return send_file(
        real, mimetype=mimetype, as_attachment=True, download_name=attachment_name(real.name)
    )


@bp.get("/files/debug")
@bp.get("/files/debug.json")
def debug() -> Response:
    from daemons.agent.agent import current_agent

    _, virtual = attached(current_agent())
    return jsonify({k: str(v) for k, v in virtual.items()})
