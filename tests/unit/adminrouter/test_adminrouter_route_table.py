"""Admin Router's dynamic routes: the route table built from a state-summary and Marathon's
apps, and where each URI goes (DC/OS's order: apps, then frameworks by id, then by name)."""

from __future__ import annotations

from typing import Any

import pytest

from daemons.adminrouter import routes
from daemons.adminrouter.config import AdminRouterAuthConfig

SUMMARY: dict[str, Any] = {
    "slaves": [
        {"id": "S0", "pid": "slave(1)@10.0.0.5:5051", "hostname": "a1"},
        {"id": "S1", "hostname": "a2.example", "port": 5052},
        {"id": "S2"},
        "junk",
    ],
    "frameworks": [
        {"id": "F1", "name": "spark", "webui_url": "http://10.0.0.7:4040/"},
        {"id": "F2", "name": "hidden", "webui_url": None},
        {"id": "F3", "name": "blank", "webui_url": ""},
        {"id": "F4", "name": "spark", "webui_url": "http://10.0.0.9:4040"},
        {"id": "F5", "name": "bad", "webui_url": 7},
    ],
}


def app(name: str, tasks: list[dict[str, Any]], **labels: str) -> dict[str, Any]:
    return {"id": f"/{name}", "labels": {"DCOS_SERVICE_NAME": name, **labels}, "tasks": tasks}


APPS: dict[str, Any] = {
    "apps": [
        app(
            "web",
            [
                {"id": "web.2", "host": "10.0.0.6", "ports": [31001, 31002]},
                {"id": "web.1", "host": "10.0.0.5", "ports": [31003, 31004]},
            ],
            DCOS_SERVICE_PORT_INDEX="1",
        ),
        app(
            "group/kafka",
            [{"id": "k.1", "host": "10.0.0.8", "ports": [31010]}],
            DCOS_SERVICE_SCHEME="https",
            DCOS_SERVICE_REWRITE_REQUEST_URLS="false",
        ),
        app("staging", [{"id": "s.1", "host": "10.0.0.8", "ports": [1], "state": "TASK_STAGING"}]),
        app("noport", [{"id": "n.1", "host": "10.0.0.8", "ports": []}]),
        app("badindex", [{"id": "b.1", "host": "h", "ports": [1]}], DCOS_SERVICE_PORT_INDEX="x"),
        app("marathon", [{"id": "m.1", "host": "10.0.0.8", "ports": [1]}]),
        app("spark", [{"id": "sp.1", "host": "10.0.0.10", "ports": [31020]}]),
        {"id": "/nolabels"},
        "junk",
    ]
}
NOW = 1000.0
TABLE = routes.build_table(APPS, SUMMARY, "10.0.0.1:5050", NOW - 1)
MAX_AGE = 75.0


def resolve(
    uri: str, table: routes.RouteTable = TABLE, now: float = NOW
) -> routes.Resolution | None:
    return routes.resolve(uri, table, now, MAX_AGE, 61001)


def test_the_table() -> None:
    assert TABLE.agents == {"S0": "10.0.0.5:5051", "S1": "a2.example:5052"}
    assert TABLE.services == {
        # the first running task by id, its port at the labelled index
        "web": routes.Service("http://10.0.0.5:31004"),
        "group/kafka": routes.Service("https://10.0.0.8:31010", rewrite=False),
        "marathon": routes.Service("http://10.0.0.8:1"),
        "spark": routes.Service("http://10.0.0.10:31020"),
    }
    assert TABLE.framework_ids["F2"] is None
    assert TABLE.framework_names["spark"] == "http://10.0.0.7:4040/"  # the first by that name
    assert "F5" not in TABLE.framework_ids


@pytest.mark.parametrize(
    ("uri", "url"),
    [
        ("/mesos/master/state?jsonp=x", "http://10.0.0.1:5050/master/state?jsonp=x"),
        ("/mesos/", "http://10.0.0.1:5050/"),
        ("/service/web/", "http://10.0.0.5:31004/"),
        ("/service/web/a/b?c=d", "http://10.0.0.5:31004/a/b?c=d"),
        ("/service/group/kafka/v1/plan", "https://10.0.0.8:31010/service/group/kafka/v1/plan"),
        # a Marathon app wins over a framework of the same name
        ("/service/spark/jobs", "http://10.0.0.10:31020/jobs"),
        ("/service/F1/jobs", "http://10.0.0.7:4040/jobs"),
        ("/service/F4/", "http://10.0.0.9:4040/"),
        ("/agent/S0/slave(1)/state", "http://10.0.0.5:5051/slave(1)/state"),
        ("/slave/S1/files/browse?path=/x", "http://a2.example:5052/files/browse?path=/x"),
        ("/agent/S0", "http://10.0.0.5:5051/"),
        ("/system/v1/agent/S0/logs/v2/task", "http://10.0.0.5:61001/system/v1/logs/v2/task"),
    ],
)
def test_resolved(uri: str, url: str) -> None:
    assert resolve(uri) == routes.Resolution(url=url)


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("/service/nothing/x", routes.NOT_FOUND_SERVICE),
        ("/service/F2/x", routes.NOT_FOUND_SERVICE),  # webui_url null: stop
        ("/service/hidden/x", routes.NOT_FOUND_SERVICE),
        ("/service/blank/x", routes.NOT_FOUND_SERVICE),  # "": no SRV record; nothing further
        ("/service/staging/x", routes.NOT_FOUND_SERVICE),  # no running task
        ("/service/noport/x", routes.NOT_FOUND_SERVICE),
        ("/service/badindex/x", routes.NOT_FOUND_SERVICE),
        ("/service/marathon/x", routes.NOT_FOUND_SERVICE),  # reserved: nginx routes it
        ("/service//x", routes.NOT_FOUND_SERVICE),
        ("/agent/S9/state", routes.NOT_FOUND_AGENT),
        ("/system/v1/agent/S9/logs", routes.NOT_FOUND_AGENT),
    ],
)
def test_not_found(uri: str, expected: routes.Resolution) -> None:
    assert resolve(uri) == expected


def test_a_framework_without_a_web_ui_url_is_found_through_its_srv_record() -> None:
    """DC/OS's third step: `webui_url` "" asks Mesos-DNS for `_<name>._tcp.marathon.mesos` (by
    id: the framework's name); its first address over http; none: the next candidate; a
    failed lookup: 503. Nobody else is asked for SRV records."""
    asked: list[str] = []

    def srv(answers: dict[str, str | None]) -> routes.SrvLookup:
        def lookup(name: str) -> str | None:
            asked.append(name)
            return answers.get(name, "")

        return lookup

    found = srv({"_blank._tcp.marathon.mesos": "10.0.0.12:31500"})
    for uri in ("/service/blank/a/b?c=d", "/service/F3/a/b?c=d"):
        assert routes.resolve(uri, TABLE, NOW, MAX_AGE, 61001, found) == routes.Resolution(
            url="http://10.0.0.12:31500/a/b?c=d"
        )
    assert asked == ["_blank._tcp.marathon.mesos"] * 2
    asked.clear()
    # No address: the next candidate (`blank/a`), nothing there: not found.
    empty = srv({})
    assert routes.resolve("/service/blank/a", TABLE, NOW, MAX_AGE, 61001, empty) == (
        routes.NOT_FOUND_SERVICE
    )
    failed = srv({"_blank._tcp.marathon.mesos": None})
    assert routes.resolve("/service/blank/a", TABLE, NOW, MAX_AGE, 61001, failed) == (
        routes.MESOS_DNS_FAILED
    )
    asked.clear()
    for uri in ("/service/web/x", "/service/F1/x", "/service/F2/x", "/service/nothing/x"):
        routes.resolve(uri, TABLE, NOW, MAX_AGE, 61001, failed)
    assert asked == []
    assert routes.srv_name("a/b/c") == "_c.b.a._tcp.marathon.mesos"


def test_more_segments_than_searched_are_not_found() -> None:
    deep = {"apps": [app("/".join("abcdefghijk"), [{"id": "t", "host": "h", "ports": [1]}])]}
    table = routes.build_table(deep, {}, "m:5050", NOW)
    assert resolve("/service/" + "/".join("abcdefghijk") + "/x", table) == routes.NOT_FOUND_SERVICE
    ten = {"apps": [app("/".join("abcdefghij"), [{"id": "t", "host": "h", "ports": [1]}])]}
    table = routes.build_table(ten, {}, "m:5050", NOW)
    assert resolve("/service/" + "/".join("abcdefghij") + "/x", table) == routes.Resolution(
        url="http://h:1/x"
    )


def test_static_routes_are_not_resolved() -> None:
    for uri in (
        "/",
        "/marathon/v2/apps",
        "/metadata",
        "/mesos",
        "/servicex/a",
        "/acs/api/v1/users",
    ):
        assert resolve(uri) is None


def test_a_stale_or_missing_table_is_503() -> None:
    assert resolve("/agent/S0/x", now=NOW - 1 + MAX_AGE + 0.1).status == 503  # type: ignore[union-attr]
    assert resolve("/agent/S0/x", now=NOW - 1 + MAX_AGE) == routes.Resolution(
        url="http://10.0.0.5:5051/x"
    )
    assert resolve("/service/web/", routes.RouteTable()).status == 503  # type: ignore[union-attr]
    leaderless = routes.build_table(APPS, SUMMARY, None, NOW)
    assert resolve("/mesos/x", leaderless).status == 503  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "body", [None, [], {"apps": "x"}, {"slaves": {}}, "junk", {"frameworks": None}]
)
def test_malformed_bodies_make_an_empty_table(body: object) -> None:
    table = routes.build_table(body, body, "m:5050", NOW)
    assert (table.services, table.agents, table.framework_ids) == ({}, {}, {})


def test_config() -> None:
    assert AdminRouterAuthConfig().validate() == []
    bad = AdminRouterAuthConfig(
        iam="127.0.0.1:8101",
        master="",
        refresh_interval=10,
        max_age=5,
        capabilities=("NOPE",),
        port=0,
        threads=0,
        log_level="loud",
        request_timeout=0,
    )
    assert len(bad.validate()) == 8
