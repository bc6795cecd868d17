"""The web UI's test cluster: a master, two agents and Marathon (tests/integration/marathon),
IAM over the test's ZooKeeper, the UI backend, and a real nginx in front of them with the
temporary Admin Router stand-in (nginx-temporary.conf). Everything on loopback, stopped by PID
at teardown. Fixtures are in conftest.py; tests import these names from here."""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from daemons.ui.main import static_dir
from tests.integration.conftest import HOST, DaemonProcess, Daemons, free_port
from tools import processes

CHROMIUM = "/usr/bin/chromium"
NGINX = "/usr/sbin/nginx"
CONFIG_TEMPLATE = Path(__file__).parent / "nginx-temporary.conf"
LOGIN = "/acs/api/v1/auth/login"
AUTH_COOKIE = "dcos-acs-auth-cookie"
INFO_COOKIE = "dcos-acs-info-cookie"


@dataclass
class Nginx:
    prefix: Path
    port: int
    pid: int | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def config(self) -> Path:
        return self.prefix / "nginx.conf"

    def write_config(self, upstreams: dict[str, int]) -> None:
        text = CONFIG_TEMPLATE.read_text()
        user = "user root root;" if os.geteuid() == 0 else ""
        fills = {"USER": user, "PREFIX": str(self.prefix), "PORT": str(self.port)}
        fills |= {"STATIC": static_dir(), **{k: str(v) for k, v in upstreams.items()}}
        for name, value in fills.items():
            text = text.replace(f"@{name}@", value)
        assert not re.search(r"@[A-Z]+@", text), "a placeholder was left unfilled"
        self.config.write_text(text)

    def start(self) -> None:
        argv = [NGINX, "-p", str(self.prefix), "-e", str(self.prefix / "error.log")]
        argv += ["-c", str(self.config)]
        checked = subprocess.run([*argv, "-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr
        self.pid = processes.spawn([*argv, "-g", "daemon off;"], self.prefix / "nginx.out")
        deadline = time.monotonic() + 15
        while processes.http_status(self.url + "/index.html") != 200:
            if processes.exited(self.pid) or time.monotonic() > deadline:
                raise AssertionError(f"nginx did not start:\n{self.log_tail()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.pid is not None:
            processes.stop_pid(self.pid)
            self.pid = None

    def log_tail(self) -> str:
        return processes.log_tail(self.prefix / "error.log")


@dataclass
class UiStack:
    cluster: Any  # marathon_cluster.MarathonCluster
    iam: DaemonProcess
    backend: DaemonProcess
    nginx: Nginx

    @property
    def url(self) -> str:
        return self.nginx.url

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


def start_nginx(prefix: Path, cluster: Any, iam: DaemonProcess, backend: DaemonProcess) -> Nginx:
    prefix.mkdir(parents=True)
    nginx = Nginx(prefix, free_port())
    nginx.write_config(
        {
            "IAM": iam.port,
            "MASTER": cluster.master.port,
            "MARATHON": cluster.marathons[0].port,
            "BACKEND": backend.port,
            "DIAGNOSTICS": free_port(),  # nothing listens: the route answers 502
        }
    )
    nginx.start()
    return nginx
