"""Marathon groups: the tree of ids above the apps, its JSON, group documents, scaleBy. Pure.

A group exists when it was created explicitly (POST /v2/groups) or when an app lies inside it;
the root `/` always exists. Group documents (POST/PUT /v2/groups) nest apps and groups whose ids
may be relative to the enclosing group; errors name their place as `/apps(0)/instances`,
`/groups(1)/apps(0)/cmd` (array elements as `name(i)`, like app fields).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from daemons.marathon import pathid
from daemons.marathon.appdef import InvalidDefinition, parse_app
from daemons.marathon.appfields import Problems, at_index, join
from daemons.marathon.appjson import app_json
from daemons.marathon.model import AppDefinition
from daemons.marathon.timestamps import marathon_ts
from daemons.protocols import JSON

# The keys of a group that marathon-python 0.13.0 accepts (it builds its models with
# `cls(**json)`: an unknown key is a TypeError); 1.9+ `enforceRole` would break it.
GROUP_KEYS = frozenset({"id", "apps", "groups", "pods", "dependencies", "version"})


def all_group_ids(apps: Iterable[str], explicit_groups: Iterable[str]) -> frozenset[str]:
    """Every existing group: the root, the explicit ones, and every ancestor of those and of
    every app."""
    out = {pathid.ROOT}
    for path_id in [*apps, *explicit_groups]:
        parent = pathid.parent(path_id)
        while parent not in out:
            out.add(parent)
            parent = pathid.parent(parent)
    return frozenset(out | set(explicit_groups))


def group_json(
    group_id: str,
    apps: Mapping[str, AppDefinition],
    explicit_groups: frozenset[str],
    *,
    version: float,
    embed_apps: bool = True,
    app_view: Callable[[AppDefinition], JSON] = app_json,
) -> JSON:
    """`{"id", "apps", "groups", "pods", "dependencies", "version"}`, subgroups nested fully.

    Apps and groups are sorted by id; with `embed_apps=False` every level has `"apps": []`.
    """
    groups = all_group_ids(apps, explicit_groups)
    children: dict[str, list[str]] = {}
    for g in groups:
        if g != pathid.ROOT:
            children.setdefault(pathid.parent(g), []).append(g)
    apps_in: dict[str, list[AppDefinition]] = {}
    for app in apps.values():
        apps_in.setdefault(pathid.parent(app.id), []).append(app)
    stamp = marathon_ts(version)

    def build(gid: str) -> JSON:
        members = sorted(apps_in.get(gid, []), key=lambda a: a.id) if embed_apps else []
        return {
            "id": gid,
            "apps": [app_view(a) for a in members],
            "groups": [build(child) for child in sorted(children.get(gid, []))],
            "pods": [],
            "dependencies": [],
            "version": stamp,
        }

    return build(group_id)


def plain_group(apps: Mapping[str, AppDefinition], version: float) -> JSON:
    """The whole tree of `apps` as a group (deployment events' original/target)."""
    return group_json(pathid.ROOT, apps, frozenset(), version=version)


def parse_group(
    raw: Any, *, base: str, version: float
) -> tuple[frozenset[str], dict[str, AppDefinition]]:
    """Every group id (the document's own included) and every app of a group document.

    The document's `id` is resolved against `base`; without one it is `base` itself (PUT
    /v2/groups/{id}). Nested group and app ids are resolved against their enclosing group
    and must name a direct child of it (Marathon: "Identifier is not child of …").
    """
    problems = Problems()
    group_ids: set[str] = set()
    apps: dict[str, AppDefinition] = {}
    if not isinstance(raw, Mapping):
        raise InvalidDefinition.at("/", "expected a JSON object (a group)")
    top = _group_id(raw.get("id"), base, None, "/", problems, allow_root=True)
    _walk(raw, top, "", version, problems, group_ids, apps)
    problems.check()
    return frozenset(group_ids), apps


def _group_id(
    raw_id: Any,
    base: str,
    enclosing: str | None,
    path: str,
    problems: Problems,
    *,
    allow_root: bool = False,
) -> str:
    """The absolute id of a group document, or "" when it is invalid."""
    id_path = join(path, "/id")
    if raw_id is None:
        if enclosing is None:
            return pathid.normalize(base)
        problems.add(id_path, "id is required")
        return ""
    as_root = allow_root and isinstance(raw_id, str) and pathid.normalize(raw_id, base) == "/"
    errors = [] if as_root else pathid.validate_id(raw_id)
    for error in errors:
        problems.add(id_path, error)
    if errors:
        return ""
    group_id = pathid.normalize(raw_id, base)
    if enclosing is not None and pathid.parent(group_id) != enclosing:
        problems.add(id_path, f"Identifier is not child of {enclosing}. Hint: use relative paths.")
        return ""
    return group_id


def _walk(
    raw: Mapping[str, Any],
    group_id: str,
    path: str,
    version: float,
    problems: Problems,
    group_ids: set[str],
    apps: dict[str, AppDefinition],
) -> None:
    """Collect one group document (at JSON `path`) and, recursively, its subgroups."""
    if not group_id:
        return
    if group_id in group_ids or group_id in apps:
        problems.add(join(path, "/id"), f"duplicate id {group_id}")
        return
    group_ids.add(group_id)
    for key, what in (("dependencies", "group dependencies"), ("pods", "pods")):
        if raw.get(key):
            problems.add(join(path, "/" + key), f"{what} are not supported")
    for i, item in enumerate(_list(raw, "apps", path, problems)):
        _app(item, group_id, at_index(join(path, "/apps"), i), version, problems, group_ids, apps)
    for i, item in enumerate(_list(raw, "groups", path, problems)):
        sub_path = at_index(join(path, "/groups"), i)
        if not isinstance(item, Mapping):
            problems.add(sub_path, "expected an object (a group)")
            continue
        sub_id = _group_id(item.get("id"), group_id, group_id, sub_path, problems)
        _walk(item, sub_id, sub_path, version, problems, group_ids, apps)


def _list(raw: Mapping[str, Any], key: str, path: str, problems: Problems) -> list[Any]:
    value = raw.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(join(path, "/" + key), "expected a list")
        return []
    return value


def _app(
    item: Any,
    group_id: str,
    path: str,
    version: float,
    problems: Problems,
    group_ids: set[str],
    apps: dict[str, AppDefinition],
) -> None:
    try:
        app = parse_app(item, version=version, base_group=group_id)
    except InvalidDefinition as err:
        problems.extend(err.under(path))
        return
    if pathid.parent(app.id) != group_id:
        problems.add(
            join(path, "/id"), f"Identifier is not child of {group_id}. Hint: use relative paths."
        )
    elif app.id in apps or app.id in group_ids:
        problems.add(join(path, "/id"), f"duplicate id {app.id}")
    else:
        apps[app.id] = app


def scale_by(
    apps_in_group: Mapping[str, AppDefinition] | Iterable[AppDefinition], factor: float
) -> dict[str, int]:
    """New instance counts for `PUT /v2/groups/{id} {"scaleBy": f}`: ceil(instances * f),
    as Marathon computes it (a double multiplied, then rounded up)."""
    apps = apps_in_group.values() if isinstance(apps_in_group, Mapping) else apps_in_group
    return {app.id: math.ceil(app.instances * factor) for app in apps}
