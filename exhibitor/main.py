"""`dcos-exhibitor --config FILE`: supervise ZooKeeper and serve Exhibitor's API on :8181.

`dcos-exhibitor check-config FILE` validates a config and exits (the roles' `validate:`).
ZooKeeper is a child of the main process (gunicorn's arbiter), checked every `check_ms`;
SIGTERM stops the API and then ZooKeeper.
"""

from __future__ import annotations

import logging
import sys

from daemons.common import cli
from daemons.common.wsgi import serve
from exhibitor.api import create_app
from exhibitor.config import ExhibitorConfig
from exhibitor.supervisor import ZooKeeperSupervisor

log = logging.getLogger("exhibitor")


def main(argv: list[str] | None = None) -> int:
    args = cli.parse("dcos-exhibitor", argv)
    if args.command == "check-config":
        return cli.check_config(ExhibitorConfig, args.file)
    config = cli.load_for_run(ExhibitorConfig, args, log)
    if config is None:
        return 2
    supervisor = ZooKeeperSupervisor(config)
    supervisor.start()
    supervisor.run()
    try:
        serve(create_app(config), f"{config.ip}:{config.port}", config.threads)
    finally:
        supervisor.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
