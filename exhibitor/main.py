"""`dcos-exhibitor --config FILE`: supervise ZooKeeper and serve Exhibitor's API on :8181.

`dcos-exhibitor check-config FILE` validates a config and exits (the roles' `validate:`).
ZooKeeper is a child of the main process (gunicorn's arbiter), checked every `check_ms`; the
arbiter also reads the shared config every `config_check_ms` and runs what it says (rolling
changes included): both are the kit entry's `supervise` context, so they outlive a restarted
worker. The API (gunicorn's worker) talks to the arbiter only through that shared config.
SIGTERM stops the API and then ZooKeeper.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask

from daemons.kit import entry
from daemons.kit.errors import StoreUnavailable
from exhibitor.activity import ConfigActivity
from exhibitor.api import create_app
from exhibitor.config import ExhibitorConfig
from exhibitor.stores import open_store
from exhibitor.supervisor import ZooKeeperSupervisor

log = logging.getLogger("exhibitor")


@contextmanager
def supervised(config: ExhibitorConfig) -> Iterator[None]:
    """ZooKeeper, started with the shared config before the API serves, and the config loop."""
    supervisor = ZooKeeperSupervisor(config)
    store = open_store(config)
    activity = ConfigActivity(config, store, supervisor)
    try:
        activity.tick()
    except StoreUnavailable as err:
        log.warning("shared config unavailable at start: %s", err.message)
    supervisor.run()
    activity.run()
    try:
        yield
    finally:
        activity.stop()
        supervisor.stop()
        store.close()


def build(config: ExhibitorConfig, fatal: Callable[[str], None]) -> tuple[None, Flask]:
    return None, create_app(config)


def main(argv: list[str] | None = None) -> int:
    return entry.run(
        "dcos-exhibitor",
        ExhibitorConfig,
        argv,
        log,
        build,
        supervise=supervised,
    )


if __name__ == "__main__":
    sys.exit(main())
