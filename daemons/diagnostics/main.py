"""Entry point of `dcos-diagnostics`: `--config FILE` runs it; `check-config FILE`
validates."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from daemons.diagnostics.app import create_app
from daemons.diagnostics.config import DiagnosticsConfig
from daemons.diagnostics.service import DiagnosticsService
from daemons.kit import entry

log = logging.getLogger("diagnostics")


def build(
    config: DiagnosticsConfig, fatal: Callable[[str], None]
) -> tuple[DiagnosticsService, Any]:
    service = DiagnosticsService(config)
    return service, create_app(service)


def main(argv: list[str] | None = None) -> int:
    return entry.run(
        "dcos-diagnostics", DiagnosticsConfig, argv, log, build, log_level=lambda c: c.log_level
    )


if __name__ == "__main__":
    sys.exit(main())
