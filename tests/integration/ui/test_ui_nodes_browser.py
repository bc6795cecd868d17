"""The nodes table's health and removed agents in Debian's chromium (Playwright), against real
daemons behind the real Admin Router: each node's health is the one a real dcos-diagnostics
reports for its address; an agent that stops answering turns unreachable once it misses the
master's ping budget, then gone when the operator marks it so (MARK_AGENT_GONE), on the table,
its filter, the dashboard's counts and the node's detail, without a reload.

Screenshots go to the test's output directory, as in test_ui_browser.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect
from test_ui_browser import TIMEOUT_MS, go_to, shot
from ui_stack import UiStack

from tests.integration.iam.iam_daemon import SUPERUSER

pytestmark = pytest.mark.timeout(240)

# An agent is unreachable after 3 missed pings of 1 s (the budget must outlast the ZooKeeper
# session, so that is 2 s here).
SHORT_PING_BUDGET = {
    "zk_session_timeout": 2.0,
    "agent_ping_timeout": 1.0,
    "max_agent_ping_timeouts": 3,
}
HEALTH = {0: "Healthy", 1: "Unhealthy", 3: "Unknown"}


def cells(page: Page, agent_id: str) -> Any:
    return page.locator(f"tr[data-node-id='{agent_id}'] td")


def test_node_health_and_unreachable_then_gone_agents(
    ui_stack: Callable[..., UiStack], page: Page, output_path: str
) -> None:
    stack = ui_stack(diagnostics=True, master_config=SHORT_PING_BUDGET)
    cluster = stack.cluster
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.context.add_cookies(stack.login_cookies(*SUPERUSER))
    summary = requests.get(cluster.master.url + "/master/state-summary", timeout=10).json()
    by_host = {a["hostname"]: a["id"] for a in summary["slaves"]}
    assert summary["removed_slaves"] == [] and len(by_host) == 2

    # --- health: what dcos-diagnostics says of each node's address, through the door ---------
    token = {"Cookie": "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())}
    health = requests.get(stack.url + "/system/health/v1/nodes", headers=token, timeout=10)
    health.raise_for_status()
    reported = {n["host_ip"]: HEALTH[n["health"]] for n in health.json()["nodes"]}
    assert reported  # the stack's diagnostics reports its own node (an absent unit: unhealthy)
    page.goto(stack.url + "/#/nodes")
    rows = page.locator("[data-testid=nodes-table] tbody tr")
    expect(rows).to_have_count(2)
    for host, agent_id in by_host.items():
        expect(cells(page, agent_id).nth(1)).to_have_text("active")
        expect(cells(page, agent_id).nth(2)).to_have_text(reported.get(host, "—"))
    page.get_by_label("Health", exact=True).select_option("Unhealthy")
    unhealthy = [h for h in by_host if reported.get(h) == "Unhealthy"]
    expect(rows).to_have_count(len(unhealthy))
    page.get_by_label("Health", exact=True).select_option("")
    shot(page, output_path, "nodes-health")

    # --- an agent that stops: unreachable once it misses the ping budget --------------------
    lost_host = "127.0.0.2"
    lost = by_host[lost_host]
    cluster.agents[1].stop()
    status = cells(page, lost).nth(1)
    expect(status).to_have_text("unreachable", timeout=30_000)
    expect(cells(page, lost).nth(3)).to_have_text("0")  # no task of it is counted live
    expect(cells(page, by_host["127.0.0.1"]).nth(1)).to_have_text("active")
    page.get_by_label("Status", exact=True).select_option("unreachable")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-node-id", lost)
    shot(page, output_path, "nodes-unreachable")
    page.get_by_label("Status", exact=True).select_option("")

    # --- the operator gives it up: gone ------------------------------------------------------
    gone = requests.post(
        cluster.master.url + "/api/v1",
        json={"type": "MARK_AGENT_GONE", "mark_agent_gone": {"agent_id": {"value": lost}}},
        timeout=10,
    )
    assert gone.status_code == 200, gone.text
    expect(status).to_have_text("gone", timeout=15_000)
    page.get_by_label("Status", exact=True).select_option("gone")
    expect(rows).to_have_count(1)
    page.get_by_label("Status", exact=True).select_option("")
    summary = requests.get(cluster.master.url + "/master/state-summary", timeout=10).json()
    assert [a["id"] for a in summary["slaves"]] == [by_host["127.0.0.1"]]
    assert [(a["id"], a["state"]) for a in summary["removed_slaves"]] == [(lost, "gone")]

    # The node's detail says so instead of asking an agent Admin Router no longer routes to.
    page.locator(f"tr[data-node-id='{lost}']").get_by_role("link").click()
    facts = page.get_by_test_id("node-facts")
    expect(facts.locator("dd[data-key=status]")).to_have_text("gone")
    expect(facts.locator("dd[data-key=since]")).not_to_be_empty()
    expect(page.locator(".node-tasks")).to_contain_text("The master marked this agent gone")
    shot(page, output_path, "node-gone")

    # The dashboard counts it apart from the registered nodes, whose resources it no longer adds.
    go_to(page, "Dashboard")
    counts = page.get_by_test_id("node-counts")
    expect(counts.locator("dd[data-key=total]")).to_have_text("1")
    expect(counts.locator("dd[data-key=gone]")).to_have_text("1")
    expect(counts.locator("dd[data-key=unreachable]")).to_have_text("0")
    cpus = page.locator("[data-testid=resource-cpus] .big-number")
    expect(cpus).to_have_attribute("data-total", "4")
    assert errors == []
