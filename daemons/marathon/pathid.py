"""Marathon PathIds: `/group/sub/app`, relative ids, validation, task id prefixes. Pure.

An id is stored absolute with a leading `/` and no trailing one; the root group is `/`.
Relative ids (`web`, `./web`, `../db`) are resolved against a base group the way Marathon's
`PathId.canonicalPath` does: `.` is dropped, `..` removes the last segment (never above root).
"""

from __future__ import annotations

import re

ROOT = "/"
MAX_ID_LENGTH = 255

# Marathon's segment pattern (PathId.ID_PATH_SEGMENT_PATTERN), quoted verbatim in its error
# message; the `|(\.|\.\.)` tail lets `.`/`..` through, which we judge separately.
SEGMENT_PATTERN = (
    r"^(([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])"
    r"|(\.|\.\.)$"
)
_SEGMENT = re.compile(
    r"(([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])",
    re.ASCII,
)
# `/v2/apps/x/restart` etc. would be ambiguous with an app called `restart`.
RESERVED_LAST_SEGMENTS = ("restart", "tasks", "versions")


def _parts(raw: str) -> list[str]:
    return [p for p in raw.split("/") if p]


def normalize(raw: str, base: str = ROOT) -> str:
    """The absolute id of `raw`: relative ids are resolved against the group `base`."""
    result = [] if raw.startswith("/") else _parts(base)
    for part in _parts(raw):
        if part == ".":
            continue
        if part == "..":
            if result:
                result.pop()
            continue
        result.append(part)
    return "/" + "/".join(result)


def validate_id(raw: str, *, allow_parent_refs: bool = False) -> list[str]:
    """Why `raw` is not a valid app/group id as a user wrote it ([] when it is).

    `..` is refused unless `allow_parent_refs` (dependencies may say `../db`, ids may not); a
    single trailing `/` is tolerated (Marathon strips it), `//` inside is not.
    """
    if not isinstance(raw, str):
        return ["expected a string"]
    problems: list[str] = []
    inner = raw[1:] if raw.startswith("/") else raw
    inner = inner[:-1] if inner.endswith("/") else inner
    parts = inner.split("/") if inner else []
    if not parts:
        return ["Path must contain at least one path element"]
    if any(p == "" for p in parts):
        problems.append("must not contain empty segments ('//')")
    if any(p == ".." for p in parts) and not allow_parent_refs:
        problems.append("must not contain '..': give the id relative to its group or absolute")
    if any(p.lower() != p for p in parts):
        problems.append("must be lowercase")
    if not all(p in ("", ".", "..") or _SEGMENT.fullmatch(p) for p in parts):
        problems.append(f"must fully match regular expression '{SEGMENT_PATTERN}'")
    if parts[-1] in RESERVED_LAST_SEGMENTS:
        reserved = ", ".join(RESERVED_LAST_SEGMENTS)
        problems.append(f"must not end with any of the following reserved keywords: {reserved}")
    if len(raw) > MAX_ID_LENGTH:
        problems.append(f"must be at most {MAX_ID_LENGTH} characters long (is {len(raw)})")
    return problems


def segments(path_id: str) -> tuple[str, ...]:
    """`/prod/web` -> ("prod", "web"); the root has none."""
    return tuple(_parts(path_id))


def parent(path_id: str) -> str:
    """The enclosing group: `/prod/web` -> `/prod`, `/web` -> `/`, `/` -> `/`."""
    return "/" + "/".join(segments(path_id)[:-1])


def is_ancestor(group: str, path_id: str) -> bool:
    """True when `path_id` lies strictly inside `group` (a group is not its own ancestor)."""
    outer, inner = segments(group), segments(path_id)
    return len(outer) < len(inner) and inner[: len(outer)] == outer


def task_id_prefix(app_id: str) -> str:
    """`/prod/web` -> `prod_web`: task ids are `<prefix>.<uuid>` (`_` is not legal in ids)."""
    return "_".join(segments(app_id))


def app_id_of_task(task_id: str) -> str:
    """The app of a task id: `prod_web.1b2c…` -> `/prod/web`.

    Marathon takes the prefix before the last `.` (app ids may contain dots); the newer
    `<prefix>.instance-<uuid>._app.<n>` form is cut at `.instance-` instead.
    """
    prefix, sep, _ = task_id.partition(".instance-")
    if not sep:
        prefix = task_id.rsplit(".", 1)[0]
    return "/" + prefix.replace("_", "/")
