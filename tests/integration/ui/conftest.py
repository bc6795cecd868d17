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
sys.path.insert(0, str(Path(__file__).parent))
from marathon_cluster import start_cluster
from ui_stack import CHROMIUM, Nginx, UiStack, start_backend, start_nginx

from tests.integration.iam.iam_daemon import iam_process

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
    started: list[Nginx] = []

    def start(**backend_config: Any) -> UiStack:
        cluster = start_cluster(work_root, daemons, start_master, start_agent, zk_url)
        iam = iam_process(daemons, zk_url)
        iam.start()
        backend = start_backend(daemons, zk_url, **backend_config)
        nginx = start_nginx(tmp_path / "nginx", cluster, iam, backend)
        started.append(nginx)
        return UiStack(cluster, iam, backend, nginx)

    yield start
    for nginx in started:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            print(f"\n--- nginx error log:\n{nginx.log_tail()}")
        nginx.stop()
