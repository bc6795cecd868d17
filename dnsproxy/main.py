"""Entry point of `dcos-dns-proxy`: `--config FILE` runs it; `check-config FILE` validates."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from daemons.kit import entry
from dnsproxy.app import create_app
from dnsproxy.config import DnsProxyConfig
from dnsproxy.service import DnsProxyService

log = logging.getLogger("dnsproxy")


def build(config: DnsProxyConfig, fatal: Callable[[str], None]) -> tuple[DnsProxyService, Any]:
    service = DnsProxyService(config, fatal)
    return service, create_app(service)


def main(argv: list[str] | None = None) -> int:
    return entry.run(
        "dcos-dns-proxy", DnsProxyConfig, argv, log, build, log_level=lambda c: c.log_level
    )


if __name__ == "__main__":
    sys.exit(main())
