"""The service screens in Debian's chromium (Playwright), against the real Marathon behind the
real Admin Router (ui_stack): create an app through the JSON editor (Marathon's 422 placed
beside its line, then fixed), watch it deploy, scale it, restart it, stop and resume it (the
dialogs driven from the keyboard), edit it and diff two versions, make a deployment that
cannot finish (an edit asking more CPUs than any agent has), see why it waits, roll it back,
and delete the app. Screenshots go to the test's output directory."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import requests
from playwright.sync_api import Locator, Page, expect
from test_ui_browser import TIMEOUT_MS, shot
from ui_stack import UiStack

from tests.integration.iam.iam_daemon import SUPERUSER

pytestmark = pytest.mark.timeout(300)

APP_ID = "/ui-svc/web"
DEPLOY_MS = 60_000


def editor_value(page: Page) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(page.get_by_label("App definition (JSON)").input_value())
    return found


def task_ids(page: Page) -> set[str]:
    rows = page.locator("[data-testid=app-tasks-table] tbody tr")
    return {rows.nth(i).get_attribute("data-task-id") or "" for i in range(rows.count())}


def no_deployment(page: Page) -> None:
    expect(page.get_by_test_id("app-deployments")).to_contain_text(
        "No deployment in progress.", timeout=DEPLOY_MS
    )


def dialog(page: Page, name: str) -> Locator:
    found = page.get_by_role("dialog", name=name)
    expect(found).to_be_visible()
    return found


def test_service_create_422_scale_restart_stop_resume_versions_rollback_delete(
    ui_stack: Callable[..., UiStack], page: Page, output_path: str
) -> None:
    stack = ui_stack()
    marathon = stack.cluster.leader_url()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.context.add_cookies(stack.login_cookies(*SUPERUSER))
    page.goto(stack.url + "/#/services")
    expect(page.get_by_role("heading", name="Services", exact=True)).to_be_visible()
    expect(page.get_by_text("No services yet.")).to_be_visible()

    # --- create: Marathon's 422 beside the field's line, then fixed ------------------------
    page.get_by_role("link", name="Create a service").click()
    editor = page.get_by_label("App definition (JSON)")
    expect(editor).to_be_focused()
    bad = {"id": APP_ID, "cmd": "sleep 3600", "cpus": -1, "mem": 32, "instances": 1}
    editor.fill(json.dumps(bad, indent=2))
    page.get_by_role("button", name="Create service").click()
    expect(page.get_by_test_id("editor-message")).to_contain_text("Marathon refused the app")
    listed = page.get_by_test_id("field-errors").locator("li[data-path='/cpus']")
    expect(listed).to_contain_text("Line 4")
    expect(listed).to_contain_text("must be greater than or equal to 0.001")
    mark = page.get_by_test_id("gutter-mark")
    expect(mark).to_have_count(1)
    expect(mark).to_have_attribute("data-line", "4")
    expect(mark).to_contain_text("must be greater than or equal to 0.001")
    expect(editor).to_have_attribute("aria-invalid", "true")
    # Beside the field: right of the text, at the height of its 4th line.
    box, at = editor.bounding_box(), mark.bounding_box()
    assert box is not None and at is not None
    line_height = float(editor.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)"))
    padding = float(editor.evaluate("el => parseFloat(getComputedStyle(el).paddingTop)"))
    assert at["x"] >= box["x"] + box["width"] - 1
    assert abs(at["y"] - (box["y"] + 1 + padding + 3 * line_height)) <= 2, (at, box)
    shot(page, output_path, "service-create-422")
    listed.get_by_role("button").focus()
    page.keyboard.press("Enter")  # the line button puts the caret on the field
    expect(editor).to_be_focused()
    caret = editor.evaluate("el => el.value.slice(el.selectionStart, el.selectionStart + 2)")
    assert caret == "-1"
    # A missing cmd: Marathon's error is about the whole document, placed at line 1.
    editor.fill(json.dumps({"id": APP_ID, "cpus": 0.1, "mem": 32}, indent=2))
    page.get_by_role("button", name="Create service").click()
    expect(page.get_by_test_id("field-errors").locator("li[data-path='/']")).to_contain_text(
        "Line 1"
    )
    expect(mark).to_have_attribute("data-line", "1")
    editor.fill(json.dumps({**bad, "cpus": 0.1}, indent=2))
    page.get_by_role("button", name="Create service").click()
    expect(page).to_have_url(f"{stack.url}/#/services/detail/%2Fui-svc%2Fweb")
    expect(page.get_by_role("heading", name=APP_ID)).to_be_visible()
    instances = page.get_by_test_id("app-status").get_by_test_id("instances")
    expect(instances).to_have_text("1 / 1", timeout=DEPLOY_MS)
    no_deployment(page)
    expect(page.get_by_test_id("app-status")).to_contain_text("Running")

    # --- scale, from the keyboard: the field has the focus, Enter confirms ------------------
    page.get_by_role("button", name="Scale", exact=True).click()
    scale = dialog(page, f"Scale {APP_ID}")
    field = scale.get_by_label("Instances")
    expect(field).to_be_focused()
    page.keyboard.type("2")  # the field's text is selected: typing replaces it
    page.keyboard.press("Enter")
    expect(scale).to_have_count(0)
    expect(page.get_by_test_id("action-note")).to_contain_text(f"Scaling {APP_ID} to 2")
    expect(instances).to_have_text("2 / 2", timeout=DEPLOY_MS)
    no_deployment(page)
    expect(page.locator("[data-testid=app-tasks-table] tbody tr")).to_have_count(2)
    # Each task links to its detail (agent id and task id in the route).
    links = page.locator("[data-testid=app-tasks-table] tbody tr th a")
    expect(links).to_have_count(2)
    for i in range(2):
        href = links.nth(i).get_attribute("href") or ""
        assert href.startswith("#/tasks/") and href.endswith(
            "/" + (links.nth(i).text_content() or "-")
        ), href
    shot(page, output_path, "service-detail")

    # --- restart: Escape cancels; Tab to the action and Enter confirms ----------------------
    before = task_ids(page)
    page.get_by_role("button", name="Restart", exact=True).click()
    restart = dialog(page, f"Restart {APP_ID}?")
    expect(restart.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(restart).to_have_count(0)
    expect(
        page.get_by_role("button", name="Restart", exact=True)
    ).to_be_focused()  # focus given back
    assert requests.get(marathon + "/v2/deployments", timeout=10).json() == []
    page.get_by_role("button", name="Restart", exact=True).click()
    dialog(page, f"Restart {APP_ID}?")
    page.keyboard.press("Tab")
    expect(restart.get_by_role("button", name="Restart")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("action-note")).to_contain_text(f"Restarting {APP_ID}")
    page.wait_for_function(
        """(old) => {
            const rows = [...document.querySelectorAll("[data-testid=app-tasks-table] tbody tr")];
            return rows.length === 2 && rows.every((r) => !old.includes(r.dataset.taskId));
        }""",
        arg=sorted(before),
        timeout=DEPLOY_MS,
    )
    no_deployment(page)

    # --- stop, then resume with the instances it had -----------------------------------------
    page.get_by_role("button", name="Stop", exact=True).click()
    dialog(page, f"Stop {APP_ID}?").get_by_role("button", name="Stop").click()
    expect(instances).to_have_text("0 / 0", timeout=DEPLOY_MS)
    expect(page.get_by_test_id("app-status")).to_contain_text("Stopped")
    no_deployment(page)
    page.get_by_role("button", name="Resume", exact=True).click()
    resume = dialog(page, f"Resume {APP_ID}")
    expect(resume.get_by_label("Instances")).to_have_value("2")  # remembered by Stop
    page.keyboard.press("Enter")
    expect(instances).to_have_text("2 / 2", timeout=DEPLOY_MS)
    no_deployment(page)
    labels = requests.get(marathon + f"/v2/apps{APP_ID}", timeout=10).json()["app"]["labels"]
    assert labels == {}

    # --- edit through the editor, then the diff of the last two versions --------------------
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", name=f"Edit {APP_ID}")).to_be_visible()
    expect(editor).to_be_enabled()
    shown = editor_value(page)
    assert shown["cmd"] == "sleep 3600" and "version" not in shown and "tasks" not in shown
    editor.fill(json.dumps({**shown, "cmd": "sleep 7200"}, indent=2))
    page.get_by_role("button", name="Save service").click()
    expect(page.get_by_role("heading", name=APP_ID)).to_be_visible()
    expect(page.get_by_test_id("app-status")).to_contain_text("sleep 7200")
    no_deployment(page)
    versions = page.get_by_test_id("versions")
    expect(versions.get_by_role("button", name="Compare")).to_be_visible()
    count = len(
        requests.get(marathon + f"/v2/apps{APP_ID}/versions", timeout=10).json()["versions"]
    )
    expect(page.get_by_test_id("version-count")).to_have_text(f"{count} versions, newest first.")
    versions.get_by_role("button", name="Compare").click()  # the default pair: the last two
    diff = page.get_by_test_id("version-diff")
    expect(diff.locator(".diff-line[data-op='-']")).to_have_text(['-   "cmd": "sleep 3600",'])
    expect(diff.locator(".diff-line[data-op='+']")).to_have_text(['+   "cmd": "sleep 7200",'])
    expect(page.get_by_test_id("diff-summary")).to_contain_text("1 line added, 1 removed")
    shot(page, output_path, "service-versions-diff")

    # --- a deployment that cannot finish, why it waits, and its rollback --------------------
    page.get_by_role("link", name="Edit").click()
    expect(editor).to_be_enabled()
    editor.fill(json.dumps({**editor_value(page), "cpus": 64}, indent=2))
    page.get_by_role("button", name="Save service").click()
    expect(page.get_by_role("heading", name=APP_ID)).to_be_visible()
    waiting = page.get_by_test_id("waiting")
    expect(waiting.locator("li[data-reason=InsufficientCpus]")).to_be_visible(timeout=DEPLOY_MS)
    expect(waiting).to_contain_text("not enough CPUs")
    expect(waiting.locator("[data-testid=unused-offers] tbody tr").first).to_contain_text(
        "InsufficientCpus", timeout=DEPLOY_MS
    )
    shot(page, output_path, "service-waiting")
    (stuck,) = requests.get(marathon + "/v2/deployments", timeout=10).json()
    # Saving over it is refused (409) and offers to force; cancelled here.
    page.get_by_role("link", name="Edit").click()
    expect(editor).to_be_enabled()
    editor.fill(json.dumps({**editor_value(page), "cpus": 32}, indent=2))
    page.get_by_role("button", name="Save service").click()
    expect(page.get_by_test_id("editor-message")).to_contain_text("save anyway")
    expect(page.get_by_role("button", name="Save anyway")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", name=APP_ID)).to_be_visible()
    page.get_by_role("link", name="Services", exact=True).first.click()
    page.get_by_role("link", name="Deployments").click()
    expect(page.get_by_role("heading", name="Deployments")).to_be_visible()
    row = page.locator(f"tr[data-deployment-id='{stuck['id']}']")
    expect(row).to_contain_text(APP_ID)
    expect(page.get_by_test_id("deployment-count")).to_have_text("1 deployment in progress")
    shot(page, output_path, "deployments")
    row.get_by_role("button", name=f"Roll back deployment {stuck['id']}").click()
    dialog(page, f"Roll back deployment {stuck['id']}?").get_by_role(
        "button", name="Roll back"
    ).click()
    expect(page.get_by_test_id("action-note")).to_contain_text(f"Rolling back {stuck['id']}")
    expect(row).to_have_count(0, timeout=DEPLOY_MS)
    expect(page.get_by_test_id("deployment-count")).to_have_text(
        "0 deployments in progress", timeout=DEPLOY_MS
    )
    app = requests.get(marathon + f"/v2/apps{APP_ID}", timeout=10).json()["app"]
    assert app["cpus"] == 0.1 and app["cmd"] == "sleep 7200" and app["tasksRunning"] == 2

    # Another one, stopped without a rollback (force): the app keeps its new definition.
    changed = requests.put(marathon + f"/v2/apps{APP_ID}", json={"cpus": 48}, timeout=10)
    assert changed.status_code == 200, changed.text
    again = page.locator(f"tr[data-deployment-id='{changed.json()['deploymentId']}']")
    expect(again).to_have_count(1, timeout=DEPLOY_MS)
    again.get_by_role("button", name="without a rollback").click()
    stop = dialog(page, "without a rollback?")
    stop.get_by_role("button", name="Stop deployment").click()
    expect(again).to_have_count(0, timeout=DEPLOY_MS)
    assert requests.get(marathon + "/v2/deployments", timeout=10).json() == []
    assert requests.get(marathon + f"/v2/apps{APP_ID}", timeout=10).json()["app"]["cpus"] == 48

    # --- delete ------------------------------------------------------------------------------
    page.get_by_role("link", name="Services", exact=True).first.click()
    page.get_by_role("button", name="ui-svc").click()
    page.get_by_role("link", name="web").click()
    expect(page.get_by_role("heading", name=APP_ID)).to_be_visible()
    page.get_by_role("button", name="Delete", exact=True).click()
    delete = dialog(page, f"Delete {APP_ID}?")
    page.keyboard.press("Escape")
    expect(delete).to_have_count(0)
    page.get_by_role("button", name="Delete", exact=True).click()
    dialog(page, f"Delete {APP_ID}?").get_by_role("button", name="Delete").click()
    expect(page).to_have_url(stack.url + "/#/services")
    expect(page.get_by_text("No services yet.")).to_be_visible(timeout=DEPLOY_MS)
    assert requests.get(marathon + f"/v2/apps{APP_ID}", timeout=10).status_code == 404
    page.goto(f"{stack.url}/#/services/detail/%2Fui-svc%2Fweb")  # Marathon's 404, said
    expect(page.get_by_text(f"No service {APP_ID}.")).to_be_visible()
    expect(page.get_by_role("button", name="Delete", exact=True)).to_have_count(0)
    assert errors == []
