"""What an executor learns from the `MESOS_*` environment the agent starts it with. Pure.

`ExecutorSettings.from_env(os.environ)` is meant to be called by an executor's entry point; the
client itself never reads the environment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_RECOVERY_TIMEOUT = 15 * 60.0  # Mesos agent --recovery_timeout default (15mins)
DEFAULT_BACKOFF_MAX = 2.0  # cap of the re-subscribe backoff when the agent sets none
DEFAULT_SHUTDOWN_GRACE = 5.0

_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "ms": 1e-3,
    "secs": 1.0,
    "mins": 60.0,
    "hrs": 3600.0,
    "days": 86400.0,
    "weeks": 604800.0,
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*$")


def parse_duration(text: str) -> float:
    """Mesos' duration text (`5secs`, `3mins`, `250ms`, `1.5hrs`) in seconds; bare = seconds."""
    match = _DURATION.match(text)
    if match is None or match.group(2) not in {"", *_UNITS}:
        raise ValueError(f"malformed duration {text!r}")
    return float(match.group(1)) * _UNITS.get(match.group(2), 1.0)


@dataclass(frozen=True)
class ExecutorSettings:
    framework_id: str
    executor_id: str
    agent_endpoint: str  # `ip:port`, no scheme
    agent_id: str | None = None
    directory: str | None = None
    sandbox: str | None = None
    checkpoint: bool = False
    recovery_timeout: float = DEFAULT_RECOVERY_TIMEOUT
    subscription_backoff_max: float = DEFAULT_BACKOFF_MAX
    shutdown_grace_period: float = DEFAULT_SHUTDOWN_GRACE
    authentication_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ExecutorSettings:
        missing = [
            name
            for name in ("MESOS_FRAMEWORK_ID", "MESOS_EXECUTOR_ID", "MESOS_AGENT_ENDPOINT")
            if not env.get(name)
        ]
        if missing:
            raise ValueError(f"executor environment lacks {', '.join(missing)}")

        def duration(name: str, default: float) -> float:
            text = env.get(name)
            return parse_duration(text) if text else default

        return cls(
            framework_id=env["MESOS_FRAMEWORK_ID"],
            executor_id=env["MESOS_EXECUTOR_ID"],
            agent_endpoint=env["MESOS_AGENT_ENDPOINT"],
            agent_id=env.get("MESOS_AGENT_ID") or env.get("MESOS_SLAVE_ID") or None,
            directory=env.get("MESOS_DIRECTORY") or None,
            sandbox=env.get("MESOS_SANDBOX") or None,
            # Real Mesos writes "1"/"0"; unlike pymesos we read "0" as false.
            checkpoint=env.get("MESOS_CHECKPOINT", "0").strip() == "1",
            recovery_timeout=duration("MESOS_RECOVERY_TIMEOUT", DEFAULT_RECOVERY_TIMEOUT),
            subscription_backoff_max=duration(
                "MESOS_SUBSCRIPTION_BACKOFF_MAX", DEFAULT_BACKOFF_MAX
            ),
            shutdown_grace_period=duration(
                "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", DEFAULT_SHUTDOWN_GRACE
            ),
            authentication_token=env.get("MESOS_EXECUTOR_AUTHENTICATION_TOKEN") or None,
        )
