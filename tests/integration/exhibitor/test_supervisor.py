"""The supervisor runs Debian's real ZooKeeper and brings it back after `kill -9`."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from daemons.kit.config import from_mapping
from exhibitor.config import DEFAULT_EXTRA, ExhibitorConfig
from exhibitor.supervisor import ZooKeeperSupervisor
from tools.processes import free_port, wait_exit

pytestmark = pytest.mark.integration


def wait_serving(sup: ZooKeeperSupervisor, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sup.check():
            return True
        time.sleep(0.2)
    return False


def test_start_restart_after_kill_and_stop(tmp_path: Path) -> None:
    config = from_mapping(
        ExhibitorConfig,
        {
            "hostname": "127.0.0.1",
            "servers_spec": "S:1:127.0.0.1",
            "client_port": free_port(),
            "data_dir": str(tmp_path / "data"),
            "conf_dir": str(tmp_path / "conf"),
            "client_port_address": "127.0.0.1",
            "zoo_cfg_extra": dict(DEFAULT_EXTRA),
        },
    )
    sup = ZooKeeperSupervisor(config)
    first = sup.start()
    try:
        assert wait_serving(sup)
        os.kill(first, signal.SIGKILL)
        assert wait_exit(first, 10)
        assert wait_serving(sup)
        assert sup.restarts == 1
        assert sup.pid is not None and sup.pid != first
    finally:
        last = sup.pid
        sup.stop()
    assert last is not None and wait_exit(last, 10)
    assert sup.check() is False  # stopped: no restart after stop()
    assert sup.pid is None
