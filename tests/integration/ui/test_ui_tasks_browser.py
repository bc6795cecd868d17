"""Task detail, node detail, components and networking in Debian's chromium (Playwright),
against real daemons behind the real Admin Router: a Marathon task that prints a line every
0.5 s is found from the nodes table through its node's detail; its detail shows its state
history, host and port; its sandbox lists stdout and stderr and a download returns the real
file; its logs show the output and new lines arrive while following, at a bounded rate, and
none are asked for once paused; the components screen lists the stack's units from a real
dcos-diagnostics (one of them unhealthy, worst first) per unit and per node; the networking
screen's empty state (Minuteman is not in this stack: see ui_stack.upstreams).

Screenshots go to the test's output directory, as in test_ui_browser.py."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect
from test_ui_browser import TIMEOUT_MS, go_to, shot, timed_ms
from ui_stack import ABSENT_UNIT, UiStack

from tests.integration.iam.iam_daemon import SUPERUSER

pytestmark = pytest.mark.timeout(300)

TALKER = {
    "id": "/ui-test/talker",
    "cmd": "mkdir -p data && echo hello > data/note.txt && "
    'i=0; while true; do i=$((i+1)); echo "line $i"; echo "err $i" >&2; sleep 0.5; done',
    "cpus": 0.1,
    "mem": 32.0,
    "instances": 1,
    "portDefinitions": [{"port": 0, "name": "http"}],
}
LINE = re.compile(r"line (\d+)")
# The page's visibility as a browser reports it for a background tab, and back.
HIDE = """() => { Object.defineProperty(document, "visibilityState", {value: "hidden",
  configurable: true}); document.dispatchEvent(new Event("visibilitychange")); }"""
SHOW = """() => { Object.defineProperty(document, "visibilityState", {value: "visible",
  configurable: true}); document.dispatchEvent(new Event("visibilitychange")); }"""


def last_line(page: Page) -> int:
    numbers = LINE.findall(page.get_by_test_id("log-output").inner_text())
    return int(numbers[-1]) if numbers else 0


def test_task_detail_logs_files_node_components_and_networking(
    ui_stack: Callable[..., UiStack], page: Page, output_path: str
) -> None:
    stack = ui_stack(diagnostics=True)
    cluster = stack.cluster
    marathon = cluster.leader_url()
    requests.post(marathon + "/v2/apps", json=TALKER, timeout=30).raise_for_status()
    cluster.wait_running(TALKER["id"], 1)
    task = requests.get(marathon + f"/v2/apps{TALKER['id']}/tasks", timeout=10).json()["tasks"][0]
    agent, task_id, port = task["slaveId"], task["id"], task["ports"][0]
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    reads: list[str] = []
    page.on("request", lambda r: reads.append(r.url) if "/files/read" in r.url else None)
    page.context.add_cookies(stack.login_cookies(*SUPERUSER))
    times: dict[str, float] = {}

    # --- nodes table -> node detail: its facts and its tasks --------------------------------
    page.goto(stack.url + "/#/nodes")
    row = page.locator(f"tr[data-node-id='{agent}']")
    times["node detail"] = timed_ms(
        page,
        lambda: row.get_by_role("link").click(),
        lambda: expect(page.locator("[data-testid=node-tasks-table] tbody tr")).to_have_count(1),
    )
    expect(page).to_have_url(stack.url + f"/#/nodes/detail/{agent}")
    expect(page.get_by_role("heading", level=1)).to_have_text(task["host"])
    facts = page.get_by_test_id("node-facts")
    expect(facts.locator("dd[data-key=id]")).to_have_text(agent)
    expect(facts.locator("dd[data-key=tasks]")).to_have_text("1")
    usage = page.locator("[data-testid=node-usage] [data-resource=cpus] .usage")
    expect(usage).to_have_attribute("data-total", "4")
    expect(usage).to_have_attribute("data-used", "0.1")
    tasks = page.locator("[data-testid=node-tasks-table] tbody tr")
    expect(tasks).to_have_count(1)
    expect(tasks.first).to_have_attribute("data-task-id", task_id)
    expect(tasks.first).to_contain_text("TASK_RUNNING")
    expect(page.get_by_test_id("node-task-count")).to_have_text("1 of 1 tasks")
    page.get_by_label("State", exact=True).select_option("done")
    expect(page.get_by_test_id("node-task-count")).to_have_text("0 of 1 tasks")
    page.get_by_label("State", exact=True).select_option("")
    shot(page, output_path, "node-detail")

    # --- task detail: state history, host, ports ----------------------------------------
    link = tasks.first.get_by_role("link")
    link.focus()
    task_facts = page.get_by_test_id("task-facts")
    times["task detail"] = timed_ms(
        page,
        lambda: page.keyboard.press("Enter"),  # the keyboard, not the mouse
        lambda: expect(task_facts.locator("dd[data-key=state]")).to_be_visible(),
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("talker.ui-test")
    expect(task_facts.locator("dd[data-key=state]")).to_have_text("TASK_RUNNING")
    expect(task_facts.locator("dd[data-key=host]")).to_have_text(task["host"])
    expect(task_facts.locator("dd[data-key=ports]")).to_have_text(str(port))
    expect(task_facts.locator("dd[data-key=endpoints]")).to_have_text(f"{task['host']}:{port}")
    expect(task_facts.locator("dd[data-key=health]")).to_have_text("No health checks")
    history = page.locator("[data-testid=state-history] tbody tr")
    expect(history.last).to_have_attribute("data-state", "TASK_RUNNING")
    shot(page, output_path, "task-detail")

    # --- files: the sandbox lists stdout and stderr; a download is the real file --------------
    times["files"] = timed_ms(
        page,
        lambda: (
            page.get_by_role("navigation", name="Task").get_by_role("link", name="Files").click()
        ),
        lambda: expect(page.locator("tr[data-name=stdout]")).to_have_count(1),
    )
    expect(page.locator("tr[data-name=stderr]")).to_have_count(1)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download stdout").click()
    download = download_info.value
    assert download.suggested_filename == "stdout"
    downloaded = Path(download.path()).read_text()
    assert "line 1\n" in downloaded, downloaded[:200]
    shot(page, output_path, "task-files")
    page.get_by_role("button", name="data/").click()  # a directory opens in place
    expect(page.locator("tr[data-name='note.txt']")).to_have_count(1)
    expect(page.get_by_role("navigation", name="Sandbox path")).to_contain_text("sandbox / data")
    page.get_by_role("button", name=".. (parent directory)").click()
    expect(page.locator("tr[data-name=stdout]")).to_have_count(1)

    # --- logs: the output, and new lines arriving while following -----------------------------
    output = page.get_by_test_id("log-output")
    times["logs"] = timed_ms(
        page,
        lambda: (
            page.get_by_role("navigation", name="Task").get_by_role("link", name="Logs").click()
        ),
        lambda: expect(output).to_contain_text("line 1\n"),
    )
    expect(page.get_by_role("button", name="stdout")).to_have_attribute("aria-pressed", "true")
    seen = last_line(page)
    expect(output).to_contain_text(f"line {seen + 3}\n", timeout=TIMEOUT_MS)  # live
    # Bounded: a size read each second and a read of what is new (two requests a tick).
    before, started = len(reads), time.monotonic()
    page.wait_for_timeout(4000)
    per_second = (len(reads) - before) / (time.monotonic() - started)
    assert per_second <= 2.5, per_second
    expect(page.get_by_test_id("log-status")).to_contain_text("following")
    shot(page, output_path, "task-logs")
    # A hidden page asks nothing (what a browser says of a background tab), and catches up
    # once visible again.
    page.evaluate(HIDE)
    page.wait_for_timeout(1500)  # a read under way ends
    hidden_reads, hidden_line = len(reads), last_line(page)
    page.wait_for_timeout(2500)
    assert len(reads) == hidden_reads, reads[hidden_reads:]
    page.evaluate(SHOW)
    expect(output).to_contain_text(f"line {hidden_line + 5}\n")
    page.get_by_role("button", name="stderr").click()
    expect(output).to_contain_text("err 1\n")
    expect(output).not_to_contain_text("line 1\n")
    # Paused: nothing more is asked, and the text stays as it was.
    page.get_by_label("Follow").uncheck()
    expect(page.get_by_test_id("log-status")).to_contain_text("paused")
    page.wait_for_timeout(300)  # a read under way when paused ends
    paused_text, paused_reads = output.inner_text(), len(reads)
    page.wait_for_timeout(2500)
    assert len(reads) == paused_reads, reads[paused_reads:]
    assert output.inner_text() == paused_text
    # The Files tab's "View" link opens the logs on that file.
    page.get_by_role("navigation", name="Task").get_by_role("link", name="Files").click()
    page.get_by_role("link", name="View stderr").click()
    expect(page).to_have_url(stack.url + f"/#/tasks/{agent}/{task_id}/logs?file=stderr")
    expect(page.get_by_role("button", name="stderr")).to_have_attribute("aria-pressed", "true")
    expect(output).to_contain_text("err 1\n")

    # --- components: the stack's units from dcos-diagnostics ------------------------------
    units = page.locator("[data-testid=units-table] tbody tr")
    times["components"] = timed_ms(
        page,
        lambda: go_to(page, "Components"),
        lambda: expect(units).to_have_count(9),
    )
    expect(page.get_by_role("heading", name="Components")).to_be_visible()
    expect(units.first).to_have_attribute("data-unit", ABSENT_UNIT)  # worst first
    expect(units.first.locator("td[data-health]")).to_have_attribute("data-health", "Unhealthy")
    master_unit = page.locator("tr[data-unit='dcos-mesos-master.service'] td[data-health]")
    expect(master_unit).to_have_attribute("data-health", "Healthy")
    # master, two agents, Marathon, IAM, auth daemon, nginx, backend, Exhibitor
    expect(units).to_have_count(9)
    expect(page.get_by_test_id("units-table-count")).to_have_text(
        "9 units · 1 unhealthy · 0 unknown · 8 healthy"
    )
    health_nodes = page.locator("[data-testid=health-nodes-table] tbody tr")
    expect(health_nodes).to_have_count(1)
    expect(health_nodes.first.locator("td[data-health]")).to_have_attribute(
        "data-health", "Unhealthy"
    )
    page.get_by_label("Filter units").get_by_label("Health").select_option("Healthy")
    expect(units).to_have_count(8)
    shot(page, output_path, "components")
    page.get_by_label("Filter units").get_by_label("Health").select_option("")
    page.get_by_role("link", name=ABSENT_UNIT).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ABSENT_UNIT)
    unit_nodes = page.locator("[data-testid=unit-nodes-table] tbody tr")
    expect(unit_nodes).to_have_count(1)
    unit_nodes.first.get_by_role("link").click()  # the node's units, with their output
    expect(page.get_by_role("heading", level=1)).to_have_text(unit_nodes_ip(stack))
    absent = page.locator(f"[data-testid=node-units-table] tr[data-unit='{ABSENT_UNIT}']")
    expect(absent).to_contain_text("no pid")
    shot(page, output_path, "components-node")

    # The dashboard's component panel links an unhealthy unit to its page.
    go_to(page, "Dashboard")
    panel = page.get_by_test_id("components-unhealthy")
    panel.get_by_role("link", name=ABSENT_UNIT).click()
    expect(page).to_have_url(stack.url + f"/#/components/unit/{ABSENT_UNIT}")
    expect(unit_nodes).to_have_count(1)

    # --- networking: Minuteman is not in this stack -------------------------------------
    times["networking"] = timed_ms(
        page,
        lambda: go_to(page, "Networking"),
        lambda: expect(page.get_by_text("No VIPs to show.")).to_be_visible(),
    )
    expect(page.get_by_role("heading", name="Networking")).to_be_visible()
    expect(page.locator(".empty")).to_contain_text("Minuteman does not answer at /net/v1/vips")
    shot(page, output_path, "networking")
    assert errors == []
    print("\nUI times, click to drawn (ms): " + ", ".join(f"{k} {v:.0f}" for k, v in times.items()))
    assert max(times.values()) < 5_000, times  # generous on a shared 2-core machine


def unit_nodes_ip(stack: UiStack) -> str:
    """The address dcos-diagnostics reports this node by (its `node_ip`)."""
    token = stack.door.login()
    nodes = requests.get(
        stack.url + "/system/health/v1/nodes", headers=stack.door.auth(token), timeout=10
    ).json()["nodes"]
    return str(nodes[0]["host_ip"])
