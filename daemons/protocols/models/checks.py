"""HealthCheck and KillPolicy of a TaskInfo. Pure.

A health check runs in the executor (COMMAND, HTTP or TCP against the task); the numbers carry
Mesos' defaults when absent (include/mesos/v1/mesos.proto), and `to_json` always writes them, as
Marathon does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from daemons.protocols import JSON
from daemons.protocols import fields as f
from daemons.protocols.models.command import CommandInfo

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True, kw_only=True)
class HTTPCheck:
    port: int
    scheme: str | None = None  # "http" (Mesos' default) or "https"
    path: str | None = None
    statuses: tuple[int, ...] = ()  # healthy answers; empty: any 2xx/3xx
    protocol: str | None = None  # "IPv4" (default) or "IPv6"

    @classmethod
    def parse(cls, raw: JSON, where: str = "http") -> HTTPCheck:
        statuses = f.opt_list(raw, "statuses", where)
        if not all(type(s) is int for s in statuses):
            raise f.fail(where, "statuses", "must be a list of integers")
        return cls(
            port=f.integer(raw, "port", where),
            scheme=f.opt_string(raw, "scheme", where),
            path=f.opt_string(raw, "path", where),
            statuses=tuple(statuses),
            protocol=f.opt_string(raw, "protocol", where),
        )

    def to_json(self) -> JSON:
        out: JSON = {"port": self.port}
        f.put_values(out, self, ("scheme", "path"))
        if self.statuses:
            out["statuses"] = list(self.statuses)
        f.put_values(out, self, ("protocol",))
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class TCPCheck:
    port: int
    protocol: str | None = None

    @classmethod
    def parse(cls, raw: JSON, where: str = "tcp") -> TCPCheck:
        return cls(
            port=f.integer(raw, "port", where), protocol=f.opt_string(raw, "protocol", where)
        )

    def to_json(self) -> JSON:
        out: JSON = {"port": self.port}
        f.put_values(out, self, ("protocol",))
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthCheck:
    type: str | None = None  # "COMMAND", "HTTP" or "TCP" (Mesos requires it)
    delay_seconds: float = 15.0
    interval_seconds: float = 10.0
    timeout_seconds: float = 20.0  # 0: a probe may take forever
    consecutive_failures: int = 3
    grace_period_seconds: float = 10.0
    command: CommandInfo | None = None
    http: HTTPCheck | None = None
    tcp: TCPCheck | None = None
    raw: JSON = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def parse(cls, raw: JSON, where: str = "health_check") -> HealthCheck:
        return cls(
            type=f.opt_string(raw, "type", where),
            delay_seconds=_or(f.opt_number(raw, "delay_seconds", where), 15.0),
            interval_seconds=_or(f.opt_number(raw, "interval_seconds", where), 10.0),
            timeout_seconds=_or(f.opt_number(raw, "timeout_seconds", where), 20.0),
            consecutive_failures=_or(f.opt_int(raw, "consecutive_failures", where), 3),
            grace_period_seconds=_or(f.opt_number(raw, "grace_period_seconds", where), 10.0),
            command=f.opt_message(raw, "command", where, CommandInfo.parse),
            http=f.opt_message(raw, "http", where, HTTPCheck.parse),
            tcp=f.opt_message(raw, "tcp", where, TCPCheck.parse),
            raw=raw,
        )

    def to_json(self) -> JSON:
        out: JSON = {}
        f.put_values(out, self, ("type",))
        f.put_messages(out, self, ("command", "http", "tcp"))
        out["delay_seconds"] = self.delay_seconds
        out["interval_seconds"] = self.interval_seconds
        out["timeout_seconds"] = self.timeout_seconds
        out["consecutive_failures"] = self.consecutive_failures
        out["grace_period_seconds"] = self.grace_period_seconds
        return out


def _or(value: _T | None, default: _T) -> _T:
    return default if value is None else value


@dataclass(frozen=True, slots=True, kw_only=True)
class KillPolicy:
    """How long a killed task gets between SIGTERM and SIGKILL (None: the executor's default)."""

    grace_period: float | None = None  # seconds
    raw: JSON = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def parse(cls, raw: JSON, where: str = "kill_policy") -> KillPolicy:
        return cls(grace_period=f.opt_seconds(raw, "grace_period", where), raw=raw)

    def to_json(self) -> JSON:
        if self.grace_period is None:
            return {}
        return {"grace_period": f.duration(self.grace_period)}
