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
from ui_stack import CHROMIUM, UiStack, start_backend, upstreams

from daemons.ui.main import static_dir
from tests.integration.adminrouter.front_door import FrontDoor, start_front_door

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

    def start(metronome: bool = False, **backend_config: Any) -> UiStack:
        """The stack; `metronome=True` adds a real dcos-metronome behind the door."""
        cluster = start_cluster(work_root, daemons, start_master, start_agent, zk_url)
        backend = start_backend(daemons, zk_url, **backend_config)
        jobs = start_metronome(daemons, zk_url) if metronome else None
        door = start_front_door(
            daemons,
            zk_url,
            tmp_path,
            upstreams=upstreams(cluster, backend, jobs),
            master=zk_url,
            marathon=cluster.url,
            ui_dir=static_dir(),
        )
        doors.append(door)
        return UiStack(cluster, door, backend)

    yield start
    for door in doors:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            print(f"\n--- Admin Router's nginx log:\n{door.log_path.read_text()[-4000:]}")
        door.stop()
