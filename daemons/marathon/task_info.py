"""The TaskInfo Marathon launches for a matched offer (Marathon's `TaskBuilder` and
`EnvironmentHelper`): a command task on host networking with its environment, labels, discovery
info, kill policy and the one executor-side health check. Pure: the task id and version label
come in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from daemons.marathon.model import AppDefinition, HealthCheck
from daemons.protocols import JSON
from daemons.protocols.resources import Resources, by_role_to_v1
from daemons.protocols.tasks import command_task

# EnvironmentHelper: label variables longer than this are left out (an env var size limit).
_MAX_ENV_LENGTH = 512
_LABEL_PREFIX = "MARATHON_APP_LABEL_"
_NOT_ENV_NAME = re.compile(r"[^a-zA-Z0-9_]+")
_NANOS = 1_000_000_000


def task_name(app_id: str) -> str:
    """Marathon's `PathId.toHostname`: the path reversed, dot-joined ("/prod/web" -> "web.prod")."""
    return ".".join(reversed([s for s in app_id.split("/") if s]))


def build_task_info(
    app: AppDefinition,
    *,
    task_id: str,
    agent_id: str,
    hostname: str,
    consumed: Mapping[str, Resources],
    host_ports: Sequence[int],
    allocation_role: str | None,
    version_label: str,
) -> JSON:
    """The v1 TaskInfo of a command task on host networking (Marathon's TaskBuilder)."""
    if app.args:
        value, shell, arguments = app.args[0], False, app.args
    else:
        value, shell, arguments = app.cmd or "", app.cmd is not None, ()
    task = command_task(
        task_name(app.id),
        task_id,
        agent_id,
        app.cpus,
        app.mem,
        value,
        shell=shell,
        arguments=arguments,
        environment=task_env(app, task_id, hostname, host_ports, version_label),
        user=app.user,
        labels=app.labels,
    )
    # command_task takes one role; a match may take from several (reservation + unreserved).
    task["resources"] = by_role_to_v1(consumed, allocation_role)
    if not value:
        del task["command"]["value"]  # Marathon leaves it unset when there is no cmd/args
    uris = [_uri(f) for f in app.fetch if isinstance(f.get("uri"), str)]
    if uris:
        task["command"]["uris"] = uris
    task["discovery"] = discovery_info(app, host_ports)
    if app.task_kill_grace_period_seconds is not None:
        nanos = app.task_kill_grace_period_seconds * _NANOS
        task["kill_policy"] = {"grace_period": {"nanoseconds": nanos}}
    check = mesos_health_check(app.health_checks, host_ports)
    if check is not None:
        task["health_check"] = check
    return task


def _uri(fetch: Mapping[str, Any]) -> JSON:
    uri: JSON = {"value": fetch["uri"]}
    for key in ("executable", "extract", "cache"):  # same names in Marathon and Mesos
        if isinstance(fetch.get(key), bool):
            uri[key] = fetch[key]
    if isinstance(fetch.get("destPath"), str):
        uri["output_file"] = fetch["destPath"]
    return uri


def task_env(
    app: AppDefinition,
    task_id: str,
    host: str,
    host_ports: Sequence[int],
    version_label: str,
) -> dict[str, str]:
    """The environment Marathon gives a task (TaskBuilder.commandInfo, EnvironmentHelper).

    Built in Marathon's order, later entries winning: task context and labels, then ports,
    then HOST, then the app's own `env` (so the app can override any of them).
    """
    env = {
        "MESOS_TASK_ID": task_id,
        "MARATHON_APP_ID": app.id,
        "MARATHON_APP_VERSION": version_label,
        # Scala's Double.toString ("1.0", "0.5") for cpus/mem/disk; gpus is an Int.
        "MARATHON_APP_RESOURCE_CPUS": repr(float(app.cpus)),
        "MARATHON_APP_RESOURCE_MEM": repr(float(app.mem)),
        "MARATHON_APP_RESOURCE_DISK": repr(float(app.disk)),
        "MARATHON_APP_RESOURCE_GPUS": str(app.gpus),
    }
    env.update(label_env(app.labels))
    env.update(ports_env(app, host_ports))
    env["HOST"] = host
    env.update(app.env)
    return env


def label_env(labels: Mapping[str, str]) -> dict[str, str]:
    """MARATHON_APP_LABELS (escaped names, space-separated; present even when empty) and one
    MARATHON_APP_LABEL_<NAME> per label; oversized labels are skipped, as Marathon does."""
    escaped: dict[str, str] = {}
    for key, value in labels.items():
        if len(key) < _MAX_ENV_LENGTH - len(_LABEL_PREFIX) and len(value) < _MAX_ENV_LENGTH:
            escaped[_NOT_ENV_NAME.sub("_", key).upper()] = value
    env = {"MARATHON_APP_LABELS": " ".join(escaped)}
    env.update({_LABEL_PREFIX + name: value for name, value in escaped.items()})
    return env


def ports_env(app: AppDefinition, host_ports: Sequence[int]) -> dict[str, str]:
    """PORT0..n, PORT_<declared port>, PORT_<NAME>, PORT and PORTS (EnvironmentHelper.portsEnv).

    A declared port 0 has no number of its own: Marathon then names the variable after the
    host port (PORT_31005=31005).
    """
    if not host_ports:
        return {}
    env = {f"PORT{index}": str(port) for index, port in enumerate(host_ports)}
    pairs = list(zip(app.port_definitions, host_ports, strict=False))
    for definition, port in pairs:
        env[f"PORT_{definition.port or port}"] = str(port)
    for definition, port in pairs:
        if definition.name:
            env[f"PORT_{definition.name.upper()}"] = str(port)
    env["PORT"] = str(host_ports[0])
    env["PORTS"] = ",".join(str(p) for p in host_ports)
    return env


def discovery_info(app: AppDefinition, host_ports: Sequence[int]) -> JSON:
    """DiscoveryInfo read by Mesos-DNS (SRV records) and the L4LB (VIP labels on ports).

    One Port per protocol of a definition ("udp,tcp" gives two), numbered with the host port.
    """
    ports: list[JSON] = []
    for definition, number in zip(app.port_definitions, host_ports, strict=False):
        for protocol in definition.protocol.split(","):
            port: JSON = {"number": number, "protocol": protocol}
            if definition.name:
                port["name"] = definition.name
            if definition.labels:
                port["labels"] = _mesos_labels(definition.labels)
            ports.append(port)
    return {"visibility": "FRAMEWORK", "name": task_name(app.id), "ports": {"ports": ports}}


def _mesos_labels(labels: Mapping[str, str]) -> JSON:
    return {"labels": [{"key": k, "value": v} for k, v in sorted(labels.items())]}


def mesos_health_check(checks: Sequence[HealthCheck], host_ports: Sequence[int]) -> JSON | None:
    """The first executor-side check that can be built (Mesos runs at most one per task);
    Marathon-side checks (HTTP, HTTPS, TCP) are probed by Marathon and not sent."""
    for check in checks:
        built = health_check_json(check, host_ports)
        if built is not None:
            return built
    return None


def health_check_json(check: HealthCheck, host_ports: Sequence[int]) -> JSON | None:
    """A v1 HealthCheck, or None for a Marathon-side check or one whose port does not resolve."""
    body: JSON
    if check.protocol == "COMMAND":
        if not check.command:
            return None
        body = {"type": "COMMAND", "command": {"shell": True, "value": check.command}}
    elif check.protocol in ("MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP"):
        port = _check_port(check, host_ports)
        if port is None:
            return None
        if check.protocol == "MESOS_TCP":
            body = {"type": "TCP", "tcp": {"port": port}}
        else:
            scheme = "http" if check.protocol == "MESOS_HTTP" else "https"
            http: JSON = {"scheme": scheme, "port": port}
            if check.path is not None:
                http["path"] = check.path
            body = {"type": "HTTP", "http": http}
    else:
        return None
    return {
        **body,
        "delay_seconds": float(check.delay_seconds),
        "interval_seconds": float(check.interval_seconds),
        "timeout_seconds": float(check.timeout_seconds),
        "consecutive_failures": check.max_consecutive_failures,
        "grace_period_seconds": float(check.grace_period_seconds),
    }


def _check_port(check: HealthCheck, host_ports: Sequence[int]) -> int | None:
    """An explicit port, else the host port at portIndex (0 when neither is given, as
    Marathon reads old definitions)."""
    if check.port is not None:
        return check.port
    index = check.port_index if check.port_index is not None else 0
    return host_ports[index] if 0 <= index < len(host_ports) else None
