"""Entry point of `dcos-mesos-master`: `--config FILE` runs it; `check-config FILE` validates."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from daemons.kit import entry
from daemons.master.app import create_app
from daemons.master.config import MasterConfig
from daemons.master.service import MasterService

log = logging.getLogger("daemons.master")

EXIT_HALT = entry.EXIT_HALT


def build(config: MasterConfig, fatal: Callable[[str], None]) -> tuple[MasterService, Any]:
    service = MasterService(config, fatal)
    return service, create_app(service.master)


def _step_down(service: entry.Service) -> None:
    # Step down first (ZK node gone, streams closed) so gunicorn's graceful stop does not wait
    # on long-lived subscriptions and a standby takes over at once.
    assert isinstance(service, MasterService)
    service.stop()
    service.master.demote()


def main(argv: list[str] | None = None) -> int:
    return entry.run(
        "dcos-mesos-master",
        MasterConfig,
        argv,
        log,
        build,
        before_start=entry.tune_gc,
        on_term=_step_down,
    )


if __name__ == "__main__":
    sys.exit(main())
