"""Entry point of `dcos-adminrouter-auth`: `--config FILE` runs it; `check-config FILE`
validates a config (the role's `validate:`)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from daemons.adminrouter.app import create_app
from daemons.adminrouter.config import AdminRouterAuthConfig
from daemons.adminrouter.service import AdminRouterAuth
from daemons.kit import entry

log = logging.getLogger("adminrouter")


def build(
    config: AdminRouterAuthConfig, fatal: Callable[[str], None]
) -> tuple[AdminRouterAuth, Any]:
    service = AdminRouterAuth(config)
    return service, create_app(service)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    return entry.run(
        "dcos-adminrouter-auth",
        AdminRouterAuthConfig,
        args,
        log,
        build,
        log_level=lambda c: c.log_level,
    )


if __name__ == "__main__":
    sys.exit(main())
