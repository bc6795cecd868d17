"""An `AppDefinition` as JSON: the response marathon-python accepts, and the update form. Pure.

marathon-python 0.13.0 builds its models with `cls(**json)`, so one unknown key is a TypeError
in the user's program: `app_json` emits only `APP_KEYS` and refuses
`extra` keys outside it. `cmd`, `args` and `container` are always present (null when unset)
because dcoscli indexes them directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from daemons.marathon.model import AppDefinition, HealthCheck, PortDefinition
from daemons.marathon.timestamps import marathon_ts
from daemons.protocols import JSON

# Every key marathon-python's MarathonApp.__init__ takes (and no other).
APP_KEYS = frozenset(
    {
        "acceptedResourceRoles", "args", "backoffFactor", "backoffSeconds", "cmd", "constraints",
        "container", "cpus", "dependencies", "deployments", "disk", "env", "executor",
        "healthChecks", "id", "role", "instances", "killSelection", "labels", "lastTaskFailure",
        "maxLaunchDelaySeconds", "mem", "ports", "requirePorts", "storeUrls", "taskRateLimit",
        "tasks", "tasksRunning", "tasksStaged", "tasksHealthy", "taskKillGracePeriodSeconds",
        "tasksUnhealthy", "upgradeStrategy", "unreachableStrategy", "uris", "user", "version",
        "versionInfo", "ipAddress", "fetch", "taskStats", "readinessChecks",
        "readinessCheckResults", "secrets", "portDefinitions", "residency", "gpus", "networks",
    }
)  # fmt: skip

# Response-only keys: sending them back in would be a rollback (`version`) or is ignored.
_RESPONSE_ONLY = ("version", "versionInfo", "ports")

HTTP_LIKE = frozenset({"HTTP", "HTTPS", "MESOS_HTTP", "MESOS_HTTPS"})


def port_definition_json(pd: PortDefinition) -> JSON:
    out: JSON = {"port": pd.port, "protocol": pd.protocol}
    if pd.name is not None:
        out["name"] = pd.name
    out["labels"] = dict(pd.labels)
    return out


def health_check_json(hc: HealthCheck) -> JSON:
    """Marathon's shape: only the keys that apply to the protocol (no `command` on HTTP)."""
    out: JSON = {
        "protocol": hc.protocol,
        "gracePeriodSeconds": hc.grace_period_seconds,
        "intervalSeconds": hc.interval_seconds,
        "timeoutSeconds": hc.timeout_seconds,
        "maxConsecutiveFailures": hc.max_consecutive_failures,
        "delaySeconds": hc.delay_seconds,
    }
    if hc.port_index is not None:
        out["portIndex"] = hc.port_index
    if hc.port is not None:
        out["port"] = hc.port
    if hc.path is not None:
        out["path"] = hc.path
    if hc.protocol in HTTP_LIKE or hc.ignore_http1xx:
        out["ignoreHttp1xx"] = hc.ignore_http1xx
    if hc.command is not None:
        out["command"] = {"value": hc.command}
    return out


def _unreachable_json(app: AppDefinition) -> JSON | str:
    strategy = app.unreachable_strategy
    if strategy.disabled:
        return "disabled"
    return {
        "inactiveAfterSeconds": strategy.inactive_after_seconds,
        "expungeAfterSeconds": strategy.expunge_after_seconds,
    }


def app_update_json(app: AppDefinition) -> JSON:
    """The app as a client would send it back in (PUT/POST): no version, no derived `ports`.

    `parse_app(app_update_json(app), version=app.version)` gives `app` again (for an app whose
    versionInfo times equal its version; those two are not part of a definition).
    """
    out: JSON = {
        "id": app.id,
        "cmd": app.cmd,
        "args": list(app.args) if app.args is not None else None,
        "container": None,
        "cpus": app.cpus,
        "mem": app.mem,
        "disk": app.disk,
        "gpus": app.gpus,
        "instances": app.instances,
        "executor": "",
        "env": dict(app.env),
        "labels": dict(app.labels),
        "constraints": [
            [c.field, c.operator] + ([c.value] if c.value is not None else [])
            for c in app.constraints
        ],
        "acceptedResourceRoles": (
            list(app.accepted_resource_roles) if app.accepted_resource_roles is not None else None
        ),
        "role": app.role,
        "portDefinitions": [port_definition_json(pd) for pd in app.port_definitions],
        "requirePorts": app.require_ports,
        "healthChecks": [health_check_json(hc) for hc in app.health_checks],
        "dependencies": list(app.dependencies),
        "upgradeStrategy": {
            "minimumHealthCapacity": app.upgrade_strategy.minimum_health_capacity,
            "maximumOverCapacity": app.upgrade_strategy.maximum_over_capacity,
        },
        "backoffSeconds": app.backoff_seconds,
        "backoffFactor": app.backoff_factor,
        "maxLaunchDelaySeconds": app.max_launch_delay_seconds,
        "killSelection": app.kill_selection,
        "unreachableStrategy": _unreachable_json(app),
        "fetch": [dict(f) for f in app.fetch],
        "networks": [{"mode": "host"}],
        "secrets": {},
    }
    if app.task_kill_grace_period_seconds is not None:
        out["taskKillGracePeriodSeconds"] = app.task_kill_grace_period_seconds
    if app.user is not None:
        out["user"] = app.user
    return out


def app_json(app: AppDefinition, *, extra: Mapping[str, Any] | None = None) -> JSON:
    """The response JSON of `app`, defaults filled, plus `extra` (counts, tasks, deployments…).

    Raises ValueError when `extra` carries a key marathon-python would choke on.
    """
    out = app_update_json(app)
    out["ports"] = [pd.port for pd in app.port_definitions]
    out["version"] = marathon_ts(app.version)
    out["versionInfo"] = {
        "lastScalingAt": marathon_ts(app.last_scaling_at),
        "lastConfigChangeAt": marathon_ts(app.last_config_change_at),
    }
    if extra:
        unknown = sorted(set(extra) - APP_KEYS)
        if unknown:
            raise ValueError(f"marathon-python does not accept app keys {unknown}")
        out.update(extra)
    return out


def strip_response_keys(app_doc: Mapping[str, Any]) -> JSON:
    """An app JSON without the keys only responses carry (used before merging an update)."""
    return {k: v for k, v in app_doc.items() if k not in _RESPONSE_ONLY}
