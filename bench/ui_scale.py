"""The web UI at 1,000 nodes, 1,000 services and 1,000 jobs: every list screen's first paint
and its filters, drawn from the real APIs through the real UI backend and the real Admin
Router (nginx).

A local cluster (`tools/localcluster.py`: ZooKeeper, master, two agents, Marathon, Metronome,
IAM, the auth daemon, dcos-ui-backend, nginx, diagnostics, Minuteman) on free ports, plus N
simulated agents (bench/simagents.py: agent-protocol clients in one process, 2 running tasks
each) registered with its master, N Marathon apps (ten groups, no instances) and N Metronome
jobs. Debian's chromium (Playwright) logs in through the form and is timed, each screen from
the navigation click until its data is drawn (the first 50 rows and the count):
- log in -> the dashboard drawn with N + 2 nodes, and a reload of it;
- the nodes table (also from a fresh load of `#/nodes`); sort by CPU, filter by text, filter
  by status (none inactive), the next page;
- services: the group tree, the status filter (N match), a name filter;
- jobs: the list, a text filter;
- deployments, components, networking.
Also the master's `/master/state-summary` at that size (bytes, median of 5 reads) and the UI
backend's `/ui/api/v1/summary` (bytes; what each browser's snapshot carries), and the reads the
backend made of the master while the page was open (one per `sample_interval`, 5 s).
Anchor: issue 15 asks that every screen stay usable at 1,000 nodes; DC/OS's UI polled the
state-summary every 2 s per tab, which its users at 250 agents complained of.

The simulated agents' host names are 10.x addresses nobody connects to: the page never opens
a simulated node's detail (Admin Router would proxy it there). Only 127.0.0.1 is asked.

Run: `.venv/bin/python bench/ui_scale.py [--size N] [--quick]` (as root). Bounded: every wait
has a deadline; the cluster and the fleet are stopped by PID at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.launch import free_base_port  # noqa: E402
from bench.simagents import FleetProcess  # noqa: E402
from tools import localcluster, processes  # noqa: E402
from tools.localfrontdoor import ADMINROUTER, UI_BACKEND  # noqa: E402
from tools.machine import machine_line  # noqa: E402
from tools.ui_tour import chromium_page  # noqa: E402

LOGIN = ("bootstrapuser", "deleteme")  # make local's development login
ANCHOR = "every screen usable at 1,000 (issue 15); DC/OS UI: a state-summary read per tab every 2 s"


def wait(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    raise RuntimeError(f"timed out after {timeout:.0f} s: {what}")


def summary_read(url: str) -> tuple[float, int]:
    started = time.perf_counter()
    body = requests.get(url + "/master/state-summary", timeout=60).content
    return (time.perf_counter() - started) * 1000, len(body)


def make_services_and_jobs(marathon: str, metronome: str, size: int) -> None:
    """`size` Marathon apps in groups of 100 (one group of 1,000 would pass ZooKeeper's 1 MB
    node limit) and `size` Metronome jobs, none running."""
    for g in range(max(1, size // 100)):
        apps = [
            {"id": f"/scale/g{g}/app-{i:04d}", "cmd": "sleep 1", "instances": 0, "mem": 8}
            for i in range(g * 100, g * 100 + min(100, size))
        ]
        created = requests.post(
            marathon + "/v2/groups", json={"id": f"/scale/g{g}", "apps": apps}, timeout=120
        )
        if created.status_code != 201:
            raise RuntimeError(f"Marathon refused a group: {created.text[:500]}")
    wait(
        lambda: requests.get(marathon + "/v2/deployments", timeout=30).json() == [], 120, "deployed"
    )
    with requests.Session() as session:
        for i in range(size):
            job = {"id": f"scale-job-{i:04d}", "run": {"cmd": "true", "cpus": 0.1, "mem": 32}}
            job["run"]["disk"] = 0
            made = session.post(metronome + "/v1/jobs", json=job, timeout=30)
            if made.status_code != 201:
                raise RuntimeError(f"Metronome refused a job: {made.text[:500]}")


def browse(door: str, nodes: int, size: int) -> dict[str, float]:
    from playwright.sync_api import Page, expect

    count_text = f"{nodes} of {nodes} nodes"
    times: dict[str, float] = {}

    def now(page: Page) -> float:
        return float(page.evaluate("performance.now()"))

    def timed(page: Page, name: str, act: Callable[[], Any], done: Callable[[], Any]) -> None:
        started = now(page)
        act()
        done()
        times[name] = now(page) - started

    with chromium_page(60_000) as (page, errors):
        page.goto(door + "/")
        page.get_by_label("User name").fill(LOGIN[0])
        page.get_by_label("Password").fill(LOGIN[1])
        total = page.get_by_test_id("node-counts").locator("dd[data-key=total]")
        timed(
            page,
            "log in -> dashboard drawn",
            lambda: page.get_by_role("button", name="Log in").click(),
            lambda: expect(total).to_have_text(str(nodes)),
        )
        page.goto(door + "/#/dashboard")
        page.reload()
        expect(total).to_have_text(str(nodes))
        times["dashboard: load -> drawn"] = now(page)

        rows = page.locator("[data-testid=nodes-table] tbody tr")
        count = page.get_by_test_id("node-count")

        def table_drawn() -> None:
            expect(count).to_have_text(count_text)
            expect(rows).to_have_count(50)

        timed(
            page,
            "nodes: navigation -> table drawn",
            lambda: (
                page.get_by_role("navigation", name="Main")
                .get_by_role("link", name="Nodes")
                .click()
            ),
            table_drawn,
        )
        page.reload()
        table_drawn()
        times["nodes: load -> table drawn"] = now(page)
        timed(
            page,
            "nodes: sort by CPU",
            lambda: page.get_by_role("button", name="CPU").click(),
            lambda: expect(page.locator("th[aria-sort] button[data-key=cpus]")).to_be_visible(),
        )
        timed(
            page,
            "nodes: filter by text",
            lambda: page.get_by_label("Filter", exact=True).fill("10.0.3."),
            lambda: expect(count).not_to_have_text(count_text),
        )
        page.get_by_label("Filter", exact=True).fill("")
        expect(count).to_have_text(count_text)
        timed(
            page,
            "nodes: filter by status (none)",
            lambda: page.get_by_label("Status", exact=True).select_option("inactive"),
            lambda: expect(count).to_have_text(f"0 of {nodes} nodes"),
        )
        page.get_by_label("Status", exact=True).select_option("")
        expect(rows).to_have_count(50)
        first = rows.first.get_attribute("data-node-id")
        timed(
            page,
            "nodes: next page",
            lambda: page.get_by_role("button", name="Next").click(),
            lambda: expect(rows.first).not_to_have_attribute("data-node-id", first or ""),
        )

        def screen(name: str, ready: Callable[[], Any]) -> None:
            timed(page, f"{name.lower()}: navigation -> drawn", lambda: nav(name), ready)

        def nav(name: str) -> None:
            page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()

        services = page.locator("[data-testid=services-table] tbody tr")
        service_count = page.get_by_test_id("service-count")
        screen("Services", lambda: expect(page.get_by_role("button", name="scale")).to_be_visible())
        timed(
            page,
            f"services: filter by status, {size} match",
            lambda: page.get_by_label("Status", exact=True).select_option("Stopped"),
            lambda: expect(service_count).to_have_text(f"{size} of {size} services match"),
        )
        expect(services).to_have_count(50)
        timed(
            page,
            "services: filter by name",
            lambda: page.get_by_label("Filter", exact=True).fill(f"app-{size - 1:04d}"),
            lambda: expect(services).to_have_count(1),
        )
        jobs = page.locator("[data-testid=jobs-table] tbody tr")
        job_count = page.get_by_test_id("job-count")

        def jobs_drawn() -> None:
            expect(job_count).to_have_text(f"{size} jobs")
            expect(jobs).to_have_count(50)

        screen("Jobs", jobs_drawn)
        timed(
            page,
            "jobs: filter by text",
            lambda: page.get_by_label("Filter", exact=True).fill(f"job-{size - 1:04d}"),
            lambda: expect(jobs).to_have_count(1),
        )
        timed(
            page,
            "deployments: address -> drawn",
            lambda: page.goto(door + "/#/services/deployments"),  # the same page: no reload
            lambda: expect(page.get_by_test_id("deployment-count")).to_be_visible(),
        )
        screen(
            "Components",
            lambda: expect(
                page.locator("[data-testid=units-table] tbody tr").first
            ).to_be_visible(),
        )
        screen("Networking", lambda: expect(page.get_by_test_id("vip-count")).to_be_visible())
        if errors:
            raise RuntimeError(f"uncaught errors in the page: {errors}")
    return times


def run(agents: int) -> int:
    """`agents` simulated agents, as many services and as many jobs."""
    state = Path(tempfile.mkdtemp(prefix="bench-ui-nodes-"))
    cluster = localcluster.Cluster(state, base_port=free_base_port(), zk_port=processes.free_port())
    fleet: FleetProcess | None = None
    try:
        if localcluster.up(cluster) != 0:
            print("the local cluster did not come up")
            return 1
        fleet = FleetProcess(cluster.zk_url, 0, agents, state / "fleet.log", tasks=2, frameworks=1)
        if fleet.wait_event("subscribed", 300) is None:
            print(f"the {agents} simulated agents did not subscribe (log {state}/fleet.log)")
            return 1
        nodes = agents + len(localcluster.AGENTS)
        master = cluster.master_url
        reads = [summary_read(master) for _ in range(5)]
        backend = cluster.url(UI_BACKEND)

        def backend_nodes() -> int:
            body = requests.get(backend + "/ui/api/v1/summary", timeout=30).json()
            return len((body.get("summary") or {}).get("nodes") or [])

        wait(lambda: backend_nodes() == nodes, 60, f"the backend's summary lists {nodes} nodes")
        made_at = time.monotonic()
        make_services_and_jobs(cluster.url("marathon"), cluster.url("metronome"), agents)
        made_s = time.monotonic() - made_at
        summary_bytes = len(requests.get(backend + "/ui/api/v1/summary", timeout=30).content)
        reads_before = requests.get(backend + "/ui/api/v1/status", timeout=10).json()["reads"]
        opened = time.monotonic()
        times = browse(cluster.url(ADMINROUTER), nodes, agents)
        open_s = time.monotonic() - opened
        status = requests.get(backend + "/ui/api/v1/status", timeout=10).json()
    finally:
        if fleet is not None:
            fleet.stop()
        localcluster.down(cluster)

    print(machine_line())
    print(
        f"web UI at {nodes} registered agents ({agents} simulated + 2), {agents} Marathon apps"
        f" and {agents} Metronome jobs (made in {made_s:.0f} s); anchor: {ANCHOR}"
    )
    print(
        f"  master /master/state-summary: {statistics.median(r[1] for r in reads) / 1024:.0f} KiB,"
        f" median read {statistics.median(r[0] for r in reads):.0f} ms"
    )
    print(f"  UI backend /ui/api/v1/summary (a browser's snapshot): {summary_bytes / 1024:.0f} KiB")
    made = status["reads"] - reads_before
    print(
        f"  backend reads of the master while the page was open {open_s:.1f} s: {made}"
        f" (one per {status['interval']:g} s, whatever the browsers)"
    )
    for name, ms in times.items():
        print(f"  {name:36} {ms:8.0f} ms")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--size", type=int, default=1000, help="simulated agents, apps and jobs (each)"
    )
    parser.add_argument("--quick", action="store_true", help="100 of each")
    args = parser.parse_args()
    return run(100 if args.quick else args.size)


if __name__ == "__main__":
    sys.exit(main())
