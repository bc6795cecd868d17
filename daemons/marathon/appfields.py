"""Reading app-definition JSON field by field, collecting every error at its path. Pure.

`InvalidDefinition` is Marathon's 422: `{"message": "Object is not valid", "details":
[{"path": "/instances", "errors": ["must be greater than or equal to 0"]}]}`. Paths are JSON
pointers with array elements written `name(i)` (`/healthChecks(0)/portIndex`), as Marathon 1.x
does; `parse_group` prefixes them (`/apps(1)/cmd`). A wrong type never raises anything else:
it is a field error ("expected an integer") and the reader returns the default.

Also here: the parts of an app with rules of their own (constraints, port definitions, health
checks); `appdef.parse_app` assembles them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from daemons.marathon.model import Constraint, HealthCheck, PortDefinition
from daemons.protocols import JSON


class InvalidDefinition(Exception):
    """A 422: the definition breaks rules; `details` lists them all, grouped by path."""

    status = 422
    message = "Object is not valid"

    def __init__(self, details: list[JSON]) -> None:
        summary = "; ".join(f"{d['path']}: {', '.join(d['errors'])}" for d in details)
        super().__init__(f"{self.message}: {summary}")
        self.details = details

    @classmethod
    def at(cls, path: str, *errors: str) -> InvalidDefinition:
        return cls([{"path": path, "errors": list(errors)}])

    def body(self) -> JSON:
        return {"message": self.message, "details": self.details}

    def under(self, prefix: str) -> InvalidDefinition:
        """The same errors with paths below `prefix` (`/apps(0)` + `/cmd` = `/apps(0)/cmd`)."""
        return InvalidDefinition(
            [{"path": join(prefix, d["path"]), "errors": d["errors"]} for d in self.details]
        )


def join(prefix: str, path: str) -> str:
    if path == "/":
        return prefix or "/"
    return prefix.rstrip("/") + path


def at_index(path: str, index: int) -> str:
    return f"{path}({index})"


class Problems:
    """Field errors collected in the order met; `check` raises them all at once."""

    def __init__(self) -> None:
        self._by_path: dict[str, list[str]] = {}

    def add(self, path: str, error: str) -> None:
        self._by_path.setdefault(path, []).append(error)

    def extend(self, err: InvalidDefinition) -> None:
        for detail in err.details:
            for error in detail["errors"]:
                self.add(detail["path"], error)

    def __bool__(self) -> bool:
        return bool(self._by_path)

    def check(self) -> None:
        if self._by_path:
            raise InvalidDefinition(
                [{"path": p, "errors": list(e)} for p, e in self._by_path.items()]
            )


def _bound_errors(value: float, minimum: float | None, maximum: float | None) -> str | None:
    if minimum is not None and value < minimum:
        return f"must be greater than or equal to {minimum:g}"
    if maximum is not None and value > maximum:
        return f"must be less than or equal to {maximum:g}"
    return None


class FieldReader:
    """Typed reads of one JSON object's fields. `null` counts as absent (the default)."""

    def __init__(self, raw: Mapping[str, Any], path: str, problems: Problems) -> None:
        self.raw = raw
        self.base = path
        self.problems = problems

    def path(self, key: str) -> str:
        return join(self.base, "/" + key)

    def get(self, key: str) -> Any:
        return self.raw.get(key)

    def _wrong(self, key: str, expected: str) -> None:
        self.problems.add(self.path(key), f"expected {expected}")

    @staticmethod
    def is_int(value: Any) -> bool:
        # JSON has one number type: 3.0 is an integer; true is not (bool is an int in Python).
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())

    def optional_integer(
        self, key: str, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        value = self.get(key)
        if value is None:
            return None
        if not self.is_int(value):
            self._wrong(key, "an integer")
            return None
        error = _bound_errors(value, minimum, maximum)
        if error:
            self.problems.add(self.path(key), error)
            return None
        return int(value)

    def integer(
        self, key: str, default: int, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        value = self.optional_integer(key, minimum, maximum)
        return default if value is None else value

    def number(
        self, key: str, default: float, minimum: float | None = None, maximum: float | None = None
    ) -> float:
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            self._wrong(key, "a number")
            return default
        if not math.isfinite(value):
            self._wrong(key, "a finite number")
            return default
        error = _bound_errors(value, minimum, maximum)
        if error:
            self.problems.add(self.path(key), error)
            return default
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self._wrong(key, "a boolean (true or false)")
            return default
        return value

    def string(self, key: str, default: str | None, *, non_empty: bool = False) -> str | None:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            self._wrong(key, "a string")
            return default
        if non_empty and not value:
            self.problems.add(self.path(key), "must not be empty")
            return default
        return value

    def choice(self, key: str, allowed: Sequence[str], default: str) -> str:
        value = self.string(key, None)
        if value is None:
            return default
        if value not in allowed:
            self.problems.add(
                self.path(key), f"must be one of {', '.join(allowed)} (got {value!r})"
            )
            return default
        return value

    def array(self, key: str) -> list[Any] | None:
        value = self.get(key)
        if value is None:
            return None
        if not isinstance(value, list):
            self._wrong(key, "a list")
            return None
        return value

    def string_list(self, key: str) -> tuple[str, ...] | None:
        value = self.array(key)
        if value is None:
            return None
        if not all(isinstance(v, str) for v in value):
            self._wrong(key, "a list of strings")
            return None
        return tuple(value)

    def obj(self, key: str) -> Mapping[str, Any] | None:
        value = self.get(key)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self._wrong(key, "an object")
            return None
        return value

    def string_map(self, key: str) -> dict[str, str]:
        value = self.obj(key)
        out: dict[str, str] = {}
        for name, item in (value or {}).items():
            if isinstance(item, str):
                out[name] = item
            else:
                self.problems.add(join(self.path(key), "/" + name), "expected a string")
        return out


# --- Constraints -----------------------------------------------------------------------------

OPERATORS = ("UNIQUE", "CLUSTER", "GROUP_BY", "LIKE", "UNLIKE", "MAX_PER", "IS")


def read_constraints(f: FieldReader) -> tuple[Constraint, ...]:
    """`[[field, OPERATOR, value?]]`; Marathon's API takes lists only (not "field:OP")."""
    out: list[Constraint] = []
    for i, item in enumerate(f.array("constraints") or []):
        path = at_index(f.path("constraints"), i)
        if not isinstance(item, list):
            f.problems.add(path, "expected a list: [field, operator] or [field, operator, value]")
        elif not 2 <= len(item) <= 3:
            f.problems.add(path, "Each constraint must have either 2 or 3 fields")
        elif not all(isinstance(x, str) for x in item):
            f.problems.add(path, "constraint fields must be strings")
        else:
            value = item[2] if len(item) == 3 else None
            problem = constraint_problem(item[0], item[1], value)
            if problem:
                f.problems.add(path, problem)
            else:
                out.append(Constraint(item[0], item[1], value))
    return tuple(out)


def constraint_problem(field: str, operator: str, value: str | None) -> str | None:
    """Marathon's rules (SchedulingValidation), except that MAX_PER must be positive and
    CLUSTER may go without a value (all instances on the first agent's value)."""
    if not field:
        return "Missing field: the agent attribute or hostname to constrain"
    if operator not in OPERATORS:
        return f"Constraint operator {operator!r} must be one of {', '.join(OPERATORS)}"
    if operator == "UNIQUE" and value is not None:
        return "Value specified but not used: UNIQUE takes no value"
    if operator in ("LIKE", "UNLIKE"):
        if value is None:
            return f"A regular expression value must be provided for {operator}"
        try:
            re.compile(value)
        except re.error as err:
            return f"{value!r} is not a valid regular expression: {err}"
    if operator == "MAX_PER" and (value is None or not re.fullmatch(r"0*[1-9][0-9]*", value)):
        return "MAX_PER must have a positive integer value"
    if operator == "GROUP_BY" and value is not None and not re.fullmatch(r"[0-9]+", value):
        return "GROUP_BY may either have no value or an integer value"
    if operator == "IS" and not value:
        return "IS needs a value: the attribute value to match exactly"
    return None


# --- Port definitions ------------------------------------------------------------------------

PROTOCOLS = ("tcp", "udp", "udp,tcp")
# Port names become PORT_<NAME> variables and DNS SRV labels (`_name._tcp.app…`).
PORT_NAME = re.compile(r"[a-z0-9-]+", re.ASCII)
# Marathon's default for host networking when neither key is given.
DEFAULT_PORTS = (PortDefinition(port=0, protocol="tcp", name="default"),)


def read_port_definitions(f: FieldReader) -> tuple[PortDefinition, ...]:
    """`portDefinitions`, else the legacy `ports: [int]`; both only when they list the same
    ports (marathon-python echoes both back); `[]` means no ports, absence the default."""
    raw_defs, raw_ports = f.get("portDefinitions"), f.get("ports")
    if raw_defs is None and raw_ports is None:
        return DEFAULT_PORTS
    legacy = _legacy_ports(f) if raw_ports is not None else ()
    if raw_defs is None:
        return legacy
    items = f.array("portDefinitions") or []
    defs = tuple(_port_definition(f, i, item) for i, item in enumerate(items))
    if legacy and defs and [d.port for d in defs] != [d.port for d in legacy]:
        f.problems.add(f.path("ports"), "cannot specify both ports and port definitions")
    fixed = [d.port for d in defs if d.port != 0]
    if len(set(fixed)) != len(fixed):
        f.problems.add(f.path("portDefinitions"), "Ports must be unique.")
    names = [d.name for d in defs if d.name is not None]
    if len(set(names)) != len(names):
        f.problems.add(f.path("portDefinitions"), "Port names must be unique.")
    return defs


def _legacy_ports(f: FieldReader) -> tuple[PortDefinition, ...]:
    out: list[PortDefinition] = []
    for i, port in enumerate(f.array("ports") or []):
        if not FieldReader.is_int(port) or not 0 <= port <= 65535:
            f.problems.add(at_index(f.path("ports"), i), "must be an integer from 0 to 65535")
        else:
            out.append(PortDefinition(port=int(port)))
    fixed = [p.port for p in out if p.port != 0]
    if len(set(fixed)) != len(fixed):
        f.problems.add(f.path("ports"), "ports must be unique")
    return tuple(out)


def _port_definition(f: FieldReader, i: int, item: Any) -> PortDefinition:
    path = at_index(f.path("portDefinitions"), i)
    if not isinstance(item, Mapping):
        f.problems.add(path, "expected an object {port, protocol, name, labels}")
        return PortDefinition(port=0)
    pf = FieldReader(item, path, f.problems)
    name = pf.string("name", None)
    if name is not None and not PORT_NAME.fullmatch(name):
        f.problems.add(pf.path("name"), "must be lowercase letters, digits and '-'")
    return PortDefinition(
        port=pf.integer("port", 0, minimum=0, maximum=65535),
        protocol=pf.choice("protocol", PROTOCOLS, "tcp"),
        name=name,
        labels=pf.string_map("labels"),
    )


# --- Health checks ---------------------------------------------------------------------------

HEALTH_PROTOCOLS = ("HTTP", "HTTPS", "TCP", "COMMAND", "MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP")
# Mesos' TaskInfo carries one health check: the executor can run at most one of these.
EXECUTOR_SIDE = frozenset({"COMMAND", "MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP"})
PORT_INDEX_INVALID = (
    "Health check port indices must address an element of the ports array or container port "
    "mappings."
)


def read_health_checks(f: FieldReader, port_count: int) -> tuple[HealthCheck, ...]:
    checks = tuple(
        _health_check(f, at_index(f.path("healthChecks"), i), item, port_count)
        for i, item in enumerate(f.array("healthChecks") or [])
    )
    if sum(hc.protocol in EXECUTOR_SIDE for hc in checks) > 1:
        f.problems.add(
            f.path("healthChecks"),
            "AppDefinition can contain at most one Mesos health check "
            "(COMMAND, MESOS_HTTP, MESOS_HTTPS, MESOS_TCP)",
        )
    return checks


def _health_check(f: FieldReader, path: str, item: Any, port_count: int) -> HealthCheck:
    if not isinstance(item, Mapping):
        f.problems.add(path, "expected an object")
        return HealthCheck()
    h = FieldReader(item, path, f.problems)
    command = _health_command(h)
    # An old-style check with a command and no protocol is a COMMAND check.
    protocol = h.choice("protocol", HEALTH_PROTOCOLS, "COMMAND" if command else "HTTP")
    if protocol == "COMMAND" and command is None:
        f.problems.add(h.path("command"), "COMMAND health checks need command.value to run")
    if protocol != "COMMAND" and command is not None:
        f.problems.add(h.path("command"), f"only COMMAND health checks run a command ({protocol})")
    if h.get("ipProtocol") not in (None, "IPv4"):
        f.problems.add(h.path("ipProtocol"), "only IPv4 is supported")
    port_index = h.optional_integer("portIndex", 0)
    port = h.optional_integer("port", 1, 65535)
    if protocol != "COMMAND":
        if port is not None and port_index is not None:
            f.problems.add(path, "give either port or portIndex, not both")
        elif port is None and port_index is None and port_count:
            port_index = 0  # Marathon's normalisation: the first port
        elif port is None and (port_index is None or port_index >= port_count):
            hint = f"the app has {port_count} port(s)" + ("" if port_count else "; give `port`")
            f.problems.add(h.path("portIndex"), f"{PORT_INDEX_INVALID} ({hint})")
    return HealthCheck(
        protocol=protocol,
        path=h.string("path", None),
        port_index=port_index,
        port=port,
        command=command,
        grace_period_seconds=h.integer("gracePeriodSeconds", 300, minimum=0),
        # An interval or timeout of 0 would make the prober spin.
        interval_seconds=h.integer("intervalSeconds", 60, minimum=1),
        timeout_seconds=h.integer("timeoutSeconds", 20, minimum=1),
        max_consecutive_failures=h.integer("maxConsecutiveFailures", 3, minimum=0),
        delay_seconds=h.integer("delaySeconds", 15, minimum=0),
        ignore_http1xx=h.boolean("ignoreHttp1xx", False),
    )


def _health_command(h: FieldReader) -> str | None:
    raw = h.get("command")
    if raw is None:
        return None
    if isinstance(raw, Mapping) and isinstance(raw.get("value"), str) and raw["value"]:
        return str(raw["value"])
    h.problems.add(h.path("command"), 'expected {"value": "<shell command>"}')
    return None
