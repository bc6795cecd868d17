"""Entry point of `dcos-ui-backend`: `--config FILE` runs it; `check-config FILE` validates;
`static-dir` prints where the UI's static files are installed (what Admin Router serves at
`/`)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from importlib import resources
from typing import Any

from daemons.kit import entry
from daemons.ui.app import create_app
from daemons.ui.config import UiConfig
from daemons.ui.service import UiService

log = logging.getLogger("ui-backend")


def static_dir() -> str:
    return str(resources.files("daemons.ui").joinpath("static"))


def build(config: UiConfig, fatal: Callable[[str], None]) -> tuple[UiService, Any]:
    service = UiService(config, fatal)
    return service, create_app(service)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["static-dir"]:
        print(static_dir())
        return 0
    return entry.run("dcos-ui-backend", UiConfig, args, log, build, log_level=lambda c: c.log_level)


if __name__ == "__main__":
    sys.exit(main())
