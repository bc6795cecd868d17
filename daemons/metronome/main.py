"""Entry point of `dcos-metronome`: `--config FILE` runs it; `check-config FILE` validates."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from daemons.kit import entry
from daemons.metronome.app import create_app
from daemons.metronome.config import MetronomeConfig
from daemons.metronome.service import MetronomeService

log = logging.getLogger("daemons.metronome")


def build(config: MetronomeConfig, fatal: Callable[[str], None]) -> tuple[MetronomeService, Any]:
    service = MetronomeService(config, fatal)
    app = create_app(service.metronome, service.daemon, max_body_bytes=config.max_body_bytes)
    return service, app


def main(argv: list[str] | None = None) -> int:
    return entry.run("dcos-metronome", MetronomeConfig, argv, log, build)


if __name__ == "__main__":
    sys.exit(main())
