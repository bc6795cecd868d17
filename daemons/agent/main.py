"""`dcos-mesos-agent --config FILE` runs the agent; `dcos-mesos-agent check-config FILE` checks.

Served through the kit's entry like every daemon: the checkpoints of the previous run are read
before anything starts (an unreadable one stops the agent with what and how, leaving every
container alone), the agent starts in gunicorn's worker (its threads never before the fork),
and SIGTERM stops it first, leaving executors running (they are recovered on the next start).
The only place that reads the process environment (the executors' inherited environment, as in
Mesos) and the boot id; logging is set up by the entry, at the config's `log_level`.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from daemons.agent import builtin_executors
from daemons.agent.app import create_app
from daemons.agent.config import AgentConfig
from daemons.agent.containerizer import Containerizer, ContainerizerConfig
from daemons.agent.recovery import RecoveryError
from daemons.agent.runtime import AgentRuntime
from daemons.kit import entry

log = logging.getLogger("daemons.agent")

BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def build(config: AgentConfig, fatal: Callable[[str], None]) -> tuple[AgentRuntime, Flask]:
    containerizer = Containerizer(containerizer_config(config))
    agent = AgentRuntime(
        config,
        containerizer,
        base_environment=dict(os.environ),
        boot_id=BOOT_ID.read_text(encoding="ascii").strip(),
    )
    try:
        agent.read_checkpoints()
    except RecoveryError as err:
        raise entry.CannotStart(str(err)) from None
    log.info("agent starting endpoint=%s master=%s", config.endpoint, config.master)
    return agent, create_app(agent)


def containerizer_config(config: AgentConfig) -> ContainerizerConfig:
    """With the fork server, the built-in command executor is the warm one (its argv is the one
    the agent gives the containerizer for command tasks). A `command_executor` of the
    operator's is exec'ed: nothing says it is fit to be loaded into the server."""
    warm: tuple[tuple[str, ...], ...] = ()
    if config.executor_launch == "fork_server" and not config.command_executor:
        warm = (tuple(builtin_executors.argv(config)[0]),)
    return ContainerizerConfig(
        isolation=config.isolation,
        cgroups_root=config.cgroups_root,
        cfs_enabled=config.cfs_enabled,
        cfs_period_us=config.cfs_period_us,
        executor_launch=config.executor_launch,
        warm_argvs=warm,
    )


def main(argv: list[str] | None = None) -> int:
    return entry.run(
        "dcos-mesos-agent",
        AgentConfig,
        argv,
        log,
        build,
        log_level=lambda c: c.log_level,
        graceful_timeout=2,
    )


if __name__ == "__main__":
    sys.exit(main())
