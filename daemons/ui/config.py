"""The UI backend's configuration (`/etc/dcos/ui-backend.toml`). Pure."""

from __future__ import annotations

from dataclasses import dataclass

# Admin Router routes this prefix (authenticated) to the backend, which serves the whole path.
API_PREFIX = "/ui/api/v1"


@dataclass(frozen=True)
class UiConfig:
    # The masters: `zk://h1:2181,h2:2181/mesos` (the leader is read from ZooKeeper) or one
    # `host:port` / `http://host:port`.
    master: str = "zk://127.0.0.1:2181/mesos"
    # One read of the leader's /master/state-summary per interval, for all browsers together.
    sample_interval: float = 5.0
    # How much history the dashboard's chart keeps (server-side, so it survives a reload).
    history_seconds: float = 3600.0
    # A state-summary read that takes longer than this counts as failed.
    read_timeout: float = 10.0
    # Browsers following the live stream at once; one more gets 503 (each holds a thread).
    max_streams: int = 24
    # A stream ends after this long and the browser reconnects (EventSource does it by itself),
    # so Admin Router checks its cookie again: an expired login stops receiving the cluster's
    # state within this time even on a screen that makes no other request.
    max_stream_seconds: float = 600.0
    # A comment line on an idle stream this often, so proxies and dead clients are noticed.
    keepalive: float = 15.0
    ip: str = "127.0.0.1"
    port: int = 8107
    threads: int = 32
    log_level: str = "info"

    @property
    def ring_capacity(self) -> int:
        """Samples kept: the history divided by the interval."""
        return max(1, int(self.history_seconds / self.sample_interval))

    def validate(self) -> list[str]:
        problems: list[str] = []
        if not self.master:
            problems.append("master: expected zk://host:port[,host:port...]/path or host:port")
        elif self.master.startswith("zk://") and "/" not in self.master[len("zk://") :]:
            problems.append("master: expected zk://host:port[,host:port...]/path")
        if not 1.0 <= self.sample_interval <= 300.0:
            problems.append("sample_interval: must be between 1 and 300 s")
        if not 60.0 <= self.history_seconds <= 7 * 24 * 3600.0:
            problems.append("history_seconds: must be between 60 s and 7 days")
        elif self.ring_capacity > 100_000:
            problems.append("history_seconds / sample_interval: at most 100,000 samples")
        if not 0.5 <= self.read_timeout <= 120.0:
            problems.append("read_timeout: must be between 0.5 and 120 s")
        if self.max_streams < 1:
            problems.append("max_streams: must be at least 1")
        if self.threads < self.max_streams + 4:
            problems.append("threads: must be at least max_streams + 4")
        if not 10.0 <= self.max_stream_seconds <= 24 * 3600.0:
            problems.append("max_stream_seconds: must be between 10 s and 24 h")
        if not 1.0 <= self.keepalive <= 300.0:
            problems.append("keepalive: must be between 1 and 300 s")
        if not 0 < self.port < 65536:
            problems.append("port: must be in 1-65535")
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            problems.append(f"log_level: unknown level {self.log_level!r}")
        return problems
