"""App definitions from request JSON: validation, defaults, updates, versions, ports. Pure.

`parse_app` reads Marathon's camelCase app JSON (`POST /v2/apps`) into an `AppDefinition` with
every default filled, or raises `InvalidDefinition` listing every field error at its JSON path
(Marathon's 422 body). Paths name array elements as `/healthChecks(0)/portIndex`.
What PyDCOS does not run (container images, fetch, secrets, GPUs, readiness checks, non-host
networks) is refused with a field error rather than silently dropped.

Split by idea: `appfields` reads fields and the parts with rules of their own (constraints,
ports, health checks) and defines `InvalidDefinition`; `appjson` writes the response JSON. Both
are re-exported here. No I/O, no clock: versions come in as arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from daemons.marathon import pathid
from daemons.marathon.appfields import (
    FieldReader,
    InvalidDefinition,
    Problems,
    at_index,
    read_constraints,
    read_health_checks,
    read_port_definitions,
)
from daemons.marathon.appjson import APP_KEYS, app_json, app_update_json, strip_response_keys
from daemons.marathon.model import (
    AppDefinition,
    PortDefinition,
    UnreachableStrategy,
    UpgradeStrategy,
)
from daemons.protocols import JSON

__all__ = [
    "APP_KEYS",
    "InvalidDefinition",
    "app_json",
    "app_update_json",
    "assign_service_ports",
    "from_stored",
    "merge_update",
    "next_version",
    "parse_app",
    "stored_json",
]

CMD_OR_ARGS = "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."
NOT_BOTH_CMD_ARGS = "AppDefinition must contain one of 'cmd' or 'args', not both."
IMAGES_UNSUPPORTED = "container images are not supported: PyDCOS runs commands"
FETCH_UNSUPPORTED = "fetch is not supported: commands must be fetch-free"

KILL_SELECTIONS = ("YOUNGEST_FIRST", "OLDEST_FIRST")

# Known Marathon keys we refuse when set (non-null, non-empty): silently dropping them would
# run something other than what the user asked for.
UNSUPPORTED: Mapping[str, str] = {
    "fetch": FETCH_UNSUPPORTED,
    "uris": FETCH_UNSUPPORTED,
    "secrets": "secrets are not supported",
    "readinessChecks": "readiness checks are not supported",
    "residency": "resident apps (persistent volumes) are not supported",
    "ipAddress": "ipAddress (IP per task) is not supported: apps use host networking",
}
# Pairs where a partial update giving one replaces the other (switching cmd -> args etc.).
EXCLUSIVE = (("cmd", "args"), ("portDefinitions", "ports"), ("fetch", "uris"))


def parse_app(raw: Any, *, version: float, base_group: str = "/") -> AppDefinition:
    """An app from request JSON, relative ids resolved against `base_group`.

    `version` becomes the definition's version and both versionInfo times (`next_version`
    sets those properly against the previous definition).
    """
    if not isinstance(raw, Mapping):
        raise InvalidDefinition.at("/", "expected a JSON object (an app definition)")
    problems = Problems()
    f = FieldReader(raw, "/", problems)
    app_id = _app_id(f, base_group)
    cmd, args = _command(f)
    _unsupported(f)
    ports = read_port_definitions(f)
    require_ports = f.boolean("requirePorts", False)
    if require_ports and any(p.port == 0 for p in ports):
        problems.add("/requirePorts", "requirePorts needs every port set (0 means 'any port')")
    gpus = f.integer("gpus", 0, minimum=0)
    if gpus:
        problems.add("/gpus", "gpus are not supported: must be 0")
    app = AppDefinition(
        id=app_id,
        cmd=cmd,
        args=args,
        cpus=f.number("cpus", 1.0, minimum=0.001),
        mem=f.number("mem", 128.0, minimum=0.0),
        disk=f.number("disk", 0.0, minimum=0.0),
        gpus=0,
        instances=f.integer("instances", 1, minimum=0),
        env=_env(f),
        labels=f.string_map("labels"),
        constraints=read_constraints(f),
        accepted_resource_roles=_accepted_roles(f),
        role=f.string("role", "*", non_empty=True) or "*",
        port_definitions=ports,
        require_ports=require_ports,
        health_checks=read_health_checks(f, len(ports)),
        dependencies=_dependencies(f, pathid.parent(app_id)),
        upgrade_strategy=_upgrade_strategy(f),
        backoff_seconds=f.number("backoffSeconds", 1.0, minimum=0.0),
        backoff_factor=f.number("backoffFactor", 1.15, minimum=1.0),
        max_launch_delay_seconds=f.number("maxLaunchDelaySeconds", 300.0, minimum=0.0),
        kill_selection=f.choice("killSelection", KILL_SELECTIONS, "YOUNGEST_FIRST"),
        unreachable_strategy=_unreachable_strategy(f),
        task_kill_grace_period_seconds=f.optional_integer("taskKillGracePeriodSeconds", 0),
        user=f.string("user", None),
        version=version,
        last_config_change_at=version,
        last_scaling_at=version,
    )
    problems.check()
    return app


def _app_id(f: FieldReader, base_group: str) -> str:
    raw_id = f.get("id")
    if raw_id is None:
        f.problems.add("/id", "id is required")
        return "/invalid"
    errors = pathid.validate_id(raw_id)
    for error in errors:
        f.problems.add("/id", error)
    if errors:
        return "/invalid"
    app_id = pathid.normalize(raw_id, base_group)
    if app_id == "/":
        f.problems.add("/id", "must not be root")
    elif len(app_id) > pathid.MAX_ID_LENGTH:
        f.problems.add(
            "/id", f"must be at most {pathid.MAX_ID_LENGTH} characters (is {len(app_id)})"
        )
    return app_id


def _command(f: FieldReader) -> tuple[str | None, tuple[str, ...] | None]:
    cmd = f.string("cmd", None)
    if cmd == "":
        f.problems.add("/cmd", "must not be an empty string")
    args = f.string_list("args")
    args = args or None  # `"args": []` says no more than an absent key
    if cmd and args:
        f.problems.add("/", NOT_BOTH_CMD_ARGS)
    elif not cmd and not args:
        f.problems.add("/", CMD_OR_ARGS)
    return cmd or None, args


def _unsupported(f: FieldReader) -> None:
    for key, message in UNSUPPORTED.items():
        if f.get(key) not in (None, [], {}, ""):
            f.problems.add(f.path(key), message)
    container = f.get("container")
    if container is not None:
        if not isinstance(container, Mapping):
            f.problems.add("/container", "expected an object or null")
        elif _has_image(container):
            f.problems.add("/container", IMAGES_UNSUPPORTED)
        elif container.get("volumes") or container.get("portMappings"):
            f.problems.add("/container", "container volumes and portMappings are not supported")
    networks = f.get("networks")
    if networks is not None and (
        not isinstance(networks, list)
        or any(not isinstance(n, Mapping) or n.get("mode", "host") != "host" for n in networks)
    ):
        f.problems.add("/networks", 'only host networking is supported: [{"mode": "host"}]')
    if f.get("executor") not in (None, "", "//cmd"):
        f.problems.add("/executor", 'custom executors are not supported: use ""')


def _has_image(container: Mapping[str, Any]) -> bool:
    if container.get("type") == "DOCKER":
        return True
    return any(
        isinstance(container.get(kind), Mapping) and bool(container[kind].get("image"))
        for kind in ("docker", "appc")
    )


def _env(f: FieldReader) -> dict[str, str]:
    raw = f.obj("env")
    env: dict[str, str] = {}
    for name, value in (raw or {}).items():
        if isinstance(value, str):
            env[name] = value
        elif isinstance(value, Mapping) and "secret" in value:
            f.problems.add(f"/env/{name}", "secrets are not supported")
        else:
            f.problems.add(f"/env/{name}", "expected a string")
    return env


def _accepted_roles(f: FieldReader) -> tuple[str, ...] | None:
    roles = f.string_list("acceptedResourceRoles")
    if roles is not None and (not roles or "" in roles):
        f.problems.add(
            "/acceptedResourceRoles", "must be a non-empty list of roles (omit it for any role)"
        )
    return roles


def _dependencies(f: FieldReader, group: str) -> tuple[str, ...]:
    out: list[str] = []
    for i, dep in enumerate(f.array("dependencies") or []):
        errors = pathid.validate_id(dep, allow_parent_refs=True)
        for error in errors:
            f.problems.add(at_index("/dependencies", i), error)
        if not errors:
            out.append(pathid.normalize(dep, group))  # relative to the app's group
    return tuple(out)


def _upgrade_strategy(f: FieldReader) -> UpgradeStrategy:
    raw = f.obj("upgradeStrategy")
    if raw is None:
        return UpgradeStrategy()
    u = FieldReader(raw, "/upgradeStrategy", f.problems)
    return UpgradeStrategy(
        minimum_health_capacity=u.number("minimumHealthCapacity", 1.0, minimum=0.0, maximum=1.0),
        maximum_over_capacity=u.number("maximumOverCapacity", 1.0, minimum=0.0, maximum=1.0),
    )


def _unreachable_strategy(f: FieldReader) -> UnreachableStrategy:
    raw = f.get("unreachableStrategy")
    if raw == "disabled":
        return UnreachableStrategy(None, None)
    if raw is None:
        return UnreachableStrategy(0, 0)
    if not isinstance(raw, Mapping):
        f.problems.add(
            "/unreachableStrategy",
            'expected "disabled" or {"inactiveAfterSeconds": …, "expungeAfterSeconds": …}',
        )
        return UnreachableStrategy(0, 0)
    u = FieldReader(raw, "/unreachableStrategy", f.problems)
    inactive = u.integer("inactiveAfterSeconds", 0, minimum=0)
    expunge = u.integer("expungeAfterSeconds", 0, minimum=0)
    if inactive > expunge:
        f.problems.add(
            "/unreachableStrategy",
            "inactiveAfterSeconds must be less than or equal to expungeAfterSeconds",
        )
    return UnreachableStrategy(inactive, expunge)


def merge_update(current_json: Mapping[str, Any], patch: Any) -> JSON:
    """PUT /v2/apps/{id} with partialUpdate=true: the patch's top-level keys replace the app's.

    The id stays the current one (it comes from the URL). A patch giving `args` drops the
    current `cmd` (likewise ports/portDefinitions, uris/fetch), so switching forms works.
    A `version` key is a rollback, which the caller must handle before merging.
    """
    if not isinstance(patch, Mapping):
        raise InvalidDefinition.at("/", "expected a JSON object (the fields to change)")
    if patch.get("version") is not None:
        raise InvalidDefinition.at(
            "/version", "The 'version' field may only be combined with the 'id' field."
        )
    merged = strip_response_keys(current_json)
    for one, other in EXCLUSIVE:
        for given, dropped in ((one, other), (other, one)):
            if patch.get(given) is not None and dropped not in patch:
                merged.pop(dropped, None)
    merged.update({k: v for k, v in patch.items() if k not in ("id", "version", "versionInfo")})
    merged["id"] = current_json["id"]
    return merged


def next_version(new: AppDefinition, old: AppDefinition | None, at: float) -> AppDefinition:
    """`new` stored at time `at`: a pure scale keeps the old lastConfigChangeAt."""
    if old is not None and old.same_config(new):
        return replace(
            new, version=at, last_config_change_at=old.last_config_change_at, last_scaling_at=at
        )
    return replace(new, version=at, last_config_change_at=at, last_scaling_at=at)


def assign_service_ports(app: AppDefinition, used: set[int], low: int, high: int) -> AppDefinition:
    """Port-0 definitions get the lowest free service ports in [low, high].

    Free = not in `used` (other apps' service ports) and not another definition's port.
    """
    if all(pd.port != 0 for pd in app.port_definitions):
        return app
    taken = set(used) | {pd.port for pd in app.port_definitions}
    candidates = (p for p in range(low, high + 1) if p not in taken)
    assigned: list[PortDefinition] = []
    for pd in app.port_definitions:
        if pd.port == 0:
            port = next(candidates, None)
            if port is None:
                raise InvalidDefinition.at(
                    "/portDefinitions", f"no free service port left in [{low}, {high}]"
                )
            pd = replace(pd, port=port)
        assigned.append(pd)
    return replace(app, port_definitions=tuple(assigned))


def stored_json(app: AppDefinition) -> JSON:
    """The lossless form kept in ZooKeeper: the update JSON plus the exact (float) versions."""
    return {
        **app_update_json(app),
        "version": app.version,
        "versionInfo": {
            "lastScalingAt": app.last_scaling_at,
            "lastConfigChangeAt": app.last_config_change_at,
        },
    }


def from_stored(raw: Mapping[str, Any]) -> AppDefinition:
    """The inverse of `stored_json`; ValueError when `raw` is not one."""
    try:
        version = float(raw["version"])
        info = raw["versionInfo"]
        config_at = float(info["lastConfigChangeAt"])
        scaling_at = float(info["lastScalingAt"])
        app = parse_app(raw, version=version)
    except (KeyError, TypeError, ValueError, InvalidDefinition) as err:
        raise ValueError(f"not a stored app: {err}") from err
    return replace(app, last_config_change_at=config_at, last_scaling_at=scaling_at)
