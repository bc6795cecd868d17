"""The agent's Admin Router (:61001 on a node): the real nginx with the role's agent config,
open as in Open DC/OS, serving its node's `/system/health/v1`, its version and nothing else."""

from __future__ import annotations

import time
from pathlib import Path

import requests

from tests.integration.adminrouter.front_door import TIMEOUT, start_echo
from tests.integration.conftest import HOST, free_port
from tools import adminrouter, processes


def test_agent_adminrouter_serves_its_node_without_auth(tmp_path: Path) -> None:
    echo = start_echo()
    port = free_port()
    conf = adminrouter.write(
        "agent",
        {
            "dcos_adminrouter_agent_listen": [f"{HOST}:{port}"],
            "dcos_adminrouter_state_dir": str(tmp_path),
            "dcos_adminrouter_worker_processes": 1,
            "dcos_adminrouter_user": adminrouter.local_user(),
            "dcos_adminrouter_diagnostics": echo.address,
        },
        tmp_path / "nginx.conf",
    )
    checked = adminrouter.check(conf)
    assert checked.returncode == 0, checked.stderr
    pid = adminrouter.start(conf, tmp_path / "nginx.log")
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 20
        while processes.http_status(f"{base}/dcos-metadata/dcos-version.json") != 200:
            assert time.monotonic() < deadline, processes.log_tail(tmp_path / "nginx.log")
            time.sleep(0.1)
        version = requests.get(f"{base}/dcos-metadata/dcos-version.json", timeout=TIMEOUT)
        assert version.json()["version"] == adminrouter.defaults()["dcos_adminrouter_dcos_version"]
        health = requests.get(
            f"{base}/system/health/v1/units",
            headers={"Cookie": "dcos-acs-auth-cookie=x; a=b", "Authorization": "token=x"},
            timeout=TIMEOUT,
        )
        assert health.status_code == 200
        seen = health.json()
        assert seen["path"] == "/system/health/v1/units"
        assert "cookie" not in seen["headers"] and "authorization" not in seen["headers"]
        assert requests.get(f"{base}/nginx/status", timeout=TIMEOUT).status_code == 200
        for path in ("/", "/mesos/master/state", "/acs/api/v1/users", "/system/v1/logs/"):
            assert requests.get(f"{base}{path}", timeout=TIMEOUT).status_code == 404, path
    finally:
        processes.stop_pid(pid, grace=5.0)
        echo.shutdown()
