"""Fixtures of the web UI's browser tests: `ui_stack(**backend_config)` (ui_stack.py) and
Playwright driving Debian's chromium (never a browser Playwright would download)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))
sys.path.insert(0, str(Path(__file__).parents[1] / "marathon"))
sys.path.insert(0, str(Path(__file__).parents[1] / "metronome"))
sys.path.insert(0, str(Path(__file__).parent))
from marathon_cluster import start_cluster
from metronome_cluster import start_metronome
from ui_stack import (
    CHROMIUM,
    UiStack,
    stack_units,
    start_backend,
    start_diagnostics,
    upstreams,
)

from daemons.ui.main import static_dir
from tests.integration.adminrouter.front_door import FrontDoor, start_front_door
from tests.integration.conftest import HOST, DaemonProcess, free_port
from tests.integration.minuteman import minuteman_daemon
from tools import processes

CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} missing: run scripts/bootstrap.sh (chromium)"
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """A laptop's screen."""
    return {**browser_context_args, "viewport": {"width": 1366, "height": 768}}


@pytest.fixture
def ui_stack(
    work_root: Path,
    daemons: Any,
    start_master: Any,
    start_agent: Any,
    zk_url: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Iterator[Callable[..., UiStack]]:
    doors: list[FrontDoor] = []
    pids: list[int] = []
    vips: list[DaemonProcess] = []

    def agent_at_its_host(**config: Any) -> Any:
        """An agent listening on the address it advertises (127.0.0.2 for the second), as on
        a cluster: Admin Router's `/agent/<id>/` goes to the address in the agent's pid."""
        return start_agent(**{**config, "ip": config.get("hostname", HOST)})

    def start(
        metronome: bool = False,
        diagnostics: bool = False,
        minuteman: bool = False,
        master_config: dict[str, Any] | None = None,
        **backend_config: Any,
    ) -> UiStack:
        """The stack; `metronome=True` adds a real dcos-metronome behind the door,
        `diagnostics=True` dcos-diagnostics watching the stack's processes, `minuteman=True`
        a real dcos-minuteman following the master (it programs this machine's nftables:
        tests/integration/minuteman/minuteman_daemon.py); `master_config` adds to the master's
        settings (e.g. a short agent ping budget)."""
        cluster = start_cluster(
            work_root, daemons, start_master, agent_at_its_host, zk_url, master_config=master_config
        )
        backend = start_backend(daemons, zk_url, **backend_config)
        jobs = start_metronome(daemons, zk_url) if metronome else None
        health_port = free_port() if diagnostics else 0
        routes = upstreams(cluster, backend, jobs, health_port)
        if minuteman:
            minuteman_daemon.guard()
            vips.append(
                minuteman_daemon.minuteman_process(
                    daemons, "minuteman", masters=[HOST], master_port=cluster.master.port
                )
            )
            routes["minuteman"] = f"{HOST}:{vips[-1].port}"
        door = start_front_door(
            daemons,
            zk_url,
            tmp_path,
            upstreams=routes,
            master=zk_url,
            marathon=cluster.url,
            ui_dir=static_dir(),
        )
        doors.append(door)
        stack = UiStack(cluster, door, backend, minuteman=vips[-1] if minuteman else None)
        if diagnostics:
            units = stack_units(cluster, door, backend)
            stack.diagnostics = start_diagnostics(tmp_path / "diagnostics", health_port, units)
            pids.append(stack.diagnostics)
        return stack

    yield start
    for pid in pids:
        processes.stop_pid(pid)
    for process in vips:  # first, or its reconcile would load the table again
        process.stop()
        minuteman_daemon.clean()
    for door in doors:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            print(f"\n--- Admin Router's nginx log:\n{door.log_path.read_text()[-4000:]}")
        door.stop()
