"""`dcos-exhibitor --config FILE`: supervise ZooKeeper and serve Exhibitor's API on :8181.

`dcos-exhibitor check-config FILE` validates a config and exits (the roles' `validate:`).
ZooKeeper is a child of the main process (gunicorn's arbiter), checked every `check_ms`; the
arbiter also reads the shared config every `config_check_ms` and runs what it says (rolling
changes included). The API (gunicorn's worker) talks to the arbiter only through that shared
config. SIGTERM stops the API and then ZooKeeper.
"""

from __future__ import annotations

import logging
import sys

from daemons.kit import cli
from daemons.kit.serve import serve
from exhibitor.activity import ConfigActivity
from exhibitor.api import create_app
from exhibitor.config import ExhibitorConfig
from exhibitor.stores import StoreUnavailable, open_store
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
    store = open_store(config)
    activity = ConfigActivity(config, store, supervisor)
    try:
        activity.tick()  # start ZooKeeper with the shared config before serving
    except StoreUnavailable as err:
        log.warning("shared config unavailable at start: %s", err.message)
    supervisor.run()
    activity.run()
    try:
        serve(create_app(config), f"{config.ip}:{config.port}", config.threads)
    finally:
        activity.stop()
        supervisor.stop()
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
