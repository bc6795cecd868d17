"""A task's Mesos health check (TaskInfo.health_check): the check as parsed, and its verdicts.

Pure: no clock, no sockets, no processes -- `now` and each probe's outcome come in as arguments;
health_probes.py runs the probes and drives this from the executor's loop. The rules are Mesos'
(src/checks/health_checker.cpp and the command executor's `taskHealthUpdated`):

- probes start `delay_seconds` after the task and run `interval_seconds` after the previous one
  ended, each given `timeout_seconds` (0: no timeout);
- failures are ignored while the task is within `grace_period_seconds` of its start and has not
  yet passed a probe; after its first success every failure counts;
- `consecutive_failures` counted failures in a row kill the task (0 acts as 1, as in Mesos,
  which compares `failures >= consecutive_failures`).

Where this differs from Mesos: Mesos sends an unhealthy TASK_RUNNING on *every* counted failure;
here it is sent when the health changes (and once more right before the kill), so a task failing
its checks does not send an update per interval.

Loaded by the built-in executors (`python3 -I -S`), only for a task that has a health check:
standard library only, and of the project only what their copy holds (daemons.protocols).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from daemons.protocols import JSON

# Mesos' HealthCheck defaults (include/mesos/v1/mesos.proto).
DEFAULT_DELAY = 15.0
DEFAULT_INTERVAL = 10.0
DEFAULT_TIMEOUT = 20.0
DEFAULT_CONSECUTIVE_FAILURES = 3
DEFAULT_GRACE_PERIOD = 10.0
# The reason Mesos gives every TASK_RUNNING that reports a change of health.
HEALTH_REASON = "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED"
# Mesos probes the task on loopback: 127.0.0.1, not "localhost" (an image's /etc/hosts may lack
# it); ::1 when the check asks for IPv6.
LOOPBACK = {"IPv4": "127.0.0.1", "IPv6": "::1"}


class InvalidHealthCheck(ValueError):
    """A HealthCheck Mesos' validation would refuse (the task then runs unchecked)."""


@dataclass(frozen=True)
class HealthCheck:
    kind: str  # "HTTP", "TCP" or "COMMAND"
    delay: float = DEFAULT_DELAY
    interval: float = DEFAULT_INTERVAL
    timeout: float | None = DEFAULT_TIMEOUT  # None: a probe may take forever (Mesos' 0)
    consecutive_failures: int = DEFAULT_CONSECUTIVE_FAILURES
    grace_period: float = DEFAULT_GRACE_PERIOD
    host: str = LOOPBACK["IPv4"]  # HTTP and TCP
    port: int = 0  # HTTP and TCP
    scheme: str = "http"  # HTTP: "http" or "https" (certificates are not verified, as Mesos)
    path: str = "/"  # HTTP
    shell: bool = True  # COMMAND: `/bin/sh -c value`, else `value` run with `arguments` as argv
    value: str = ""  # COMMAND
    arguments: tuple[str, ...] = ()  # COMMAND
    environment: tuple[tuple[str, str], ...] = ()  # COMMAND: added to the task's environment


@dataclass(frozen=True)
class HealthState:
    """What has been seen of a task's health so far."""

    reported: bool | None = None  # the `healthy` last sent; None before any
    passed: bool = False  # some probe passed (which ends the grace period early)
    failures: int = 0  # consecutive counted failures
    killed: bool = False  # the check asked for the kill: nothing more to decide


@dataclass(frozen=True)
class Transition:
    """Send TASK_RUNNING with this `healthy` (and HEALTH_REASON); then kill the task if `kill`."""

    healthy: bool
    kill: bool = False


# --- parsing ----------------------------------------------------------------------------------


def _seconds(raw: JSON, key: str, default: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise InvalidHealthCheck(f"expecting '{key}' to be a non-negative number, got {value!r}")
    return float(value)


def _port(section: JSON, kind: str) -> int:
    port = section.get("port")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise InvalidHealthCheck(f"{kind} health check needs a 'port' in 1-65535, got {port!r}")
    return port


def _host(section: JSON) -> str:
    protocol = section.get("protocol", "IPv4")
    if protocol not in LOOPBACK:
        raise InvalidHealthCheck(f"unknown health check protocol {protocol!r}")
    return LOOPBACK[protocol]


def parse_health_check(raw: Any) -> HealthCheck:
    """A v1 HealthCheck (JSON) -> HealthCheck, with Mesos' defaults; InvalidHealthCheck where
    Mesos' HealthCheck validation would refuse it."""
    if not isinstance(raw, dict):
        raise InvalidHealthCheck("a health check is a JSON object")
    kind = raw.get("type")
    failures = raw.get("consecutive_failures", DEFAULT_CONSECUTIVE_FAILURES)
    if isinstance(failures, bool) or not isinstance(failures, int) or failures < 0:
        raise InvalidHealthCheck(f"expecting 'consecutive_failures' >= 0, got {failures!r}")
    timeout = _seconds(raw, "timeout_seconds", DEFAULT_TIMEOUT)
    common: JSON = {
        "delay": _seconds(raw, "delay_seconds", DEFAULT_DELAY),
        "interval": _seconds(raw, "interval_seconds", DEFAULT_INTERVAL),
        "timeout": timeout or None,
        "consecutive_failures": failures,
        "grace_period": _seconds(raw, "grace_period_seconds", DEFAULT_GRACE_PERIOD),
    }
    section = raw.get(str(kind).lower())
    if kind not in ("HTTP", "TCP", "COMMAND"):
        raise InvalidHealthCheck(f"{kind!r} is not a health check type (HTTP, TCP, COMMAND)")
    if not isinstance(section, dict):
        raise InvalidHealthCheck(f"expecting '{str(kind).lower()}' to be set for a {kind} check")
    if kind == "HTTP":
        scheme, path = section.get("scheme", "http"), section.get("path", "/")
        if scheme not in ("http", "https"):
            raise InvalidHealthCheck(f"unsupported HTTP health check scheme {scheme!r}")
        if not isinstance(path, str) or not path.startswith("/"):
            raise InvalidHealthCheck(f"the path {path!r} of an HTTP health check must start /")
        port, host = _port(section, kind), _host(section)
        return HealthCheck("HTTP", port=port, host=host, scheme=scheme, path=path, **common)
    if kind == "TCP":
        return HealthCheck("TCP", port=_port(section, kind), host=_host(section), **common)
    return HealthCheck("COMMAND", **_command(section), **common)


def _command(command: JSON) -> JSON:
    value, arguments = command.get("value"), command.get("arguments", [])
    if not isinstance(value, str) or not value:
        raise InvalidHealthCheck("a COMMAND health check needs a command 'value'")
    if not isinstance(arguments, list) or not all(isinstance(a, str) for a in arguments):
        raise InvalidHealthCheck("command 'arguments' must be a list of strings")
    variables = command.get("environment", {}).get("variables", [])
    environment = tuple(
        (str(v["name"]), str(v["value"]))
        for v in variables
        if isinstance(v, dict) and v.get("type", "VALUE") == "VALUE" and "value" in v
    )
    shell = command.get("shell", True) is not False
    return {
        "shell": shell,
        "value": value,
        "arguments": tuple(arguments),
        "environment": environment,
    }


# --- what a COMMAND probe runs ------------------------------------------------------------------


def command_argv(check: HealthCheck) -> list[str]:
    """As a task's CommandInfo: `/bin/sh -c value`, or `value` with `arguments` as its argv."""
    if check.shell:
        return ["/bin/sh", "-c", check.value]
    return list(check.arguments) or [check.value]


def command_environment(task_env: dict[str, str], check: HealthCheck) -> dict[str, str]:
    """The task's environment, then the check's own variables (Mesos: the executor's, which
    holds the task's, then the check's)."""
    return {**task_env, **dict(check.environment)}


def program(check: HealthCheck) -> str:
    """What a COMMAND probe executes (looked up on PATH)."""
    return "/bin/sh" if check.shell else check.value


# --- verdicts -----------------------------------------------------------------------------------


def http_healthy(status: int) -> bool:
    """Mesos (and Marathon): 2xx and 3xx are healthy."""
    return 200 <= status < 400


def first_probe_at(check: HealthCheck, started_at: float) -> float:
    return started_at + check.delay


def next_probe_at(check: HealthCheck, ended_at: float) -> float:
    """Mesos schedules the next probe `interval` after the previous one's result."""
    return ended_at + check.interval


def observe(
    check: HealthCheck, state: HealthState, ok: bool, now: float, started_at: float
) -> tuple[HealthState, Transition | None]:
    """One probe's outcome -> the new state and what to send (or None: send nothing)."""
    if state.killed:
        return state, None
    if ok:
        passed = HealthState(reported=True, passed=True)
        return passed, None if state.reported is True else Transition(healthy=True)
    in_grace = check.grace_period > 0 and now - started_at <= check.grace_period
    if in_grace and not state.passed:
        return state, None  # a task still starting up: not a failure yet
    failures = state.failures + 1
    kill = failures >= check.consecutive_failures
    failed = replace(state, reported=False, failures=failures, killed=kill)
    if kill or state.reported is not False:
        return failed, Transition(healthy=False, kill=kill)
    return failed, None
