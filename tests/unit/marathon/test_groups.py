"""Marathon groups: the implicit tree, its JSON (and what marathon-python makes of it), group
documents with relative ids and their error paths, scaleBy."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from daemons.marathon.appdef import InvalidDefinition, app_json, parse_app
from daemons.marathon.groups import (
    GROUP_KEYS,
    all_group_ids,
    group_json,
    parse_group,
    plain_group,
    scale_by,
)
from daemons.marathon.model import AppDefinition
from tests.clients import marathon_module

pytestmark = pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated")
logging.getLogger("marathon").setLevel(logging.ERROR)

V = 1443542391.164
TS = "2015-09-29T15:59:51.164Z"


def app(app_id: str, instances: int = 1) -> AppDefinition:
    return parse_app({"id": app_id, "cmd": "sleep 100", "instances": instances}, version=V)


APPS = {a.id: a for a in (app("/web"), app("/prod/api"), app("/prod/db/pg"), app("/ops/x/y/z"))}


def group_errors(raw: Any, base: str = "/") -> dict[str, list[str]]:
    with pytest.raises(InvalidDefinition) as caught:
        parse_group(raw, base=base, version=V)
    return {d["path"]: d["errors"] for d in caught.value.details}


# --- the tree and its JSON -------------------------------------------------------------------


def test_groups_are_implicit_from_app_ids_plus_the_explicit_ones() -> None:
    assert all_group_ids(APPS, {"/empty", "/deep/er"}) == {
        "/",
        "/prod",
        "/prod/db",
        "/ops",
        "/ops/x",
        "/ops/x/y",
        "/empty",
        "/deep",
        "/deep/er",
    }


def test_group_json_nests_groups_and_apps_sorted() -> None:
    doc = group_json("/", APPS, frozenset({"/empty"}), version=V, app_view=lambda a: {"id": a.id})
    assert doc == {
        "id": "/",
        "apps": [{"id": "/web"}],
        "groups": [
            {"id": "/empty", "apps": [], "groups": [], "pods": [], "dependencies": [],
             "version": TS},
            {
                "id": "/ops",
                "apps": [],
                "groups": [
                    {
                        "id": "/ops/x",
                        "apps": [],
                        "groups": [
                            {
                                "id": "/ops/x/y",
                                "apps": [{"id": "/ops/x/y/z"}],
                                "groups": [],
                                "pods": [],
                                "dependencies": [],
                                "version": TS,
                            }
                        ],
                        "pods": [],
                        "dependencies": [],
                        "version": TS,
                    }
                ],
                "pods": [],
                "dependencies": [],
                "version": TS,
            },
            {
                "id": "/prod",
                "apps": [{"id": "/prod/api"}],
                "groups": [
                    {
                        "id": "/prod/db",
                        "apps": [{"id": "/prod/db/pg"}],
                        "groups": [],
                        "pods": [],
                        "dependencies": [],
                        "version": TS,
                    }
                ],
                "pods": [],
                "dependencies": [],
                "version": TS,
            },
        ],
        "pods": [],
        "dependencies": [],
        "version": TS,
    }  # fmt: skip


def test_group_json_of_a_subgroup_and_without_apps() -> None:
    doc = group_json("/prod", APPS, frozenset(), version=V, embed_apps=False)
    assert doc["id"] == "/prod"
    assert doc["apps"] == [] and doc["groups"][0]["apps"] == []
    assert [g["id"] for g in doc["groups"]] == ["/prod/db"]


def _keys(group: dict[str, Any]) -> set[str]:
    return set(group) | {k for g in group["groups"] for k in _keys(g)}


def test_a_plain_group_is_the_whole_tree_of_the_apps_without_explicit_groups() -> None:
    # A deployment event's original/target: the apps of the plan, rendered as a root group.
    doc = plain_group({"/prod/api": APPS["/prod/api"]}, V)
    assert doc == group_json("/", {"/prod/api": APPS["/prod/api"]}, frozenset(), version=V)
    assert [g["id"] for g in doc["groups"]] == ["/prod"]
    assert doc["groups"][0]["apps"] == [app_json(APPS["/prod/api"])]


def test_group_json_uses_only_whitelisted_keys_and_app_json_by_default() -> None:
    doc = group_json("/", APPS, frozenset({"/empty"}), version=V)
    assert _keys(doc) <= GROUP_KEYS
    assert doc["apps"] == [app_json(APPS["/web"])]


def test_marathon_python_parses_our_groups() -> None:
    marathon = marathon_module()
    rich = parse_app(
        {
            "id": "/prod/web",
            "cmd": "x",
            "constraints": [["hostname", "UNIQUE"]],
            "healthChecks": [{"protocol": "TCP"},
                             {"protocol": "COMMAND", "command": {"value": "t"}}],
        },
        version=V,
    )  # fmt: skip
    apps = {**APPS, rich.id: rich}
    group = marathon.models.MarathonGroup.from_json(
        group_json("/", apps, frozenset({"/empty"}), version=V)
    )
    assert [g.id for g in group.groups] == ["/empty", "/ops", "/prod"]
    prod = group.groups[2]
    assert [a.id for a in prod.apps] == ["/prod/api", "/prod/web"]
    assert prod.groups[0].apps[0].id == "/prod/db/pg"
    assert len(prod.apps[1].health_checks) == 2


# --- group documents -------------------------------------------------------------------------


def test_parse_group_resolves_relative_ids_against_the_enclosing_group() -> None:
    doc = {
        "id": "prod",
        "apps": [{"id": "api", "cmd": "x", "dependencies": ["db/pg"]}],
        "groups": [
            {"id": "db", "apps": [{"id": "/prod/db/pg", "cmd": "x"}]},
            {"id": "/prod/cache", "groups": [{"id": "redis"}]},
        ],
    }
    group_ids, apps = parse_group(doc, base="/", version=V)
    assert group_ids == {"/prod", "/prod/db", "/prod/cache", "/prod/cache/redis"}
    assert set(apps) == {"/prod/api", "/prod/db/pg"}
    assert apps["/prod/api"].dependencies == ("/prod/db/pg",)
    assert apps["/prod/api"].version == V


def test_parse_group_without_id_describes_the_base_group() -> None:
    group_ids, apps = parse_group({"apps": [{"id": "web", "cmd": "x"}]}, base="/prod", version=V)
    assert (group_ids, set(apps)) == (frozenset({"/prod"}), {"/prod/web"})


def test_parse_group_of_the_root() -> None:
    group_ids, apps = parse_group(
        {"id": "/", "groups": [{"id": "a", "apps": [{"id": "b", "cmd": "x"}]}]},
        base="/",
        version=V,
    )
    assert (group_ids, set(apps)) == (frozenset({"/", "/a"}), {"/a/b"})


RULES: list[tuple[Any, str, str]] = [
    ([], "/", "expected a JSON object (a group)"),
    ({"id": "Prod"}, "/id", "must be lowercase"),
    ({"id": "/prod", "apps": [{"id": "web", "cmd": "x", "instances": -1}]},
     "/apps(0)/instances", "must be greater than or equal to 0"),
    ({"id": "/prod", "apps": [{"id": "web"}]}, "/apps(0)",
     "AppDefinition must either contain one of 'cmd' or 'args'"),
    ({"id": "/prod", "apps": ["web"]}, "/apps(0)", "expected a JSON object"),
    ({"id": "/prod", "groups": [{"id": "db", "apps": [{"id": "a", "cmd": "x"},
                                                      {"id": "b", "cpus": 0, "cmd": "x"}]}]},
     "/groups(0)/apps(1)/cpus", "must be greater than or equal to 0.001"),
    ({"id": "/prod", "apps": [{"id": "/other/web", "cmd": "x"}]}, "/apps(0)/id",
     "Identifier is not child of /prod. Hint: use relative paths."),
    ({"id": "/prod", "apps": [{"id": "a/web", "cmd": "x"}]}, "/apps(0)/id",
     "Identifier is not child of /prod"),
    ({"id": "/prod", "groups": [{"id": "/other"}]}, "/groups(0)/id",
     "Identifier is not child of /prod"),
    ({"id": "/prod", "groups": [{"apps": []}]}, "/groups(0)/id", "id is required"),
    ({"id": "/prod", "groups": ["db"]}, "/groups(0)", "expected an object (a group)"),
    ({"id": "/prod", "apps": [{"id": "web", "cmd": "x"}, {"id": "web", "cmd": "y"}]},
     "/apps(1)/id", "duplicate id /prod/web"),
    ({"id": "/prod", "groups": [{"id": "db"}, {"id": "db"}]}, "/groups(1)/id",
     "duplicate id /prod/db"),
    ({"id": "/prod", "apps": [{"id": "db", "cmd": "x"}], "groups": [{"id": "db"}]},
     "/groups(0)/id", "duplicate id /prod/db"),
    ({"id": "/prod", "apps": {"id": "web"}}, "/apps", "expected a list"),
    ({"id": "/prod", "dependencies": ["/db"]}, "/dependencies",
     "group dependencies are not supported"),
    ({"id": "/prod", "pods": [{"id": "p"}]}, "/pods", "pods are not supported"),
    ({"id": "/prod", "groups": [{"id": "db", "pods": [{}]}]}, "/groups(0)/pods",
     "pods are not supported"),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "path", "message"), RULES)
def test_group_rules_name_their_path(raw: Any, path: str, message: str) -> None:
    found = group_errors(raw)
    assert path in found, found
    assert any(message in e for e in found[path]), found[path]


def test_group_errors_are_all_collected() -> None:
    found = group_errors(
        {
            "id": "/prod",
            "apps": [{"id": "a", "cmd": "x", "mem": -1}],
            "groups": [{"id": "b", "apps": [{"id": "c", "cmd": "x", "instances": "two"}]}],
        }
    )
    assert found == {
        "/apps(0)/mem": ["must be greater than or equal to 0"],
        "/groups(0)/apps(0)/instances": ["expected an integer"],
    }


# --- scaleBy ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instances", "factor", "expected"),
    [
        (3, 2.0, 6),
        (3, 0.5, 2),  # 1.5 rounds up
        (1, 0.1, 1),
        (4, 0.0, 0),
        (0, 3.0, 0),
        (10, 1.0, 10),
        (100, 1.1, 111),  # 100 * 1.1 = 110.00000000000001 in doubles: Marathon says 111 too
    ],
)
def test_scale_by_rounds_up_like_marathon(instances: int, factor: float, expected: int) -> None:
    apps = {"/g/a": app("/g/a", instances)}
    assert scale_by(apps, factor) == {"/g/a": expected}
    assert scale_by(apps.values(), factor) == {"/g/a": expected}
