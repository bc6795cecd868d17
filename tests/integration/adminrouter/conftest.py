"""`front_door`: nginx + dcos-adminrouter-auth + dcos-iam + an echo upstream (front_door.py),
stopped by PID at teardown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.adminrouter.front_door import FrontDoor, start_front_door
from tests.integration.conftest import Daemons


@pytest.fixture
def front_door(daemons: Daemons, zk_url: str, tmp_path: Path) -> Iterator[FrontDoor]:
    door = start_front_door(daemons, zk_url, tmp_path)
    try:
        yield door
    finally:
        door.stop()
