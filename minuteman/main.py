"""Entry point of `dcos-minuteman`: `--config FILE` runs it; `check-config FILE` validates."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from daemons.kit import entry
from minuteman.app import create_app
from minuteman.config import MinutemanConfig
from minuteman.service import MinutemanService

log = logging.getLogger("minuteman")


def build(config: MinutemanConfig, fatal: Callable[[str], None]) -> tuple[MinutemanService, Any]:
    service = MinutemanService(config, fatal)
    return service, create_app(service)


def main(argv: list[str] | None = None) -> int:
    return entry.run(
        "dcos-minuteman",
        MinutemanConfig,
        argv,
        log,
        build,
        before_start=entry.tune_gc,  # the master's view and the VIP table are long-lived
        log_level=lambda c: c.log_level,
    )


if __name__ == "__main__":
    sys.exit(main())
