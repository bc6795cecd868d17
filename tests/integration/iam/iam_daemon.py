"""A dcos-iam process on loopback over the session's real ZooKeeper, its state under the
test's own chroot, the superuser `root` / `rootpw` seeded from its config; stopped by PID at
teardown with the test's other daemons."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from daemons.iam import passwords
from tests.integration.conftest import HOST, DaemonProcess, Daemons, free_port

SUPERUSER = ("root", "rootpw")
# The seeded hash made cheaply: a login checks whatever parameters the hash carries.
CHEAP = passwords.KdfParams(time_cost=1, memory_kib=8, parallelism=1)
SUPERUSER_HASH = passwords.hash_password(SUPERUSER[1], os.urandom(16), CHEAP)

IamFactory = Callable[..., DaemonProcess]


def iam_process(daemons: Daemons, zk_url: str, **config: Any) -> DaemonProcess:
    """A configured, not yet started, IAM process (registered for teardown)."""
    settings = {
        "zk": f"{zk_url}/iam",
        "ip": HOST,
        "port": free_port(),
        "superuser_uid": SUPERUSER[0],
        "superuser_password_hash": SUPERUSER_HASH,
        **config,
    }
    return daemons.add("iam", "daemons.iam.main", settings)
