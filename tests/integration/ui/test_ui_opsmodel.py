"""The pure JavaScript of the task, node, components and networking screens (`js/opsmodel.js`)
run in chromium, table by table: a task found in an agent's real /state shape, its state
history, health and ports, the sandbox's paths, the log follower's reads, unit health rows,
and the VIP rows of Minuteman's real `/v1/vips` body (made by `minuteman.views.vips` from a
VIP table built from a master state: the networking screen's browser test has no Minuteman,
see test_ui_tasks_browser.py)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page
from test_ui_model import static_url

from daemons.kit.l4lb.table import build
from minuteman import views
from tests.unit.kit.l4lb.states import state, task

__all__ = ["static_url"]  # the fixture, shared with test_ui_model.py


def run(page: Page, url: str, body: str, arg: Any = None) -> Any:
    page.goto(url + "/index.html")
    return page.evaluate(
        f"async (arg) => {{ const m = await import('/js/opsmodel.js'); {body} }}", arg
    )


def agent_task(task_id: str, state: str, *statuses: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": task_id,
        "name": task_id.split(".")[0],
        "state": state,
        "resources": {"cpus": 0.1, "mem": 32.0, "ports": "[31000-31001, 31005-31005]"},
        "statuses": list(statuses),
    }


FINISHED = {"state": "TASK_FINISHED", "timestamp": 5.0}
AGENT_STATE = {
    "hostname": "a1",
    "frameworks": [
        {
            "id": "f1",
            "name": "marathon",
            "executors": [
                {
                    "id": "e1",
                    "directory": "/w/e1/runs/r2",
                    "tasks": [
                        agent_task(
                            "web.1",
                            "TASK_RUNNING",
                            {"state": "TASK_RUNNING", "timestamp": 2.0, "healthy": False},
                            {"state": "TASK_STARTING", "timestamp": 1.0},
                            {"state": "TASK_RUNNING", "timestamp": 3.0, "healthy": True},
                        )
                    ],
                    "queued_tasks": [agent_task("queued.1", "TASK_STAGING")],
                    "completed_tasks": [],
                }
            ],
            "completed_executors": [
                {
                    "id": "e0",
                    "directory": "/w/e0/runs/r1",
                    "tasks": [],
                    "completed_tasks": [
                        agent_task(
                            "old.1", "TASK_FINISHED", {"state": "TASK_FINISHED", "timestamp": 5.0}
                        )
                    ],
                }
            ],
        }
    ],
}


def test_task_in_an_agent_state(page: Page, static_url: str) -> None:
    got = run(
        page,
        static_url,
        """const s = arg;
        const found = (id) => { const f = m.findTask(s, id);
          return f && [f.executor.directory, f.task.state, f.completed]; };
        const web = m.findTask(s, "web.1").task;
        return {
          web: found("web.1"), old: found("old.1"), queued: found("queued.1"),
          missing: m.findTask(s, "nope"), empty: m.findTask({}, "web.1"),
          history: m.stateHistory(web).map((x) => [x.state, x.healthy]),
          health: m.taskHealth(web), none: m.taskHealth({statuses: [{state: "TASK_RUNNING"}]}),
          ports: m.rangeValues(web.resources.ports), noPorts: m.rangeValues(undefined),
          capped: m.rangeValues("[1-1000]", 3).length,
          rows: m.agentTasks(s).map((r) => [r.id, r.state, r.framework]),
        };""",
        AGENT_STATE,
    )
    assert got["web"] == ["/w/e1/runs/r2", "TASK_RUNNING", False]
    assert got["old"] == ["/w/e0/runs/r1", "TASK_FINISHED", True]
    assert got["queued"] == ["/w/e1/runs/r2", "TASK_STAGING", False]
    assert got["missing"] is None and got["empty"] is None
    assert got["history"] == [
        ["TASK_STARTING", None],
        ["TASK_RUNNING", False],
        ["TASK_RUNNING", True],
    ]
    assert got["health"] == "Healthy" and got["none"] == ""
    assert got["ports"] == [31000, 31001, 31005] and got["noPorts"] == []
    assert got["capped"] == 3
    # Live tasks first, then the newest finished.
    assert got["rows"] == [
        ["web.1", "TASK_RUNNING", "marathon"],
        ["queued.1", "TASK_STAGING", "marathon"],
        ["old.1", "TASK_FINISHED", "marathon"],
    ]


def test_sandbox_paths_and_listing(page: Page, static_url: str) -> None:
    got = run(
        page,
        static_url,
        """const root = "/w/run";
        return {
          rel: [m.sandboxRelative(root, root), m.sandboxRelative(root + "/", root + "/a/b")],
          parent: [m.parentPath(root, root + "/a/b"), m.parentPath(root, root + "/a"),
                   m.parentPath(root, root)],
          listing: m.sortListing([
            {path: root + "/stdout", mode: "-rw-r--r--", size: 3},
            {path: root + "/b", mode: "drwxr-xr-x"},
            {path: root + "/a.txt", mode: "-rw-r--r--"},
          ]).map((e) => [e.name, e.directory]),
          bytes: [m.formatBytes(0), m.formatBytes(1023), m.formatBytes(1536),
                  m.formatBytes(5 * 1024 * 1024)],
        };""",
    )
    assert got["rel"] == ["", "a/b"]
    assert got["parent"] == ["/w/run/a", "/w/run", "/w/run"]
    assert got["listing"] == [["b", True], ["a.txt", False], ["stdout", False]]
    assert got["bytes"] == ["0 B", "1023 B", "1.5 KiB", "5 MiB"]


# (offset before, file size) -> (offset, length, reset) of the next read; tail 100, chunk 40.
READS = [
    ((None, 0), (0, 0, True)),  # an empty file: nothing yet
    ((None, 30), (0, 30, True)),  # smaller than the tail: all of it
    ((None, 1000), (900, 40, True)),  # the last 100 bytes, one chunk at a time
    ((940, 1000), (940, 40, False)),
    ((1000, 1000), (1000, 0, False)),  # nothing new
    ((1000, 1010), (1000, 10, False)),
    ((1000, 10), (0, 10, True)),  # truncated or rotated: from the start again
]


def test_log_follower_reads(page: Page, static_url: str) -> None:
    got = run(
        page,
        static_url,
        """return {
          reads: arg.map(([o, s]) => { const r = m.nextRead(o, s, 100, 40);
            return [r.offset, r.length, r.reset]; }),
          kept: m.keepTail("one\\ntwo\\nthree\\n", 9), short: m.keepTail("ab", 9),
          noLine: m.keepTail("abcdefghijkl", 4),
        };""",
        [list(before) for before, _ in READS],
    )
    assert got["reads"] == [list(after) for _, after in READS]
    assert got["kept"] == "three\n"  # cut at a line's start, never inside one
    assert got["short"] == "ab" and got["noLine"] == "ijkl"


UNITS = [
    {"id": "dcos-b.service", "name": "B", "health": 0, "description": "bee"},
    {"id": "dcos-a.service", "name": "A", "health": 0, "description": "ay"},
    {"id": "dcos-x.service", "name": "X", "health": 1, "description": "broken"},
    {"id": "dcos-u.service", "name": "U", "health": 3, "description": "unknown"},
]


def test_unit_health_rows(page: Page, static_url: str) -> None:
    got = run(
        page,
        static_url,
        """const ids = (rows) => rows.map((u) => u.id);
        return {
          all: ids(m.healthRows(arg, "id", "", "")),
          healthy: ids(m.healthRows(arg, "id", "", "Healthy")),
          text: ids(m.healthRows(arg, "id", "BROK", "")),
          nodes: m.healthRows([{host_ip: "10.0.0.2", role: "agent", health: 0},
                               {host_ip: "10.0.0.1", role: "master", health: 3}],
                              "host_ip", "mast", "").map((n) => n.host_ip),
          counts: m.healthCounts(arg), names: [0, 1, 3, 7].map(m.healthName),
        };""",
        UNITS,
    )
    assert got["all"] == ["dcos-x.service", "dcos-u.service", "dcos-a.service", "dcos-b.service"]
    assert got["healthy"] == ["dcos-a.service", "dcos-b.service"]
    assert got["text"] == ["dcos-x.service"]
    assert got["nodes"] == ["10.0.0.1"]
    assert got["counts"] == {"Healthy": 2, "Unhealthy": 1, "Unknown": 1}
    assert got["names"] == ["Healthy", "Unhealthy", "Unknown", "Unknown"]


def test_node_rows_take_their_health_by_ip_then_host_name(page: Page, static_url: str) -> None:
    got = run(
        page,
        static_url,
        """const row = (id, ip, hostname) => ({ id, ip, hostname, type: "private",
            status: "active", tasks: 0, cpus: { used: 0, total: 1 }, mem: { used: 0, total: 1 },
            disk: { used: 0, total: 1 } });
        const rows = [row("a", "10.0.0.1", "a.lan"), row("b", "", "10.0.0.2"),
                      row("c", "10.0.0.3", "c.lan"), row("d", "10.0.0.4", "d.lan")];
        const api = [{host_ip: "10.0.0.1", health: 0}, {host_ip: "10.0.0.2", health: 1},
                     {host_ip: "10.0.0.3", health: 3}];
        const model = await import("/js/model.js");
        const joined = m.withNodeHealth(rows, api);
        return {
          health: joined.map((n) => n.health),
          noAnswer: m.withNodeHealth(rows, null).map((n) => n.health),
          unhealthy: model.filterNodes(joined, "", "", "", "Unhealthy").map((n) => n.id),
          worstFirst: model.sortNodes(joined, "health", false).map((n) => n.id),
        };""",
    )
    assert got["health"] == ["Healthy", "Unhealthy", "Unknown", ""]
    assert got["noAnswer"] == ["", "", "", ""]
    assert got["unhealthy"] == ["b"]
    assert got["worstFirst"] == ["b", "c", "a", "d"]


def test_vip_rows_of_minutemans_real_body(page: Page, static_url: str) -> None:
    master_state = state(
        task("t1", "a1", 31000),
        task("t2", "a2", 31001),
        task("d1", "a1", 31053, vips=("/dns:53",), protocol="udp"),
        task("i1", "a2", 31002, vips=("10.1.2.3:5000",)),
    )
    body = views.vips(build(master_state))
    assert len(body) == 3  # the real shape: [{vip, protocol, backend: [{ip, port}]}]
    got = run(
        page,
        static_url,
        """const rows = (text) => m.vipRows(arg, text).map((r) =>
          [r.name, r.port, r.protocol, r.backends]);
        return {all: rows(""), byBackend: rows(":31001"), byName: rows("dns."),
                none: m.vipRows([], ""), notList: m.vipRows({message: "x"}, "")};""",
        body,
    )
    assert got["all"] == [
        ["10.1.2.3", 5000, "tcp", ["198.18.0.12:31002"]],
        ["dns.marathon.l4lb.thisdcos.directory", 53, "udp", ["198.18.0.11:31053"]],
        [
            "web.marathon.l4lb.thisdcos.directory",
            80,
            "tcp",
            ["198.18.0.11:31000", "198.18.0.12:31001"],
        ],
    ]
    assert got["byBackend"] == [got["all"][2]]
    assert [r[0] for r in got["byName"]] == ["dns.marathon.l4lb.thisdcos.directory"]
    assert got["none"] == [] and got["notList"] == []
