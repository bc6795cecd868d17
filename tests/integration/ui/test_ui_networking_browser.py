"""The networking screen in Debian's chromium with a real dcos-minuteman behind the real Admin
Router (it programs this machine's nftables: `ui_stack(minuteman=True)`): a Marathon app whose
port is labelled `VIP_0: /ui-web:80` is listed with its VIP and both tasks as backends; the
filter narrows to one backend; a task killed leaves the screen without a reload; no JavaScript
error. (The screen's failure state, Minuteman not answering, is test_ui_tasks_browser.py's.)

Screenshots go to the test's output directory, as in test_ui_browser.py."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests
from playwright.sync_api import Page, expect
from test_ui_browser import TIMEOUT_MS, shot
from ui_stack import UiStack

from tests.integration.iam.iam_daemon import SUPERUSER
from tests.integration.vip_app import SERVER

pytestmark = pytest.mark.timeout(300)

VIP = "ui-web.marathon.l4lb.thisdcos.directory:80"
WEB = {
    "id": "/ui-web",
    "cmd": f'exec python3 -c "{SERVER}"',
    "cpus": 0.1,
    "mem": 64,
    "instances": 2,
    "portDefinitions": [{"port": 0, "protocol": "tcp", "labels": {"VIP_0": "/ui-web:80"}}],
}


def backends(minuteman_url: str) -> list[str]:
    for vip in requests.get(f"{minuteman_url}/v1/vips", timeout=5).json():
        if vip["vip"] == VIP:
            return sorted(f"{b['ip']}:{b['port']}" for b in vip["backend"])
    return []


def wait_for(probe: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting for {what}"
        time.sleep(0.2)


def test_networking_lists_real_vips_and_their_backends(
    ui_stack: Callable[..., UiStack], page: Page, output_path: str
) -> None:
    stack = ui_stack(minuteman=True)
    assert stack.minuteman is not None
    minuteman = stack.minuteman.url
    marathon = stack.cluster.leader_url()
    requests.post(marathon + "/v2/apps", json=WEB, timeout=30).raise_for_status()
    stack.cluster.wait_running(WEB["id"], 2)
    wait_for(lambda: len(backends(minuteman)) == 2, 30, "Minuteman's 2 backends")
    found = backends(minuteman)
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.context.add_cookies(stack.login_cookies(*SUPERUSER))

    page.goto(stack.url + "/#/networking")
    row = page.locator(f"tr[data-vip='{VIP}']")
    expect(row).to_have_count(1)
    listed = row.get_by_role("list", name=f"Backends of {VIP}").get_by_role("listitem")
    expect(listed).to_have_text(found)
    expect(page.get_by_test_id("vip-count")).to_have_text("1 of 1 VIPs")
    shot(page, output_path, "networking-vips")

    # The filter finds a VIP by one of its backends.
    search = page.get_by_role("searchbox", name="Filter")
    search.fill(found[0])
    expect(row).to_have_count(1)
    search.fill("no-such-vip")
    expect(row).to_have_count(0)
    search.fill("")
    expect(row).to_have_count(1)

    # One task killed (scaled down): its backend leaves the screen without a reload (it reads
    # /net/v1/vips every 10 s while open).
    tasks = requests.get(marathon + "/v2/apps/ui-web/tasks", timeout=10).json()["tasks"]
    gone = tasks[0]
    requests.delete(
        marathon + f"/v2/apps/ui-web/tasks/{gone['id']}?scale=true", timeout=10
    ).raise_for_status()
    wait_for(lambda: len(backends(minuteman)) == 1, 30, "one backend left")
    expect(listed).to_have_text(backends(minuteman), timeout=20_000)
    assert errors == []
