"""A dcos-minuteman on loopback for the tests that need one (this folder's conftest, the UI's):
it programs this machine's own nftables (the table `ip dcos_l4lb`) and routes the VIP range
`local` on lo, as on a node. `guard()` refuses to start when the table is already there
(something else is using it); `clean()` removes both, after the daemon has stopped."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.integration.conftest import HOST, DaemonProcess, Daemons, free_port

POOL = "198.19.0.0/16"


def table_exists() -> bool:
    listed = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=True)
    return "table ip dcos_l4lb" in listed.stdout


def guard() -> None:
    """Fail the test when the machine already has the table: not ours to touch."""
    if table_exists():
        pytest.fail("this machine already has an `ip dcos_l4lb` nftables table: not touching it")


def clean() -> None:
    subprocess.run(["nft", "delete", "table", "ip", "dcos_l4lb"], capture_output=True)
    subprocess.run(
        ["ip", "route", "del", "local", POOL, "dev", "lo", "table", "local"], capture_output=True
    )


def minuteman_process(daemons: Daemons, name: str, **config: Any) -> DaemonProcess:
    """A started Minuteman (its `masters` and `master_port` in `config`), stopped with the
    other daemons; the caller stops it before `clean()` (or its reconcile loads the table
    again)."""
    settings = {
        "ip": HOST,
        "port": free_port(),
        "named_ip_range": POOL,
        "reconcile_interval": 1.0,
        **config,
    }
    state_dir = daemons.tmp_path / name
    state_dir.mkdir(parents=True)
    process = DaemonProcess(name, "minuteman.main", settings, state_dir)
    daemons.started.append(process)
    process.start()
    return process
