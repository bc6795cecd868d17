"""Entry point of `dcos-mesos-dns`: `--config FILE` runs it; `check-config FILE` validates."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from daemons.kit import entry
from daemons.mesos_dns.app import create_app
from daemons.mesos_dns.service import MesosDnsService
from daemons.mesos_dns.settings import MesosDnsSettings

log = logging.getLogger("daemons.mesos_dns")


def build(settings: MesosDnsSettings, fatal: Callable[[str], None]) -> tuple[MesosDnsService, Any]:
    service = MesosDnsService(settings, fatal)
    return service, create_app(service)


def main(argv: list[str] | None = None) -> int:
    return entry.run("dcos-mesos-dns", MesosDnsSettings, argv, log, build)


if __name__ == "__main__":
    sys.exit(main())
