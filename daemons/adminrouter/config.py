"""dcos-adminrouter-auth's configuration (`/etc/dcos/adminrouter-auth.toml`). Pure.

Rendered by the role `dcos_adminrouter` beside nginx's config, and by `make local`
(tools/localcluster.py). Every address is one this master reaches on loopback or the cluster's
network; nginx reaches this daemon on `ip:port` (127.0.0.1 only: it is Admin Router's, never a
client's).
"""

from __future__ import annotations

from dataclasses import dataclass

# Cosmos' capability names (services-api §6.1) this daemon may announce at `/capabilities`.
KNOWN_CAPABILITIES = frozenset(
    {"PACKAGE_MANAGEMENT", "SUPPORT_CLUSTER_REPORT", "METRONOME", "LOGGING", "LOGGING_V2"}
)


@dataclass(frozen=True)
class AdminRouterAuthConfig:
    # IAM's base URL: `/internal/v1/authenticate` checks every token (a deleted user's too).
    iam: str = "http://127.0.0.1:8101"
    # The masters: `zk://…/mesos` (the leader read from ZooKeeper) or one `host:port`.
    master: str = "zk://127.0.0.1:2181/mesos"
    # Marathon's base URL (its apps with DCOS_SERVICE_NAME labels are `/service/<name>/`).
    marathon: str = "http://127.0.0.1:8080"
    # Mesos-DNS's HTTP API: the SRV step of `/service/<name>` (a framework without a web UI
    # URL) asks its `/v1/services/_<name>._tcp.marathon.mesos`.
    mesos_dns: str = "http://127.0.0.1:8123"
    # The route cache is fetched every `refresh_interval` s (DC/OS: 25 s), first at start; a
    # table older than `max_age` s makes the dynamic routes answer 503 (DC/OS's soft age: 75 s).
    refresh_interval: float = 25.0
    max_age: float = 75.0
    # Timeout of each call to IAM, the master or Marathon, in seconds.
    request_timeout: float = 5.0
    # The agents' Admin Router port (`/system/v1/agent/<id>/…` goes there).
    agent_adminrouter_port: int = 61001
    # `/metadata`: the cluster's id (made at install) and this master's public IPv4.
    cluster_id: str = ""
    public_ipv4: str = ""
    # `/capabilities`, in Cosmos' shape: what this cluster really runs (METRONOME with
    # Metronome; no PACKAGE_MANAGEMENT until a package manager exists).
    capabilities: tuple[str, ...] = ("METRONOME",)
    ip: str = "127.0.0.1"
    port: int = 8102
    threads: int = 16
    log_level: str = "info"

    def validate(self) -> list[str]:
        problems: list[str] = []
        for name in ("iam", "marathon", "mesos_dns"):
            scheme, sep, rest = getattr(self, name).partition("://")
            if scheme not in ("http", "https") or not sep or not rest.strip("/"):
                problems.append(f"{name}: expected http(s)://host:port")
        if not self.master:
            problems.append("master: expected zk://host:port/path or host:port")
        if not 0.1 <= self.refresh_interval <= 600:
            problems.append("refresh_interval: must be between 0.1 and 600 s")
        if self.max_age < self.refresh_interval:
            problems.append("max_age: must be at least refresh_interval")
        if not 0 < self.request_timeout <= 60:
            problems.append("request_timeout: must be in (0, 60] s")
        for name in ("port", "agent_adminrouter_port"):
            if not 0 < getattr(self, name) < 65536:
                problems.append(f"{name}: must be in 1-65535")
        unknown = sorted(set(self.capabilities) - KNOWN_CAPABILITIES)
        if unknown:
            problems.append(f"capabilities: unknown {', '.join(unknown)}")
        if self.threads < 1:
            problems.append("threads: must be at least 1")
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            problems.append(f"log_level: unknown level {self.log_level!r}")
        return problems
