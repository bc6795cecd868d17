"""Entry point of `dcos-marathon`: `--config FILE` runs it; `check-config FILE` validates."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from daemons.kit import entry
from daemons.marathon.app import create_app
from daemons.marathon.config import MarathonConfig
from daemons.marathon.service import MarathonService

log = logging.getLogger("daemons.marathon")


def build(config: MarathonConfig, fatal: Callable[[str], None]) -> tuple[MarathonService, Any]:
    service = MarathonService(config, fatal)
    app = create_app(service.marathon, service.daemon, lambda: fatal("leadership abdicated"))
    return service, app


def main(argv: list[str] | None = None) -> int:
    return entry.run("dcos-marathon", MarathonConfig, argv, log, build)


if __name__ == "__main__":
    sys.exit(main())
