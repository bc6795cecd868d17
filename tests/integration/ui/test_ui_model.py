"""The UI's pure JavaScript (`js/model.js`) run in chromium, table by table: a service's status
and health, the group tree as rows, filtering, paging, node filters and sorting, formatting.
The static files are served by Python's http.server on loopback (no cluster needed)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from daemons.ui.main import static_dir
from tests.integration.conftest import HOST, free_port
from tools import processes


@pytest.fixture
def static_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    argv = [sys.executable, "-m", "http.server", "--bind", HOST, "--directory", static_dir()]
    pid = processes.spawn([*argv, str(port)], tmp_path / "http.log")
    url = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 15
        while processes.http_status(url + "/js/model.js") != 200:
            assert time.monotonic() < deadline and not processes.exited(pid), "no http.server"
            time.sleep(0.1)
        yield url
    finally:
        processes.stop_pid(pid)


def run(page: Page, url: str, body: str, arg: Any = None) -> Any:
    page.goto(url + "/index.html")
    return page.evaluate(
        f"async (arg) => {{ const m = await import('/js/model.js'); {body} }}", arg
    )


def app(**fields: Any) -> dict[str, Any]:
    return {"id": "/a", "instances": 1, "tasksRunning": 1, "deployments": [], **fields}


STATUS_CASES = [
    (app(), "Running", ""),
    (app(deployments=[{"id": "d"}]), "Deploying", ""),
    (app(instances=0, tasksRunning=0), "Stopped", ""),
    (app(instances=3, tasksRunning=1), "Waiting", ""),
    (app(healthChecks=[{}], tasksHealthy=1), "Running", "Healthy"),
    (app(healthChecks=[{}], tasksHealthy=0, tasksUnhealthy=1), "Running", "Unhealthy"),
    (app(healthChecks=[{}], tasksHealthy=0), "Running", "Unknown"),
]


def test_service_status_and_health(page: Page, static_url: str) -> None:
    got = run(
        page,
        static_url,
        "return arg.map((a) => [m.appStatus(a), m.appHealth(a)]);",
        [case[0] for case in STATUS_CASES],
    )
    assert got == [[status, health] for _, status, health in STATUS_CASES]


TREE = {
    "id": "/",
    "apps": [app(id="/z")],
    "groups": [
        {
            "id": "/g",
            "apps": [app(id="/g/b", instances=0, tasksRunning=0), app(id="/g/a")],
            "groups": [{"id": "/g/h", "apps": [app(id="/g/h/c", instances=2)], "groups": []}],
        }
    ],
}


def test_tree_rows_filters_and_counts(page: Page, static_url: str) -> None:
    got = run(
        page,
        static_url,
        """const ids = (rows) => rows.map((r) => [r.kind, r.id, r.depth, r.status]);
        return {
            collapsed: ids(m.treeRows(arg, new Set())),
            expanded: ids(m.treeRows(arg, new Set(["/g"]))),
            group: m.treeRows(arg, new Set())[0],
            byName: m.filteredApps(arg, "G/A", "").map((r) => r.name),
            byStatus: m.filteredApps(arg, "", "Stopped").map((r) => r.id),
            counts: m.countByStatus(arg),
        };""",
        TREE,
    )
    assert got["collapsed"] == [["group", "/g", 0, "Waiting"], ["app", "/z", 0, "Running"]]
    assert got["expanded"] == [
        ["group", "/g", 0, "Waiting"],
        ["group", "/g/h", 1, "Waiting"],
        ["app", "/g/a", 1, "Running"],
        ["app", "/g/b", 1, "Stopped"],
        ["app", "/z", 0, "Running"],
    ]
    group = got["group"]
    assert (group["apps"], group["running"], group["target"]) == (3, 2, 3)
    assert got["byName"] == ["/g/a"]
    assert got["byStatus"] == ["/g/b"]
    assert got["counts"] == {"Running": 2, "Deploying": 0, "Waiting": 1, "Stopped": 1}


def test_paging_nodes_and_formatting(page: Page, static_url: str) -> None:
    got = run(
        page,
        static_url,
        """const items = Array.from({ length: 120 }, (_, i) => i);
        const node = (id, host, type, tasks, used) => ({ id, hostname: host, ip: host, type,
            status: "active", tasks, cpus: { used, total: 4 }, mem: { used: 0, total: 1 },
            disk: { used: 0, total: 1 } });
        const nodes = [
            node("a", "10.0.0.2", "public", 3, 1), node("b", "10.0.0.1", "private", 1, 4)];
        const page3 = m.paginate(items, 3);
        return {
            page3: [page3.items.length, page3.first, page3.last, page3.pages],
            clamped: m.paginate(items, 99).page,
            empty: m.paginate([], 1),
            byText: m.filterNodes(nodes, "10.0.0.1", "", "").map((n) => n.id),
            byType: m.filterNodes(nodes, "", "public", "").map((n) => n.id),
            sorted: m.sortNodes(nodes, "hostname", false).map((n) => n.id),
            byCpu: m.sortNodes(nodes, "cpus", true).map((n) => n.id),
            formats: [m.formatMiB(512), m.formatMiB(4096), m.formatMiB(3 * 1024 * 1024),
                m.formatNumber(0.333333), m.percent(1, 3), m.percent(1, 0)],
        };""",
    )
    assert got["page3"] == [20, 101, 120, 3]
    assert got["clamped"] == 3
    assert got["empty"] == {"items": [], "page": 1, "pages": 1, "first": 0, "last": 0, "total": 0}
    assert got["byText"] == ["b"] and got["byType"] == ["a"]
    assert got["sorted"] == ["b", "a"] and got["byCpu"] == ["b", "a"]
    assert got["formats"] == ["512 MiB", "4 GiB", "3 TiB", "0.33", 33.3, 0]


JOB = {
    "id": "backup",
    "description": "nightly",
    "run": {"cmd": "true", "cpus": 0.1, "mem": 32, "disk": 0},
    "activeRuns": [{"id": "r1"}],
    "schedules": [{"id": "s", "cron": "0 3 * * *", "enabled": False}],
    "historySummary": {
        "successCount": 2,
        "failureCount": 1,
        "lastSuccessAt": "2026-12-06T10:00:00.000+0000",
        "lastFailureAt": "2026-12-06T11:00:00.000+0000",
    },
}
HISTORY = {
    "successfulFinishedRuns": [{"id": "a", "finishedAt": "2026-12-06T10:00:00.000+0000"}],
    "failedFinishedRuns": [{"id": "b", "finishedAt": "2026-12-06T11:00:00.000+0000"}],
}
# A job as the editor shows it, and Metronome's 422 details for it: a missing key is placed at
# its parent, an unknown path at the document's first line.
EDITED = '{\n  "id": "Bad_Id",\n  "run": {\n    "cpus": 0,\n    "env": {"a/b": 1}\n  }\n}'
DETAILS = [
    {"path": "/run/mem", "errors": ["missing"]},
    {"path": "/run/cpus", "errors": ["must be at least 0.01"]},
    {"path": "/id", "errors": ["bad id"]},
    {"path": "/run/env/a~1b", "errors": ["must be a string"]},
    {"path": "/", "errors": ["whole"]},
]


def test_job_rows_history_and_placed_errors(page: Page, static_url: str) -> None:
    got = run(
        page,
        static_url,
        """return {
            row: m.jobRow(arg.job),
            bare: m.jobRow({ id: "x" }),
            ok: m.lastRunStatus({ lastSuccessAt: "2026-12-06T12:00:00.000+0000",
                lastFailureAt: "2026-12-06T11:00:00.000+0000" }),
            runs: m.finishedRuns(arg.history).map((r) => [r.id, r.status]),
            noRuns: m.finishedRuns(undefined),
            editable: Object.keys(m.editableJob(arg.job)),
            placed: m.placeErrors(arg.text, arg.details).map((p) => [p.path, p.line]),
            notJson: m.jsonPositions("{"),
            pos: m.jsonPositions('{"a": [1, {"b": 2}]}'),
            filtered: [["", ""], ["NIGHT", ""], ["", "Never run"], ["backup", "Success"]].map(
                ([text, last]) => m.filterJobs([m.jobRow(arg.job), m.jobRow({ id: "x" })],
                    text, last).map((r) => r.id)),
        };""",
        {"job": JOB, "history": HISTORY, "text": EDITED, "details": DETAILS},
    )
    # By id or description (any case) and by the last run's status.
    assert got["filtered"] == [["backup", "x"], ["backup"], ["x"], []]
    row = got["row"]
    assert row["schedule"] == "0 3 * * * (disabled)" and row["active"] == 1
    assert (row["last"], row["successes"], row["failures"]) == ("Failed", 2, 1)
    assert got["bare"]["last"] == "Never run" and got["bare"]["schedule"] == ""
    assert got["ok"] == "Success"
    assert got["runs"] == [["b", "Failed"], ["a", "Success"]] and got["noRuns"] == []
    assert got["editable"] == ["id", "description", "run"]
    assert got["placed"] == [
        ["/", 1],
        ["/id", 2],
        ["/run/mem", 3],
        ["/run/cpus", 4],
        ["/run/env/a~1b", 5],
    ]
    assert got["notJson"] is None
    assert got["pos"]["/a/1/b"] == {"line": 1, "column": 17, "offset": 16}
