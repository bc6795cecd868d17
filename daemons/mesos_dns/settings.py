"""The daemon's one config file, `/etc/dcos/mesos-dns.toml`: Mesos-DNS's own `config.json`
as its `[mesos_dns]` table, key for key (`zk`, `refreshSeconds`, `IPSources`, ... read as
Mesos-DNS reads them: `daemons.mesos_dns.config`), and how this daemon runs (server threads,
its ZooKeeper session). `check-config` checks both, so the role's `validate:` refuses a config
Mesos-DNS would refuse.

Where it serves comes from the Mesos-DNS keys: HTTP on `HTTPListener:httpport` (gunicorn), DNS
on `listener:port`. `HttpOn = false` is refused: the HTTP API is how this daemon is run and
probed (gunicorn serves it), and DC/OS never turns it off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from daemons.mesos_dns.config import MesosDnsConfig


@dataclass(frozen=True)
class MesosDnsSettings:
    # Mesos-DNS's config.json keys (the defaults are DC/OS's; `zk` or `masters` is required).
    mesos_dns: dict[str, Any] = field(default_factory=dict)
    # HTTP server threads (the API is small: the DNS server has threads of its own).
    threads: int = 8
    # The ZooKeeper session of the master detector.
    zk_session_timeout: float = 10.0
    # An event and the rebuild it causes are at most this far apart, so a burst of events
    # (a deployment) makes one rebuild.
    coalesce_seconds: float = 0.02

    @cached_property
    def dns(self) -> MesosDnsConfig:
        """The Mesos-DNS config (ValueError when `validate` would say it is wrong)."""
        return MesosDnsConfig.from_json(self.mesos_dns)

    @property
    def ip(self) -> str:
        return self.dns.http_listener

    @property
    def port(self) -> int:
        return self.dns.http_port

    def validate(self) -> list[str]:
        try:
            config = self.dns
        except ValueError as err:
            return [f"mesos_dns: {err}"]
        problems: list[str] = []
        if not config.http_on:
            problems.append("mesos_dns.HttpOn: this daemon always serves its HTTP API")
        if self.threads < 1:
            problems.append("threads: at least 1")
        if self.zk_session_timeout <= 0:
            problems.append("zk_session_timeout: must be positive")
        if not 0 <= self.coalesce_seconds <= 1:
            problems.append("coalesce_seconds: between 0 and 1")
        return problems
