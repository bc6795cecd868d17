"""The service screens' pure JavaScript (`js/servicemodel.js`) run in chromium, table by table:
the line diff of two versions, what the editor shows of an app, the stop/resume bodies, the
deployments' rows and "why is it waiting" from Marathon's queue. The static files are served
by Python's http.server on loopback (test_ui_model's fixture; no cluster needed)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page
from test_ui_model import static_url  # noqa: F401  (the fixture)

Case = tuple[str, str, list[list[Any]]]


def run(page: Page, url: str, body: str, arg: Any = None) -> Any:
    page.goto(url + "/index.html")
    return page.evaluate(
        f"async (arg) => {{ const m = await import('/js/servicemodel.js'); {body} }}", arg
    )


DIFFS: list[Case] = [
    ("a\nb", "a\nb", [[" ", "a", 1, 1], [" ", "b", 2, 2]]),
    (
        "a\nb\nc",
        "a\nB\nc",
        [[" ", "a", 1, 1], ["-", "b", 2, 0], ["+", "B", 0, 2], [" ", "c", 3, 3]],
    ),
    ("a\nc", "a\nb\nc", [[" ", "a", 1, 1], ["+", "b", 0, 2], [" ", "c", 2, 3]]),
    ("a\nb\nc", "a\nc", [[" ", "a", 1, 1], ["-", "b", 2, 0], [" ", "c", 3, 2]]),
    ("", "x", [["-", "", 1, 0], ["+", "x", 0, 1]]),
    ("x\ny", "", [["-", "x", 1, 0], ["-", "y", 2, 0], ["+", "", 0, 1]]),
]


def test_line_diff(page: Page, static_url: str) -> None:  # noqa: F811
    got = run(
        page,
        static_url,
        """const rows = (d) => d.map((l) => [l.op, l.text, l.a, l.b]);
        const big = Array.from({ length: 2001 }, (_, i) => `line ${i}`).join("\\n");
        const huge = m.lineDiff(big, big + "\\nmore");
        return {
            cases: arg.map(([a, b]) => rows(m.lineDiff(a, b))),
            stats: m.diffStats(m.lineDiff("a\\nb\\nc", "a\\nB\\nc\\nd")),
            huge: [huge.length, m.diffStats(huge)],
        };""",
        [[a, b] for a, b, _ in DIFFS],
    )
    assert got["cases"] == [expected for _, _, expected in DIFFS]
    assert got["stats"] == {"added": 2, "removed": 1}
    # Past 4 million cells no table is built: every old line out, every new line in.
    assert got["huge"] == [2001 + 2002, {"added": 2002, "removed": 2001}]


APP = {
    "id": "/web",
    "cmd": "sleep 1",
    "instances": 3,
    "labels": {"team": "a"},
    "version": "2026-12-06T10:00:00.000Z",
    "versionInfo": {"lastConfigChangeAt": "2026-12-06T10:00:00.000Z"},
    "tasks": [{"id": "t"}],
    "tasksRunning": 3,
    "deployments": [],
    "env": {"B": "1", "A": "2"},
}


def test_editable_app_versions_and_stop_resume(page: Page, static_url: str) -> None:  # noqa: F811
    got = run(
        page,
        static_url,
        """const stop = m.stopBody(arg);
        const stopped = { ...arg, ...stop };
        return {
            editable: Object.keys(m.editableApp(arg)),
            text: m.versionText(arg),
            stop,
            again: m.previousInstances(stopped),
            none: m.previousInstances({ labels: { [m.PREVIOUS_INSTANCES_LABEL]: "x" } }),
            resume: m.resumeBody(stopped, 2),
            parsed: ["3", " 0 ", "-1", "1.5", "", "abc", "100001"].map(m.parseInstances),
            path: [m.appPath("/a/b"), m.appPath("c")],
            href: m.detailHref("/a/b"),
            when: [m.when("2026-12-06T10:00:00.123Z"), m.when("")],
        };""",
        APP,
    )
    assert got["editable"] == ["id", "cmd", "instances", "labels", "env"]
    # Sorted keys at every level, without what every version changes.
    assert got["text"].splitlines()[:4] == [
        "{",
        '  "cmd": "sleep 1",',
        '  "env": {',
        '    "A": "2",',
    ]
    assert "version" not in got["text"]
    label = "PYDCOS_PREVIOUS_INSTANCES"
    assert got["stop"] == {"instances": 0, "labels": {"team": "a", label: "3"}}
    assert got["again"] == 3 and got["none"] == 1
    assert got["resume"] == {"instances": 2, "labels": {"team": "a"}}
    assert got["parsed"] == [3, 0, None, None, None, None, None]
    assert got["path"] == ["/service/marathon/v2/apps/a/b", "/service/marathon/v2/apps/c"]
    assert got["href"] == "#/services/detail/%2Fa%2Fb"
    assert got["when"] == ["2026-12-06 10:00:00 UTC", "\u2014"]


DEPLOYMENT = {
    "id": "d1",
    "version": "2026-12-06T10:00:00.000Z",
    "affectedApps": ["/web"],
    "currentActions": [{"action": "RestartApplication", "app": "/web"}],
    "currentStep": 1,
    "totalSteps": 2,
}
QUEUE = {
    "queue": [
        {"app": {"id": "/other"}, "count": 1},
        {
            "app": {"id": "/web"},
            "count": 2,
            "delay": {"timeLeftSeconds": 0, "overdue": True},
            "since": "2026-12-06T10:00:00.000Z",
            "processedOffersSummary": {
                "processedOffersCount": 5,
                "unusedOffersCount": 4,
                "lastUnusedOfferAt": "2026-12-06T10:01:00.000Z",
                "lastUsedOfferAt": None,
                "rejectSummaryLastOffers": [
                    {"reason": "InsufficientMemory", "declined": 1, "processed": 5},
                    {"reason": "InsufficientCpus", "declined": 4, "processed": 5},
                    {"reason": "UnfulfilledRole", "declined": 0, "processed": 5},
                ],
            },
            "lastUnusedOffers": [
                {
                    "offer": {
                        "id": "o1",
                        "agentId": "a1",
                        "hostname": "h1",
                        "resources": [
                            {"name": "cpus", "role": "*", "scalar": 1.5},
                            {"name": "cpus", "role": "web", "scalar": 0.5},
                            {"name": "mem", "role": "*", "scalar": 512},
                            {"name": "ports", "role": "*", "ranges": [{"begin": 1, "end": 2}]},
                        ],
                        "attributes": [],
                    },
                    "timestamp": "2026-12-06T10:01:00.000Z",
                    "reason": ["InsufficientCpus"],
                }
            ],
        },
    ]
}


def test_deployments_and_why_it_waits(page: Page, static_url: str) -> None:  # noqa: F811
    got = run(
        page,
        static_url,
        """return {
            row: m.deploymentRow(arg.d),
            bare: m.deploymentRow({ id: "x" }),
            of: [m.deploymentsOf([arg.d], "/web").length, m.deploymentsOf([arg.d], "/x").length],
            waiting: m.waitingReasons(arg.q, "/web"),
            other: m.waitingReasons(arg.q, "/other"),
            absent: m.waitingReasons(arg.q, "/none"),
            nothing: m.waitingReasons(null, "/web"),
        };""",
        {"d": DEPLOYMENT, "q": QUEUE},
    )
    assert got["row"] == {
        "id": "d1",
        "apps": ["/web"],
        "step": "1 / 2",
        "actions": ["RestartApplication /web"],
        "version": "2026-12-06T10:00:00.000Z",
    }
    assert got["bare"]["step"] == "0 / 0" and got["bare"]["actions"] == []
    assert got["of"] == [1, 0]
    waiting = got["waiting"]
    assert (waiting["count"], waiting["processed"], waiting["unused"]) == (2, 5, 4)
    assert waiting["lastUsed"] == "" and waiting["lastUnused"] == "2026-12-06T10:01:00.000Z"
    # The most declined first; a reason that declined nothing is left out.
    assert waiting["reasons"] == [
        {"reason": "InsufficientCpus", "declined": 4},
        {"reason": "InsufficientMemory", "declined": 1},
    ]
    assert waiting["offers"] == [
        {
            "hostname": "h1",
            "agentId": "a1",
            "at": "2026-12-06T10:01:00.000Z",
            "reasons": ["InsufficientCpus"],
            "resources": "cpus 2 · mem 512 MiB",
        }
    ]
    assert got["other"]["reasons"] == [] and got["other"]["offers"] == []
    assert got["absent"] is None and got["nothing"] is None
