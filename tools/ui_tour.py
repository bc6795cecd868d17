"""A person's tour of the web UI on a running cluster, in Debian's chromium (Playwright): what
issue 15 asks that an operator can do, step by step through the real Admin Router, with a
screenshot of each screen and each screen's first-paint time. It changes the cluster only
by an app and a job of its own, removed at the end.

    make ui-tour                       # the cluster of `make cluster` (its superuser file)
    .venv/bin/python -m tools.ui_tour --url http://198.18.0.11/ --user admin \\
        --out DIR                      # the password from $PYDCOS_UI_PASSWORD

1. log in through the form (a wrong password first: refused, said in words);
2. the dashboard shows the leading master's totals and node count;
3. the nodes table lists every registered agent, each with dcos-diagnostics' health;
4. components: every unit's health across the cluster;
5. services: an app created through the JSON editor gets Marathon's 422 beside its line,
   is fixed, deploys, and is scaled to 2;
6. one of its tasks: its detail, and its stdout followed live (new lines arrive);
7. jobs: a job created through the editor, run now, its run in the history as Success;
8. networking: the VIP screen;
9. log out: back at the login form, the auth cookie gone.

Exits 1 with the step that failed; prints the times. Only the cluster's own address is asked.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import requests
from playwright.sync_api import Page, expect, sync_playwright

from tools import processes

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]
SUPERUSER_FILE = processes.REPO_ROOT / "inventory" / "local" / "superuser.json"
PASSWORD_ENV = "PYDCOS_UI_PASSWORD"
APP = "/ui-tour/talker"
JOB = "ui-tour-job"
AUTH_COOKIE = "dcos-acs-auth-cookie"
DEPLOY_MS = 120_000
LINE = re.compile(r"line (\d+)")


class Tour:
    def __init__(self, page: Page, url: str, out: Path) -> None:
        self.page = page
        self.url = url
        self.out = out
        self.times: dict[str, float] = {}
        self.api = requests.Session()
        self.api.headers["Origin"] = url  # a cookie-carried write must name its origin

    def step(self, text: str) -> None:
        print(f"-- {text}", flush=True)

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.out / f"{name}.png"), full_page=True)

    def timed(self, name: str, act: Callable[[], Any], ready: Callable[[], Any]) -> None:
        started = time.monotonic()
        act()
        ready()
        self.times[name] = round((time.monotonic() - started) * 1000)

    def nav(self, screen: str) -> None:
        self.page.get_by_role("navigation", name="Main").get_by_role("link", name=screen).click()

    def log_in(self, user: str, password: str) -> None:
        page = self.page
        self.step("log in")
        page.goto(self.url + "/")
        expect(page.get_by_role("heading", name="Log in to PyDCOS")).to_be_visible()
        page.get_by_label("User name").fill(user)
        page.get_by_label("Password").fill(password + "-wrong")
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("#login-error")).to_have_text("Wrong user name or password.")
        page.get_by_label("Password").fill(password)
        self.timed(
            "log in -> dashboard",
            lambda: page.get_by_role("button", name="Log in").click(),
            lambda: expect(page.locator("[data-testid=resource-cpus] .big-number")).to_be_visible(),
        )
        for cookie in page.context.cookies():
            self.api.cookies.set(cookie["name"], cookie["value"])

    def dashboard(self) -> dict[str, Any]:
        self.step("dashboard: the master's totals")
        summary: dict[str, Any] = self.api.get(
            self.url + "/mesos/master/state-summary", timeout=10
        ).json()
        cpus = round(sum(a["resources"].get("cpus", 0) for a in summary["slaves"]), 3)
        big = self.page.locator("[data-testid=resource-cpus] .big-number")
        expect(big).to_have_attribute("data-total", f"{cpus:g}")
        counts = self.page.get_by_test_id("node-counts")
        expect(counts.locator("dd[data-key=total]")).to_have_text(str(len(summary["slaves"])))
        self.shot("dashboard")
        return summary

    def nodes(self, summary: dict[str, Any]) -> None:
        self.step("nodes, with their health")
        rows = self.page.locator("[data-testid=nodes-table] tbody tr")
        self.timed(
            "nodes",
            lambda: self.nav("Nodes"),
            lambda: expect(rows).to_have_count(len(summary["slaves"])),
        )
        health = self.page.locator("[data-testid=nodes-table] td[data-key=health]")
        expect(health.filter(has_text="—")).to_have_count(0, timeout=30_000)
        print(f"   health: {health.all_inner_texts()}")
        self.shot("nodes")

    def components(self) -> None:
        self.step("components")
        units = self.page.locator("[data-testid=units-table] tbody tr")
        self.timed("components", lambda: self.nav("Components"), lambda: units.first.wait_for())
        print(f"   {self.page.get_by_test_id('units-table-count').inner_text()}")
        self.shot("components")

    def services(self) -> None:
        page = self.page
        self.step("services: create through the editor (422, then fixed), deploy, scale")
        self.timed(
            "services",
            lambda: self.nav("Services"),
            lambda: expect(
                page.get_by_role("heading", name="Services", exact=True)
            ).to_be_visible(),
        )
        page.get_by_role("link", name="Create a service").click()
        editor = page.get_by_label("App definition (JSON)")
        cmd = 'i=0; while true; do i=$((i+1)); echo "line $i"; sleep 0.5; done'
        bad = {"id": APP, "cmd": cmd, "cpus": -1, "mem": 32, "instances": 1}
        editor.fill(json.dumps(bad, indent=2))
        page.get_by_role("button", name="Create service").click()
        placed = page.get_by_test_id("field-errors").locator("li[data-path='/cpus']")
        expect(placed).to_contain_text("Line 4")
        self.shot("service-create-422")
        editor.fill(json.dumps({**bad, "cpus": 0.1}, indent=2))
        page.get_by_role("button", name="Create service").click()
        instances = page.get_by_test_id("app-status").get_by_test_id("instances")
        self.timed(
            "deploy 1 instance",
            lambda: None,
            lambda: expect(instances).to_have_text("1 / 1", timeout=DEPLOY_MS),
        )
        page.get_by_role("button", name="Scale", exact=True).click()
        expect(page.get_by_role("dialog").get_by_label("Instances")).to_be_focused()
        page.keyboard.type("2")
        self.timed(
            "scale to 2",
            lambda: page.keyboard.press("Enter"),
            lambda: expect(instances).to_have_text("2 / 2", timeout=DEPLOY_MS),
        )
        expect(page.locator("[data-testid=app-tasks-table] tbody tr")).to_have_count(2)
        self.shot("service-detail")

    def task_logs(self) -> None:
        page = self.page
        self.step("a task's detail and its stdout, followed")
        self.timed(
            "task detail",
            lambda: page.locator("[data-testid=app-tasks-table] tbody tr th a").first.click(),
            lambda: expect(page.get_by_test_id("task-facts")).to_be_visible(),
        )
        self.shot("task-detail")
        page.get_by_role("link", name="Logs").click()
        output = page.get_by_test_id("log-output")
        expect(output).to_contain_text("line 1", timeout=30_000)

        def last() -> int:
            found = LINE.findall(output.inner_text())
            return int(found[-1]) if found else 0

        first = last()
        deadline = time.monotonic() + 15
        while last() <= first + 2 and time.monotonic() < deadline:
            page.wait_for_timeout(500)
        if last() <= first + 2:
            raise AssertionError(f"no new log lines while following (still at line {last()})")
        print(f"   followed: line {first} -> {last()}")
        self.shot("task-logs")

    def job(self) -> None:
        page = self.page
        self.step("jobs: create through the editor, run now, success")
        self.nav("Jobs")
        page.get_by_role("link", name="Create a job").click()
        editor = page.get_by_label("Job definition (JSON)")
        job = {"id": JOB, "run": {"cmd": "echo hello", "cpus": 0.1, "mem": 32, "disk": 0}}
        editor.fill(json.dumps(job, indent=2))
        page.get_by_role("button", name="Create job").click()
        expect(page.get_by_role("heading", name=JOB)).to_be_visible()
        page.get_by_role("button", name="Run now").click()
        page.get_by_role("dialog").get_by_role("button", name="Run now").click()
        history = page.locator("[data-testid=history-table] tbody tr")
        self.timed(
            "job run -> success",
            lambda: None,
            lambda: expect(history.filter(has_text="Success")).to_have_count(1, timeout=DEPLOY_MS),
        )
        self.shot("job-detail")

    def networking(self) -> None:
        self.step("networking")
        self.timed(
            "networking",
            lambda: self.nav("Networking"),
            lambda: expect(self.page.get_by_test_id("vip-count")).to_be_visible(),
        )
        self.shot("networking")

    def clean_up(self) -> None:
        self.api.delete(f"{self.url}/service/marathon/v2/apps{APP}?force=true", timeout=10)
        self.api.delete(f"{self.url}/service/metronome/v1/jobs/{JOB}", timeout=10)

    def log_out(self) -> None:
        page = self.page
        self.step("log out")
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("heading", name="Log in to PyDCOS")).to_be_visible()
        if AUTH_COOKIE in {c["name"] for c in page.context.cookies()}:
            raise AssertionError("the auth cookie survived the logout")


@contextlib.contextmanager
def chromium_page(timeout_ms: float) -> Iterator[tuple[Page, list[str]]]:
    """A page of Debian's chromium on a laptop's screen, and the uncaught errors it throws."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.set_default_timeout(timeout_ms)
            errors: list[str] = []
            page.on("pageerror", lambda err: errors.append(str(err)))
            yield page, errors
        finally:
            browser.close()


def tour(url: str, user: str, password: str, out: Path) -> dict[str, float]:
    out.mkdir(parents=True, exist_ok=True)
    with chromium_page(30_000) as (page, errors):
        walk = Tour(page, url, out)
        walk.log_in(user, password)
        try:
            walk.nodes(walk.dashboard())
            walk.components()
            walk.services()
            walk.task_logs()
            walk.job()
            walk.networking()
        except Exception:
            walk.shot("failed")
            raise
        finally:
            walk.clean_up()
        walk.log_out()
        if errors:
            raise AssertionError(f"uncaught errors in the page: {errors}")
        return walk.times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ui_tour", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://198.18.0.11", help="the UI (Admin Router)")
    parser.add_argument("--user", help=f"default: the superuser of {SUPERUSER_FILE}")
    parser.add_argument("--out", type=Path, default=Path("test-results/ui-tour"))
    args = parser.parse_args(argv)
    user, password = args.user, os.environ.get(PASSWORD_ENV, "")
    if not password:
        try:
            login = json.loads(SUPERUSER_FILE.read_text())
        except (OSError, ValueError) as err:
            parser.error(f"no ${PASSWORD_ENV} and no superuser file: {err}")
        user = user or login["dcos_superuser_username"]
        password = login["dcos_superuser_password"]
    if not user:
        parser.error("--user is needed with $" + PASSWORD_ENV)
    url = args.url.rstrip("/")
    try:
        times = tour(url, user, password, args.out)
    except (AssertionError, requests.RequestException) as err:
        print(f"ui tour FAILED: {err}", file=sys.stderr)
        return 1
    except Exception as err:  # a Playwright timeout names the locator that did not appear
        print(f"ui tour FAILED: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    print(f"ui tour passed at {url}; screenshots in {args.out}")
    for name, ms in times.items():
        print(f"   {name:24} {ms:>7} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
