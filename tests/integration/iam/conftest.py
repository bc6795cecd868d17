"""`start_iam(**config)`: a started dcos-iam (tests/integration/iam/iam_daemon.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import DaemonProcess, Daemons
from tests.integration.iam.iam_daemon import IamFactory, iam_process


@pytest.fixture
def start_iam(daemons: Daemons, zk_url: str) -> IamFactory:
    def start(**config: Any) -> DaemonProcess:
        process = iam_process(daemons, zk_url, **config)
        process.start()
        return process

    return start
