"""`dcos-mesos-agent --config FILE` runs the agent; `dcos-mesos-agent check-config FILE` checks.

The only place that configures logging and reads the process environment (the executors'
inherited environment, as in Mesos) and the boot id.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from daemons.agent.config import AgentConfig
from daemons.kit.config import ConfigError, load
from daemons.kit.serve import serve

log = logging.getLogger(__name__)

BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def check_config(path: str) -> int:
    try:
        load(AgentConfig, path)
    except ConfigError as err:
        for problem in err.problems:
            print(problem)
        return 1
    print(f"{path}: ok")
    return 0


def run(config: AgentConfig) -> int:
    from daemons.agent.app import create_app
    from daemons.agent.containerizer import Containerizer, ContainerizerConfig
    from daemons.agent.recovery import RecoveryError
    from daemons.agent.runtime import AgentRuntime

    containerizer = Containerizer(
        ContainerizerConfig(
            isolation=config.isolation,
            cgroups_root=config.cgroups_root,
            cfs_enabled=config.cfs_enabled,
            cfs_period_us=config.cfs_period_us,
        )
    )
    agent = AgentRuntime(
        config,
        containerizer,
        base_environment=dict(os.environ),
        boot_id=BOOT_ID.read_text(encoding="ascii").strip(),
    )
    try:
        agent.read_checkpoints()
    except RecoveryError as err:
        log.error("%s", err)
        return 1
    app = create_app(agent)

    # gunicorn forks its worker after this point: threads start in the worker, never before.
    def post_worker_init(_worker: Any) -> None:
        agent.start()

    log.info("agent starting endpoint=%s master=%s", config.endpoint, config.master)
    serve(
        app,
        config.endpoint,
        config.threads,
        post_worker_init=post_worker_init,
        graceful_timeout=2,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["check-config"]:
        if len(args) != 2:
            print("usage: dcos-mesos-agent check-config FILE", file=sys.stderr)
            return 2
        return check_config(args[1])
    parser = argparse.ArgumentParser(prog="dcos-mesos-agent")
    parser.add_argument("--config", required=True, help="the agent's TOML config file")
    options = parser.parse_args(args)
    try:
        config = load(AgentConfig, options.config)
    except ConfigError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        return 1
    logging.basicConfig(
        level=config.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    return run(config)


if __name__ == "__main__":
    sys.exit(main())
