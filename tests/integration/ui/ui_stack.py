"""The web UI's test cluster: a master, two agents and Marathon (tests/integration/marathon),
optionally dcos-metronome (tests/integration/metronome), the UI backend, and the real Admin
Router in front of them (tests/integration/adminrouter: nginx with the role's rendered config,
dcos-adminrouter-auth and dcos-iam over the test's ZooKeeper), serving the UI's own static
files at `/`. Everything on loopback, stopped by PID at teardown. Fixtures are in conftest.py;
tests import these names from here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from tests.integration.adminrouter.front_door import FrontDoor
from tests.integration.conftest import HOST, DaemonProcess, Daemons, free_port

CHROMIUM = "/usr/bin/chromium"
LOGIN = "/acs/api/v1/auth/login"
AUTH_COOKIE = "dcos-acs-auth-cookie"
INFO_COOKIE = "dcos-acs-info-cookie"


@dataclass
class UiStack:
    cluster: Any  # marathon_cluster.MarathonCluster
    door: FrontDoor
    backend: DaemonProcess

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.door.port}"

    def login_cookies(self, uid: str, password: str) -> list[dict[str, Any]]:
        """The cookies a login through the door sets, in Playwright's form."""
        response = requests.post(
            self.url + LOGIN, json={"uid": uid, "password": password}, timeout=30
        )
        response.raise_for_status()
        return [
            {"name": c.name, "value": c.value or "", "url": self.url}
            for c in response.cookies
            if c.name in (AUTH_COOKIE, INFO_COOKIE)
        ]

    def backend_status(self) -> dict[str, Any]:
        found: dict[str, Any] = requests.get(
            self.backend.url + "/ui/api/v1/status", timeout=10
        ).json()
        return found


def start_backend(daemons: Daemons, zk_url: str, **config: Any) -> DaemonProcess:
    settings = {"master": zk_url, "ip": HOST, "port": free_port(), "sample_interval": 1.0}
    backend = daemons.add("ui-backend", "daemons.ui.main", {**settings, **config})
    backend.start()
    return backend


def upstreams(cluster: Any, backend: DaemonProcess, metronome: Any = None) -> dict[str, str]:
    """Admin Router's upstreams: the real Marathon, backend and (when started) Metronome;
    nothing listens where the diagnostics daemon would (its route answers 502 here)."""
    found = {
        "marathon": f"{HOST}:{cluster.marathons[0].port}",
        "ui_backend": f"{HOST}:{backend.port}",
        "diagnostics": f"{HOST}:{free_port()}",
    }
    if metronome is not None:
        found["metronome"] = metronome.address
    return found
