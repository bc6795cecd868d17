"""dcos-diagnostics against real systemd: a test host (a systemd-nspawn node, tools/testhosts.py)
runs the daemon as a transient unit `dcos-diagnostics-itest` beside transient units made with
`systemd-run --unit=dcos-test-…`: one active, one failed, one crash-looping
(Restart=always). Its `/system/health/v1` must judge each as systemd sees it (0, 1, 1; its own
unit 0), show the failed unit's journal as output, leave out a name that is only referenced,
and drop a unit once it is gone. The host itself has no systemd as PID 1, hence the node.

The daemon's package and its dependencies are copied into the node (the node's / is the
host's, but /work is hidden in it) and run by the node's python3. Teardown stops and resets
the test units by name, then destroys the node. About 30 s.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tools import testhosts
from tools.processes import REPO_ROOT

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="test hosts need root (mounts, namespaces)"),
    pytest.mark.skipif(
        shutil.which("systemd-nspawn") is None, reason="systemd-nspawn is not installed"
    ),
]

CLUSTER = "diagitest"
NODE, IP = "d1", "198.18.0.221"
PORT = 1050
BASE = f"http://{IP}:{PORT}/system/health/v1"
ROOT = "/opt/diagitest"
# What `import daemons.diagnostics.main` and gunicorn's threaded worker load from the venv.
PACKAGES = (
    "blinker",
    "certifi",
    "charset_normalizer",
    "click",
    "flask",
    "gunicorn",
    "idna",
    "itsdangerous",
    "jinja2",
    "markupsafe",
    "packaging",
    "requests",
    "urllib3",
    "werkzeug",
)
TEST_UNITS = (
    "dcos-test-active",
    "dcos-test-failed",
    "dcos-test-crash",
    "dcos-test-referrer",
    "dcos-diagnostics-itest",
)
CONFIG = f"""
role = "agent"
node_ip = "{IP}"
check_interval = 0.0
journal_lines = 5
ip = "0.0.0.0"
port = {PORT}
"""


def on_node(script: str, check: bool = True) -> str:
    done = subprocess.run(
        testhosts.ssh_argv(CLUSTER, IP, script),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if check and done.returncode != 0:
        pytest.fail(f"on {NODE}: {script}\n{done.stdout}{done.stderr}")
    return done.stdout


def payload() -> bytes:
    """A tarball of the daemons package and the dependencies it loads, laid out as
    ROOT/lib."""
    site = Path(next(p for p in sys.path if p.endswith("site-packages")))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(REPO_ROOT / "daemons", "lib/daemons", filter=_no_cache)
        for name in PACKAGES:
            if (site / name).exists():
                tar.add(site / name, f"lib/{name}", filter=_no_cache)
    return buffer.getvalue()


def _no_cache(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    return None if "__pycache__" in info.name else info


@pytest.fixture(scope="module")
def node() -> Iterator[None]:
    testhosts.down(CLUSTER)  # what an interrupted run left
    try:
        testhosts.up(CLUSTER, {NODE: IP})
        subprocess.run(
            testhosts.ssh_argv(CLUSTER, IP, "mkdir", "-p", ROOT, "&&", "tar", "xz", "-C", ROOT),
            input=payload(),
            capture_output=True,
            timeout=120,
            check=True,
        )
        on_node(f"cat > {ROOT}/diagnostics.toml <<'EOF'\n{CONFIG}\nEOF")
        on_node(
            "systemd-run --unit=dcos-diagnostics-itest"
            " --description='Diagnostics: the daemon under test'"
            # The hardening of the role's unit (dcos-diagnostics.service).
            " -p NoNewPrivileges=yes -p ProtectSystem=full -p ProtectHome=yes -p PrivateTmp=yes"
            f" -p Environment=PYTHONPATH={ROOT}/lib"
            f" /usr/bin/python3 -m daemons.diagnostics.main --config {ROOT}/diagnostics.toml"
        )
        yield
    finally:
        if testhosts.nspawn_pid(CLUSTER, NODE) is not None:
            names = " ".join(f"{u}.service" for u in TEST_UNITS)
            on_node(f"systemctl stop {names}; systemctl reset-failed {names}", check=False)
        testhosts.down(CLUSTER)


def wait_for(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except requests.RequestException as err:
            last = err
        else:
            if last:
                return last
        time.sleep(0.5)
    pytest.fail(f"not within {timeout} s: {last!r}")


def units() -> dict[str, dict[str, Any]]:
    body = requests.get(BASE, timeout=5).json()
    return {u["id"]: u for u in body["units"]}


def test_the_daemon_reports_itself_healthy(node: None) -> None:
    found = wait_for(lambda: units().get("dcos-diagnostics-itest.service"))
    assert found["health"] == 0
    assert (found["name"], found["description"]) == ("Diagnostics", "the daemon under test")
    body = requests.get(BASE, timeout=5).json()
    assert (body["ip"], body["node_role"], body["hostname"]) == (IP, "agent", NODE)


def test_active_failed_and_crash_looping_units(node: None) -> None:
    on_node(
        "systemd-run --unit=dcos-test-active --description='Active: sleeps' sleep 600;"
        " systemd-run --unit=dcos-test-failed sh -c 'echo failing-now >&2; exit 2';"
        " systemd-run --unit=dcos-test-crash -p Restart=always -p RestartSec=4"
        " sh -c 'echo crash-loop; exit 3'"
    )

    def judged() -> dict[str, dict[str, Any]] | None:
        found = units()
        crash = found.get("dcos-test-crash.service", {})
        failed = found.get("dcos-test-failed.service", {})
        ready = crash.get("health") == 1 and failed.get("health") == 1
        return found if ready and "dcos-test-active.service" in found else None

    found = wait_for(judged)
    active = found["dcos-test-active.service"]
    assert (active["health"], active["name"], active["description"]) == (0, "Active", "sleeps")
    failed = found["dcos-test-failed.service"]
    assert "failed" in failed["output"] and "failing-now" in failed["output"]
    crash = found["dcos-test-crash.service"]
    assert "restarting after a failure" in crash["output"]
    assert "crash-loop" in crash["output"]
    # systemd agrees with the judgement.
    states = on_node(
        "systemctl show -p ActiveState,SubState dcos-test-failed.service dcos-test-crash.service"
    )
    assert "ActiveState=failed" in states and "SubState=auto-restart" in states

    # Per node, with the output, and the 404s.
    one = requests.get(f"{BASE}/nodes/{IP}/units/dcos-test-failed.service", timeout=5)
    assert one.status_code == 200 and one.json()["health"] == 1
    summary = requests.get(f"{BASE}/units/dcos-test-crash.service", timeout=5).json()
    assert summary["health"] == 1 and "output" not in summary
    assert requests.get(f"{BASE}/nodes", timeout=5).json() == {
        "nodes": [{"host_ip": IP, "health": 1, "role": "agent"}]
    }
    missing = requests.get(f"{BASE}/units/dcos-test-none.service", timeout=5)
    assert missing.status_code == 404
    assert missing.json() == {"message": "Unit dcos-test-none.service not found"}


def test_a_referenced_name_is_no_unit_and_a_stopped_unit_leaves(node: None) -> None:
    # A unit that only names another in Wants=/After= makes systemd load that name as
    # not-found: it is no component of the node.
    on_node(
        "systemd-run --unit=dcos-test-referrer -p Wants=dcos-test-ghost.service"
        " -p After=dcos-test-ghost.service sleep 600"
    )
    try:
        found = wait_for(lambda: (u := units()).get("dcos-test-referrer.service") and u)
        assert "dcos-test-ghost.service" not in found
        on_node(
            "systemctl stop dcos-test-crash.service;"
            " systemctl reset-failed dcos-test-crash.service 2>/dev/null; true"
        )
        wait_for(lambda: "dcos-test-crash.service" not in units())
    finally:
        on_node("systemctl stop dcos-test-referrer.service", check=False)
