"""App definitions: every validation rule at its JSON path, the defaults, updates, versions,
service ports, the response JSON's whitelist, and what marathon-python 0.13.0 makes of it."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemons.marathon.appdef import (
    APP_KEYS,
    InvalidDefinition,
    app_json,
    app_update_json,
    assign_service_ports,
    from_stored,
    merge_update,
    next_version,
    parse_app,
    stored_json,
)
from daemons.marathon.model import (
    AppDefinition,
    Constraint,
    HealthCheck,
    PortDefinition,
    UnreachableStrategy,
    UpgradeStrategy,
)
from tests.clients import marathon_module

# marathon-python logs (with the deprecated `log.warn`) each `{"value": …}` command it reads.
pytestmark = pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated")
logging.getLogger("marathon").setLevel(logging.ERROR)

V = 1443542391.164  # 2015-09-29T15:59:51.164Z
BASE: dict[str, Any] = {"id": "/web", "cmd": "sleep 100"}
DROP = object()  # a field value meaning "leave the key out"


def parse(**fields: Any) -> AppDefinition:
    return parse_app({**BASE, **fields}, version=V)


def errors(raw: Any, base_group: str = "/") -> dict[str, list[str]]:
    with pytest.raises(InvalidDefinition) as caught:
        parse_app(raw, version=V, base_group=base_group)
    return {d["path"]: d["errors"] for d in caught.value.details}


def errors_with(**fields: Any) -> dict[str, list[str]]:
    raw = {k: v for k, v in {**BASE, **fields}.items() if v is not DROP}
    return errors(raw)


# --- one table row per rule: the fields sent, the path blamed, what the message says ----------

CMD_OR_ARGS = "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."
IMAGES = "container images are not supported: PyDCOS runs commands"
FETCH = "fetch is not supported: commands must be fetch-free"
PORT_INDEX = "Health check port indices must address an element of the ports array"
OPERATOR_LIST = "must be one of UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS"

RULES: list[tuple[dict[str, Any], str, str]] = [
    # id
    ({"id": DROP}, "/id", "id is required"),
    ({"id": 5}, "/id", "expected a string"),
    ({"id": "/Web"}, "/id", "must be lowercase"),
    ({"id": "/web_1"}, "/id", "must fully match regular expression"),
    ({"id": "/a/../web"}, "/id", "must not contain '..'"),
    ({"id": "/a//web"}, "/id", "must not contain empty segments"),
    ({"id": "/"}, "/id", "Path must contain at least one path element"),
    ({"id": "."}, "/id", "must not be root"),
    ({"id": "/app/restart"}, "/id", "reserved keywords: restart, tasks, versions"),
    ({"id": "/" + "a" * 300}, "/id", "must be at most 255 characters"),
    # cmd / args / container
    ({"cmd": DROP}, "/", CMD_OR_ARGS),
    ({"cmd": None}, "/", CMD_OR_ARGS),
    ({"cmd": DROP, "args": []}, "/", CMD_OR_ARGS),
    ({"args": ["sleep", "1"]}, "/", "one of 'cmd' or 'args', not both"),
    ({"cmd": ""}, "/cmd", "must not be an empty string"),
    ({"cmd": ["sleep"]}, "/cmd", "expected a string"),
    ({"cmd": DROP, "args": [1, 2]}, "/args", "expected a list of strings"),
    ({"cmd": DROP, "args": "sleep 1"}, "/args", "expected a list"),
    ({"container": {"type": "DOCKER", "docker": {"image": "nginx"}}}, "/container", IMAGES),
    ({"container": {"type": "MESOS", "docker": {"image": "nginx"}}}, "/container", IMAGES),
    ({"container": {"type": "MESOS", "appc": {"image": "x"}}}, "/container", IMAGES),
    ({"container": {"type": "MESOS", "volumes": [{"containerPath": "d"}]}}, "/container",
     "container volumes and portMappings are not supported"),
    ({"container": "docker"}, "/container", "expected an object or null"),
    # resources
    ({"cpus": 0}, "/cpus", "must be greater than or equal to 0.001"),
    ({"cpus": "1"}, "/cpus", "expected a number"),
    ({"cpus": True}, "/cpus", "expected a number"),
    ({"cpus": float("inf")}, "/cpus", "expected a finite number"),
    ({"mem": -1}, "/mem", "must be greater than or equal to 0"),
    ({"disk": -0.5}, "/disk", "must be greater than or equal to 0"),
    ({"gpus": 1}, "/gpus", "gpus are not supported: must be 0"),
    ({"gpus": 0.5}, "/gpus", "expected an integer"),
    ({"instances": -1}, "/instances", "must be greater than or equal to 0"),
    ({"instances": "three"}, "/instances", "expected an integer"),
    ({"instances": 1.5}, "/instances", "expected an integer"),
    ({"instances": True}, "/instances", "expected an integer"),
    # env, labels
    ({"env": {"A": 1}}, "/env/A", "expected a string"),
    ({"env": {"DB": {"secret": "db-pass"}}}, "/env/DB", "secrets are not supported"),
    ({"env": ["A=1"]}, "/env", "expected an object"),
    ({"labels": {"tier": 1}}, "/labels/tier", "expected a string"),
    ({"labels": "tier=web"}, "/labels", "expected an object"),
    # constraints
    ({"constraints": "hostname:UNIQUE"}, "/constraints", "expected a list"),
    ({"constraints": ["hostname:UNIQUE"]}, "/constraints(0)",
     "expected a list: [field, operator] or [field, operator, value]"),
    ({"constraints": [["hostname"]]}, "/constraints(0)",
     "Each constraint must have either 2 or 3 fields"),
    ({"constraints": [["hostname", "UNIQUE", "a", "b"]]}, "/constraints(0)",
     "Each constraint must have either 2 or 3 fields"),
    ({"constraints": [["hostname", 1]]}, "/constraints(0)", "constraint fields must be strings"),
    ({"constraints": [["", "UNIQUE"]]}, "/constraints(0)", "Missing field"),
    ({"constraints": [["hostname", "SPREAD"]]}, "/constraints(0)",
     f"Constraint operator 'SPREAD' {OPERATOR_LIST}"),
    ({"constraints": [["hostname", "unique"]]}, "/constraints(0)", OPERATOR_LIST),
    ({"constraints": [["hostname", "UNIQUE", "x"]]}, "/constraints(0)",
     "Value specified but not used: UNIQUE takes no value"),
    ({"constraints": [["rack", "LIKE"]]}, "/constraints(0)",
     "A regular expression value must be provided for LIKE"),
    ({"constraints": [["rack", "LIKE", "rack-("]]}, "/constraints(0)",
     "'rack-(' is not a valid regular expression"),
    ({"constraints": [["rack", "UNLIKE", "[a"]]}, "/constraints(0)",
     "'[a' is not a valid regular expression"),
    ({"constraints": [["rack", "MAX_PER"]]}, "/constraints(0)",
     "MAX_PER must have a positive integer value"),
    ({"constraints": [["rack", "MAX_PER", "0"]]}, "/constraints(0)",
     "MAX_PER must have a positive integer value"),
    ({"constraints": [["rack", "MAX_PER", "two"]]}, "/constraints(0)",
     "MAX_PER must have a positive integer value"),
    ({"constraints": [["rack", "MAX_PER", "-1"]]}, "/constraints(0)",
     "MAX_PER must have a positive integer value"),
    ({"constraints": [["rack", "GROUP_BY", "x"]]}, "/constraints(0)",
     "GROUP_BY may either have no value or an integer value"),
    ({"constraints": [["rack", "IS"]]}, "/constraints(0)", "IS needs a value"),
    ({"constraints": [["hostname", "UNIQUE"], ["rack", "IS"]]}, "/constraints(1)",
     "IS needs a value"),
    # ports
    ({"portDefinitions": [{"port": 70000}]}, "/portDefinitions(0)/port",
     "must be less than or equal to 65535"),
    ({"portDefinitions": [{"port": -1}]}, "/portDefinitions(0)/port",
     "must be greater than or equal to 0"),
    ({"portDefinitions": [{"port": "80"}]}, "/portDefinitions(0)/port", "expected an integer"),
    ({"portDefinitions": [{"port": 80}, {"port": 80}]}, "/portDefinitions",
     "Ports must be unique."),
    ({"portDefinitions": [{"port": 0, "name": "a"}, {"port": 0, "name": "a"}]},
     "/portDefinitions", "Port names must be unique."),
    ({"portDefinitions": [{"port": 80, "protocol": "sctp"}]}, "/portDefinitions(0)/protocol",
     "must be one of tcp, udp, udp,tcp (got 'sctp')"),
    ({"portDefinitions": [{"port": 80, "name": "HTTP"}]}, "/portDefinitions(0)/name",
     "must be lowercase letters, digits and '-'"),
    ({"portDefinitions": [{"port": 80, "labels": {"a": 1}}]}, "/portDefinitions(0)/labels/a",
     "expected a string"),
    ({"portDefinitions": [80]}, "/portDefinitions(0)", "expected an object"),
    ({"portDefinitions": {"port": 80}}, "/portDefinitions", "expected a list"),
    ({"ports": [70000]}, "/ports(0)", "must be an integer from 0 to 65535"),
    ({"ports": ["80"]}, "/ports(0)", "must be an integer from 0 to 65535"),
    ({"ports": [80, 80]}, "/ports", "ports must be unique"),
    ({"ports": [1], "portDefinitions": [{"port": 2}]}, "/ports",
     "cannot specify both ports and port definitions"),
    ({"requirePorts": True}, "/requirePorts", "requirePorts needs every port set"),
    ({"requirePorts": "yes"}, "/requirePorts", "expected a boolean"),
    # health checks
    ({"healthChecks": [{"protocol": "GRPC"}]}, "/healthChecks(0)/protocol",
     "must be one of HTTP, HTTPS, TCP, COMMAND, MESOS_HTTP, MESOS_HTTPS, MESOS_TCP"),
    ({"healthChecks": [{"protocol": "COMMAND"}]}, "/healthChecks(0)/command",
     "COMMAND health checks need command.value"),
    ({"healthChecks": [{"protocol": "COMMAND", "command": "true"}]},
     "/healthChecks(0)/command", 'expected {"value": "<shell command>"}'),
    ({"healthChecks": [{"protocol": "COMMAND", "command": {"value": ""}}]},
     "/healthChecks(0)/command", 'expected {"value": "<shell command>"}'),
    ({"healthChecks": [{"protocol": "HTTP", "command": {"value": "true"}}]},
     "/healthChecks(0)/command", "only COMMAND health checks run a command (HTTP)"),
    ({"healthChecks": [{"protocol": "HTTP", "portIndex": 1}]}, "/healthChecks(0)/portIndex",
     PORT_INDEX),
    ({"portDefinitions": [], "healthChecks": [{"protocol": "TCP"}]},
     "/healthChecks(0)/portIndex", "the app has 0 port(s); give `port`"),
    ({"portDefinitions": [], "healthChecks": [{"protocol": "MESOS_HTTP"}]},
     "/healthChecks(0)/portIndex", PORT_INDEX),
    ({"healthChecks": [{"protocol": "TCP", "port": 80, "portIndex": 0}]}, "/healthChecks(0)",
     "give either port or portIndex, not both"),
    ({"healthChecks": [{"port": 0}]}, "/healthChecks(0)/port",
     "must be greater than or equal to 1"),
    ({"healthChecks": [{"portIndex": -1}]}, "/healthChecks(0)/portIndex",
     "must be greater than or equal to 0"),
    ({"healthChecks": [{"gracePeriodSeconds": -1}]}, "/healthChecks(0)/gracePeriodSeconds",
     "must be greater than or equal to 0"),
    ({"healthChecks": [{"intervalSeconds": 0}]}, "/healthChecks(0)/intervalSeconds",
     "must be greater than or equal to 1"),
    ({"healthChecks": [{"timeoutSeconds": "20"}]}, "/healthChecks(0)/timeoutSeconds",
     "expected an integer"),
    ({"healthChecks": [{"maxConsecutiveFailures": -1}]},
     "/healthChecks(0)/maxConsecutiveFailures", "must be greater than or equal to 0"),
    ({"healthChecks": [{"delaySeconds": -1}]}, "/healthChecks(0)/delaySeconds",
     "must be greater than or equal to 0"),
    ({"healthChecks": [{"ignoreHttp1xx": "no"}]}, "/healthChecks(0)/ignoreHttp1xx",
     "expected a boolean"),
    ({"healthChecks": [{"path": 5}]}, "/healthChecks(0)/path", "expected a string"),
    ({"healthChecks": [{"ipProtocol": "IPv6"}]}, "/healthChecks(0)/ipProtocol",
     "only IPv4 is supported"),
    ({"healthChecks": ["HTTP"]}, "/healthChecks(0)", "expected an object"),
    ({"healthChecks": [{"protocol": "MESOS_TCP"}, {"protocol": "MESOS_HTTP"}]}, "/healthChecks",
     "AppDefinition can contain at most one Mesos health check"),
    ({"healthChecks": [{"protocol": "COMMAND", "command": {"value": "a"}},
                       {"protocol": "COMMAND", "command": {"value": "b"}}]}, "/healthChecks",
     "at most one Mesos health check"),
    # strategies, backoff
    ({"upgradeStrategy": {"minimumHealthCapacity": 1.5}},
     "/upgradeStrategy/minimumHealthCapacity", "must be less than or equal to 1"),
    ({"upgradeStrategy": {"maximumOverCapacity": -0.1}}, "/upgradeStrategy/maximumOverCapacity",
     "must be greater than or equal to 0"),
    ({"upgradeStrategy": 1}, "/upgradeStrategy", "expected an object"),
    ({"backoffSeconds": -1}, "/backoffSeconds", "must be greater than or equal to 0"),
    ({"backoffFactor": 0.5}, "/backoffFactor", "must be greater than or equal to 1"),
    ({"maxLaunchDelaySeconds": -1}, "/maxLaunchDelaySeconds", "must be greater than or equal to 0"),
    ({"killSelection": "RANDOM"}, "/killSelection",
     "must be one of YOUNGEST_FIRST, OLDEST_FIRST (got 'RANDOM')"),
    ({"unreachableStrategy": "enabled"}, "/unreachableStrategy", 'expected "disabled" or'),
    ({"unreachableStrategy": {"inactiveAfterSeconds": 10, "expungeAfterSeconds": 5}},
     "/unreachableStrategy",
     "inactiveAfterSeconds must be less than or equal to expungeAfterSeconds"),
    ({"unreachableStrategy": {"inactiveAfterSeconds": -1}},
     "/unreachableStrategy/inactiveAfterSeconds", "must be greater than or equal to 0"),
    ({"unreachableStrategy": {"expungeAfterSeconds": 1.5}},
     "/unreachableStrategy/expungeAfterSeconds", "expected an integer"),
    ({"taskKillGracePeriodSeconds": -1}, "/taskKillGracePeriodSeconds",
     "must be greater than or equal to 0"),
    ({"taskKillGracePeriodSeconds": "5s"}, "/taskKillGracePeriodSeconds", "expected an integer"),
    # dependencies, roles, user
    ({"dependencies": ["/Db"]}, "/dependencies(0)", "must be lowercase"),
    ({"dependencies": ["/db", 7]}, "/dependencies(1)", "expected a string"),
    ({"dependencies": "/db"}, "/dependencies", "expected a list"),
    ({"acceptedResourceRoles": []}, "/acceptedResourceRoles", "must be a non-empty list"),
    ({"acceptedResourceRoles": "*"}, "/acceptedResourceRoles", "expected a list"),
    ({"role": ""}, "/role", "must not be empty"),
    ({"role": 1}, "/role", "expected a string"),
    ({"user": 0}, "/user", "expected a string"),
    # what PyDCOS does not run
    ({"fetch": [{"uri": "https://example.com/x.tgz"}]}, "/fetch", FETCH),
    ({"uris": ["https://example.com/x.tgz"]}, "/uris", FETCH),
    ({"secrets": {"pw": {"source": "db/pw"}}}, "/secrets", "secrets are not supported"),
    ({"readinessChecks": [{"name": "ready"}]}, "/readinessChecks",
     "readiness checks are not supported"),
    ({"residency": {"taskLostBehavior": "WAIT_FOREVER"}}, "/residency", "resident apps"),
    ({"ipAddress": {"networkName": "dcos"}}, "/ipAddress", "ipAddress (IP per task)"),
    ({"networks": [{"mode": "container/bridge"}]}, "/networks",
     "only host networking is supported"),
    ({"networks": "host"}, "/networks", "only host networking is supported"),
    ({"executor": "/opt/my-executor"}, "/executor", "custom executors are not supported"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "path", "message"), RULES, ids=[f"{p} {m[:40]}" for _, p, m in RULES]
)
def test_each_rule_names_its_path_and_says_what_is_wrong(
    fields: dict[str, Any], path: str, message: str
) -> None:
    found = errors_with(**fields)
    assert path in found, found
    assert any(message in e for e in found[path]), found[path]


def test_every_error_is_collected_not_just_the_first() -> None:
    found = errors(
        {
            "id": "/Web",
            "cpus": 0,
            "instances": -1,
            "healthChecks": [{"protocol": "COMMAND"}],
            "constraints": [["hostname", "NOPE"]],
        }
    )
    assert set(found) == {
        "/id",
        "/",
        "/cpus",
        "/instances",
        "/healthChecks(0)/command",
        "/constraints(0)",
    }


@pytest.mark.parametrize("raw", [None, [], "app", 3, [{"id": "/web"}]])
def test_a_non_object_body_is_invalid_at_the_root(raw: Any) -> None:
    assert errors(raw) == {"/": ["expected a JSON object (an app definition)"]}


def test_the_422_body_is_marathons() -> None:
    with pytest.raises(InvalidDefinition) as caught:
        parse_app({"id": "/web", "cmd": "x", "instances": -1}, version=V)
    err = caught.value
    assert err.status == 422
    assert err.body() == {
        "message": "Object is not valid",
        "details": [{"path": "/instances", "errors": ["must be greater than or equal to 0"]}],
    }
    assert "/instances: must be greater than or equal to 0" in str(err)


# --- defaults and accepted forms -------------------------------------------------------------


def test_a_minimal_app_gets_every_default() -> None:
    app = parse_app({"id": "web", "cmd": "sleep 100"}, version=V)
    assert app == AppDefinition(
        id="/web",
        cmd="sleep 100",
        args=None,
        cpus=1.0,
        mem=128.0,
        disk=0.0,
        gpus=0,
        instances=1,
        env={},
        labels={},
        constraints=(),
        accepted_resource_roles=None,
        role="*",
        port_definitions=(PortDefinition(port=0, protocol="tcp", name="default"),),
        require_ports=False,
        health_checks=(),
        dependencies=(),
        upgrade_strategy=UpgradeStrategy(1.0, 1.0),
        backoff_seconds=1.0,
        backoff_factor=1.15,
        max_launch_delay_seconds=300.0,
        kill_selection="YOUNGEST_FIRST",
        unreachable_strategy=UnreachableStrategy(0, 0),
        task_kill_grace_period_seconds=None,
        user=None,
        fetch=(),
        version=V,
        last_config_change_at=V,
        last_scaling_at=V,
    )


def test_nulls_mean_defaults_and_unknown_keys_are_ignored() -> None:
    app = parse(
        cpus=None,
        env=None,
        container=None,
        args=None,
        unreachableStrategy=None,
        tty=True,
        whatever={"x": 1},
        tasksRunning=3,
        version="2015-09-29T15:59:51.164Z",
        versionInfo={"lastScalingAt": "x"},
        executor="",
        secrets={},
        fetch=[],
        networks=[{"mode": "host"}],
    )
    assert app == parse()


def test_args_form() -> None:
    app = parse_app({"id": "/web", "args": ["sleep", "100"]}, version=V)
    assert (app.cmd, app.args) == (None, ("sleep", "100"))


def test_container_null_or_imageless_mesos_is_fine() -> None:
    assert parse(container={"type": "MESOS"}) == parse()


def test_relative_ids_and_dependencies_resolve_against_the_group() -> None:
    app = parse_app(
        {"id": "web", "cmd": "x", "dependencies": ["db", "../shared/cache", "/ops/log"]},
        version=V,
        base_group="/prod",
    )
    assert app.id == "/prod/web"
    assert app.dependencies == ("/prod/db", "/shared/cache", "/ops/log")


def test_integral_floats_are_integers() -> None:
    assert parse(instances=3.0).instances == 3


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        (["hostname", "UNIQUE"], Constraint("hostname", "UNIQUE")),
        (["@zone", "CLUSTER", "a"], Constraint("@zone", "CLUSTER", "a")),
        (["rack", "CLUSTER"], Constraint("rack", "CLUSTER")),
        (["rack", "GROUP_BY"], Constraint("rack", "GROUP_BY")),
        (["rack", "GROUP_BY", "3"], Constraint("rack", "GROUP_BY", "3")),
        (["rack", "LIKE", "rack-[1-3]"], Constraint("rack", "LIKE", "rack-[1-3]")),
        (["rack", "UNLIKE", "rack-9"], Constraint("rack", "UNLIKE", "rack-9")),
        (["hostname", "MAX_PER", "2"], Constraint("hostname", "MAX_PER", "2")),
        (["os", "IS", "linux"], Constraint("os", "IS", "linux")),
    ],
)
def test_valid_constraints(constraint: list[str], expected: Constraint) -> None:
    assert parse(constraints=[constraint]).constraints == (expected,)


def test_port_forms() -> None:
    assert parse(portDefinitions=[]).port_definitions == ()
    assert parse(ports=[]).port_definitions == ()
    assert parse(ports=[0, 8080]).port_definitions == (PortDefinition(0), PortDefinition(8080))
    both = parse(ports=[10000], portDefinitions=[{"port": 10000, "name": "http"}])
    assert both.port_definitions == (PortDefinition(10000, name="http"),)
    udp = parse(portDefinitions=[{"port": 0, "protocol": "udp,tcp", "labels": {"vip": "x:1"}}])
    assert udp.port_definitions == (PortDefinition(0, "udp,tcp", None, {"vip": "x:1"}),)
    assert parse(requirePorts=True, ports=[8080]).require_ports is True


def test_health_check_defaults_and_port_index_normalisation() -> None:
    app = parse(
        healthChecks=[
            {"path": "/health"},
            {"protocol": "TCP", "port": 9000},
            {"command": {"value": "curl -f localhost"}},  # no protocol: a COMMAND check
        ]
    )
    assert app.health_checks == (
        HealthCheck(protocol="HTTP", path="/health", port_index=0),
        HealthCheck(protocol="TCP", port=9000),
        HealthCheck(protocol="COMMAND", command="curl -f localhost"),
    )
    explicit = parse(portDefinitions=[], healthChecks=[{"protocol": "HTTP", "port": 80}])
    assert explicit.health_checks[0].port_index is None


def test_unreachable_strategy_forms() -> None:
    assert parse(unreachableStrategy="disabled").unreachable_strategy.disabled
    given_ = {"inactiveAfterSeconds": 300, "expungeAfterSeconds": 600}
    assert parse(unreachableStrategy=given_).unreachable_strategy == UnreachableStrategy(300, 600)


# --- partial updates, versions, service ports ------------------------------------------------


def test_merge_update_replaces_top_level_keys_only() -> None:
    old = parse(instances=1, env={"A": "1"}, labels={"x": "y"})
    merged = merge_update(app_json(old), {"instances": 3, "env": {"B": "2"}, "id": "/other"})
    new = parse_app(merged, version=V)
    assert new == replace(old, instances=3, env={"B": "2"})


def test_merge_update_null_resets_to_default() -> None:
    old = parse(env={"A": "1"}, cpus=2)
    new = parse_app(merge_update(app_update_json(old), {"env": None, "cpus": None}), version=V)
    assert new == replace(old, env={}, cpus=1.0)


@pytest.mark.parametrize(
    ("patch", "check"),
    [
        ({"args": ["sleep", "5"]}, lambda a: a.cmd is None and a.args == ("sleep", "5")),
        ({"ports": [0, 0]}, lambda a: a.port_definitions == (PortDefinition(0),) * 2),
    ],
)
def test_merge_update_switches_between_exclusive_forms(patch: dict[str, Any], check: Any) -> None:
    old = parse(portDefinitions=[{"port": 0, "name": "http"}])
    assert check(parse_app(merge_update(app_json(old), patch), version=V))


@pytest.mark.parametrize("patch", [[], "instances=3", None])
def test_merge_update_needs_an_object(patch: Any) -> None:
    with pytest.raises(InvalidDefinition) as caught:
        merge_update(app_json(parse()), patch)
    assert caught.value.details[0]["path"] == "/"


def test_merge_update_refuses_version_with_other_fields() -> None:
    with pytest.raises(InvalidDefinition) as caught:
        merge_update(app_json(parse()), {"version": "2015-09-29T15:59:51.164Z", "cmd": "x"})
    message = "The 'version' field may only be combined with the 'id' field."
    assert caught.value.details == [{"path": "/version", "errors": [message]}]


def test_next_version() -> None:
    first = next_version(parse(), None, 100.0)
    assert (first.version, first.last_config_change_at, first.last_scaling_at) == (100.0,) * 3
    scaled = next_version(replace(first, instances=5), first, 200.0)
    assert (scaled.version, scaled.last_config_change_at, scaled.last_scaling_at) == (
        200.0,
        100.0,
        200.0,
    )
    changed = next_version(replace(scaled, cmd="sleep 1", instances=6), scaled, 300.0)
    assert (changed.version, changed.last_config_change_at, changed.last_scaling_at) == (
        300.0,
        300.0,
        300.0,
    )


def test_assign_service_ports_takes_the_lowest_free() -> None:
    app = parse(portDefinitions=[{"port": 0}, {"port": 10001}, {"port": 0}])
    done = assign_service_ports(app, {10000, 10003}, 10000, 10010)
    # 10000 used elsewhere, 10001 is this app's own fixed port, 10003 used elsewhere.
    assert [p.port for p in done.port_definitions] == [10002, 10001, 10004]


def test_assign_service_ports_leaves_fixed_ports_alone() -> None:
    app = parse(portDefinitions=[{"port": 80}])
    assert assign_service_ports(app, set(), 10000, 10010) is app


def test_assign_service_ports_when_the_range_is_exhausted() -> None:
    app = parse(portDefinitions=[{"port": 0}, {"port": 0}])
    with pytest.raises(InvalidDefinition) as caught:
        assign_service_ports(app, {10000}, 10000, 10001)
    assert caught.value.details == [
        {"path": "/portDefinitions", "errors": ["no free service port left in [10000, 10001]"]}
    ]


# --- the response JSON -----------------------------------------------------------------------

FULL: dict[str, Any] = {
    "id": "/prod/web",
    "cmd": "python3 -m http.server $PORT0",
    "cpus": 0.5,
    "mem": 64,
    "instances": 3,
    "env": {"MODE": "prod"},
    "labels": {"HAPROXY_GROUP": "external"},
    "constraints": [["hostname", "UNIQUE"], ["rack", "MAX_PER", "2"], ["rack", "LIKE", "r[0-9]"]],
    "acceptedResourceRoles": ["*"],
    "portDefinitions": [
        {"port": 10000, "name": "http", "labels": {"VIP_0": "/web:80"}},
        {"port": 10001, "protocol": "udp"},
    ],
    "healthChecks": [
        {"protocol": "HTTP", "path": "/health", "portIndex": 0, "ignoreHttp1xx": True},
        {"protocol": "TCP", "portIndex": 1, "gracePeriodSeconds": 10},
        {"protocol": "MESOS_HTTP", "path": "/ready", "port": 10000},
        {"protocol": "HTTPS", "port": 8443, "maxConsecutiveFailures": 0},
    ],
    "dependencies": ["/prod/db"],
    "upgradeStrategy": {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0.25},
    "unreachableStrategy": {"inactiveAfterSeconds": 60, "expungeAfterSeconds": 120},
    "killSelection": "OLDEST_FIRST",
    "taskKillGracePeriodSeconds": 5,
    "user": "nobody",
}
COMMAND_APP: dict[str, Any] = {
    "id": "/prod/worker",
    "args": ["sleep", "1000"],
    "portDefinitions": [],
    "healthChecks": [{"protocol": "COMMAND", "command": {"value": "test -f /tmp/ok"}}],
    "unreachableStrategy": "disabled",
}


def test_app_json_emits_only_whitelisted_keys_and_always_cmd_args_container() -> None:
    for raw in (FULL, COMMAND_APP, BASE):
        doc = app_json(parse_app(raw, version=V))
        assert set(doc) <= APP_KEYS
        assert {"cmd", "args", "container"} <= set(doc)
        assert doc["container"] is None
    assert app_json(parse())["args"] is None
    assert app_json(parse_app(COMMAND_APP, version=V))["cmd"] is None


def test_app_json_shape() -> None:
    app = replace(parse_app(FULL, version=V), last_config_change_at=V - 60, last_scaling_at=V)
    doc = app_json(app)
    assert doc["ports"] == [10000, 10001]
    assert doc["portDefinitions"] == [
        {"port": 10000, "protocol": "tcp", "name": "http", "labels": {"VIP_0": "/web:80"}},
        {"port": 10001, "protocol": "udp", "labels": {}},
    ]
    assert doc["healthChecks"][0] == {
        "protocol": "HTTP",
        "path": "/health",
        "portIndex": 0,
        "gracePeriodSeconds": 300,
        "intervalSeconds": 60,
        "timeoutSeconds": 20,
        "maxConsecutiveFailures": 3,
        "delaySeconds": 15,
        "ignoreHttp1xx": True,
    }
    assert doc["healthChecks"][2]["port"] == 10000
    assert "portIndex" not in doc["healthChecks"][2]
    assert doc["constraints"][1] == ["rack", "MAX_PER", "2"]
    assert doc["version"] == "2015-09-29T15:59:51.164Z"
    assert doc["versionInfo"] == {
        "lastScalingAt": "2015-09-29T15:59:51.164Z",
        "lastConfigChangeAt": "2015-09-29T15:58:51.164Z",
    }
    assert doc["unreachableStrategy"] == {"inactiveAfterSeconds": 60, "expungeAfterSeconds": 120}
    assert doc["upgradeStrategy"] == {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0.25}
    assert doc["acceptedResourceRoles"] == ["*"]
    assert doc["taskKillGracePeriodSeconds"] == 5
    assert (doc["executor"], doc["fetch"], doc["secrets"]) == ("", [], {})
    assert doc["networks"] == [{"mode": "host"}]
    assert (doc["cpus"], doc["mem"], doc["disk"], doc["gpus"]) == (0.5, 64.0, 0.0, 0)


def test_app_json_of_a_command_app() -> None:
    doc = app_json(parse_app(COMMAND_APP, version=V))
    assert doc["healthChecks"] == [
        {
            "protocol": "COMMAND",
            "command": {"value": "test -f /tmp/ok"},
            "gracePeriodSeconds": 300,
            "intervalSeconds": 60,
            "timeoutSeconds": 20,
            "maxConsecutiveFailures": 3,
            "delaySeconds": 15,
        }
    ]
    assert doc["unreachableStrategy"] == "disabled"
    assert doc["args"] == ["sleep", "1000"]
    assert (doc["ports"], doc["portDefinitions"]) == ([], [])
    assert "taskKillGracePeriodSeconds" not in doc
    assert doc["acceptedResourceRoles"] is None


def test_app_json_merges_whitelisted_extras() -> None:
    extra = {"tasksRunning": 2, "tasksStaged": 0, "deployments": [{"id": "d1"}], "tasks": []}
    doc = app_json(parse(), extra=extra)
    assert doc["tasksRunning"] == 2 and doc["deployments"] == [{"id": "d1"}]


@pytest.mark.parametrize("key", ["tty", "enforceRole", "check", "resourceLimits", "instanceId"])
def test_app_json_refuses_keys_marathon_python_would_choke_on(key: str) -> None:
    with pytest.raises(ValueError, match=key):
        app_json(parse(), extra={"tasksRunning": 1, key: None})


# --- marathon-python 0.13.0 ------------------------------------------------------------------


def _client_round_trip(app: AppDefinition, *, minimal: bool) -> AppDefinition:
    """What `MarathonClient.update_app` does: parse our JSON, null the version, send the
    object's JSON back as a partial update."""
    marathon = marathon_module()
    model = marathon.models.MarathonApp.from_json(app_json(app, extra={"tasksRunning": 1}))
    model.version = None
    patch = json.loads(model.to_json(minimal=minimal))
    return parse_app(merge_update(app_json(app), patch), version=app.version)


@pytest.mark.parametrize("raw", [FULL, COMMAND_APP, BASE], ids=["full", "command", "minimal"])
@pytest.mark.parametrize("minimal", [True, False])
def test_marathon_python_parses_our_json_and_sends_back_the_same_app(
    raw: dict[str, Any], minimal: bool
) -> None:
    app = parse_app(raw, version=V)
    model = marathon_module().models.MarathonApp.from_json(app_json(app))
    assert model.id == app.id
    assert len(model.health_checks) == len(app.health_checks)
    assert [c.operator for c in model.constraints] == [c.operator for c in app.constraints]
    assert _client_round_trip(app, minimal=minimal) == app


def test_marathon_python_scale_app_is_a_partial_update() -> None:
    app = parse_app(FULL, version=V)
    assert parse_app(merge_update(app_json(app), {"instances": 7}), version=V) == replace(
        app, instances=7
    )


# --- properties ------------------------------------------------------------------------------

_SEGMENT = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,5}[a-z0-9])?", fullmatch=True).filter(
    lambda s: s not in ("restart", "tasks", "versions")
)
_IDS = st.lists(_SEGMENT, min_size=1, max_size=3).map(lambda parts: "/" + "/".join(parts))
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8)
_CONSTRAINTS = st.sampled_from(
    [
        ["hostname", "UNIQUE"],
        ["rack", "CLUSTER", "r1"],
        ["rack", "GROUP_BY"],
        ["rack", "GROUP_BY", "2"],
        ["rack", "LIKE", "r[0-9]+"],
        ["rack", "UNLIKE", "r9"],
        ["hostname", "MAX_PER", "3"],
        ["os", "IS", "linux"],
    ]
)
_SECONDS = st.integers(min_value=0, max_value=3600)


@st.composite
def raw_apps(draw: st.DrawFn) -> dict[str, Any]:
    raw: dict[str, Any] = {"id": draw(_IDS)}
    if draw(st.booleans()):
        raw["cmd"] = draw(_TEXT.filter(bool))
    else:
        raw["args"] = draw(st.lists(_TEXT, min_size=1, max_size=3))
    ports = draw(st.none() | st.lists(st.integers(0, 65535), max_size=3, unique=True))
    if ports is not None:
        names = draw(st.booleans())
        raw["portDefinitions"] = [
            {"port": p, "protocol": draw(st.sampled_from(["tcp", "udp", "udp,tcp"]))}
            | ({"name": f"p{i}"} if names else {})
            # Non-empty values: marathon-python's minimal JSON drops "" inside nested objects.
            | {"labels": draw(st.dictionaries(_TEXT, _TEXT.filter(bool), max_size=2))}
            for i, p in enumerate(ports)
        ]
    port_count = 1 if ports is None else len(ports)
    checks: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 2))):
        check: dict[str, Any] = {"protocol": draw(st.sampled_from(["HTTP", "HTTPS", "TCP"]))}
        if port_count and draw(st.booleans()):
            check["portIndex"] = draw(st.integers(0, port_count - 1))
        else:
            check["port"] = draw(st.integers(1, 65535))
        check["path"] = draw(st.none() | st.just("/health"))
        check["gracePeriodSeconds"] = draw(_SECONDS)
        check["intervalSeconds"] = draw(st.integers(1, 600))
        check["maxConsecutiveFailures"] = draw(st.integers(0, 10))
        check["ignoreHttp1xx"] = draw(st.booleans())
        checks.append(check)
    if draw(st.booleans()):
        checks.append({"protocol": "COMMAND", "command": {"value": draw(_TEXT.filter(bool))}})
    raw["healthChecks"] = checks
    optional = st.fixed_dictionaries(
        {},
        optional={
            "cpus": st.floats(0.001, 64),
            "mem": st.floats(0, 1e6),
            "disk": st.floats(0, 1e6),
            "instances": st.integers(0, 1000),
            "env": st.dictionaries(_TEXT.filter(bool), _TEXT, max_size=3),
            "labels": st.dictionaries(_TEXT, _TEXT, max_size=3),
            "constraints": st.lists(_CONSTRAINTS, max_size=3),
            "acceptedResourceRoles": st.lists(st.sampled_from(["*", "public"]), min_size=1),
            "role": st.sampled_from(["*", "marathon", "slave_public"]),
            "dependencies": st.lists(_IDS, max_size=2),
            "upgradeStrategy": st.fixed_dictionaries(
                {"minimumHealthCapacity": st.floats(0, 1), "maximumOverCapacity": st.floats(0, 1)}
            ),
            "backoffSeconds": st.floats(0, 100),
            "backoffFactor": st.floats(1, 10),
            "maxLaunchDelaySeconds": st.floats(0, 3600),
            "killSelection": st.sampled_from(["YOUNGEST_FIRST", "OLDEST_FIRST"]),
            "unreachableStrategy": st.just("disabled")
            | st.tuples(_SECONDS, _SECONDS).map(
                lambda t: {"inactiveAfterSeconds": min(t), "expungeAfterSeconds": max(t)}
            ),
            "taskKillGracePeriodSeconds": _SECONDS,
            "user": st.sampled_from(["root", "nobody"]),
        },
    )
    return raw | draw(optional)


def _via_json(doc: Any) -> Any:
    return json.loads(json.dumps(doc))


@given(raw_apps(), st.floats(0, 4e9))
def test_update_json_round_trips(raw: dict[str, Any], version: float) -> None:
    app = parse_app(raw, version=version)
    assert parse_app(_via_json(app_update_json(app)), version=version) == app


@given(raw_apps(), st.floats(0, 4e9), st.floats(0, 4e9), st.floats(0, 4e9))
def test_stored_json_round_trips_exactly(
    raw: dict[str, Any], version: float, config_at: float, scaling_at: float
) -> None:
    app = parse_app(raw, version=0.0)
    if not app.require_ports:
        app = assign_service_ports(app, set(), 10000, 20000)
    app = replace(app, version=version, last_config_change_at=config_at, last_scaling_at=scaling_at)
    assert from_stored(_via_json(stored_json(app))) == app


@given(raw_apps())
def test_marathon_python_round_trips_any_app(raw: dict[str, Any]) -> None:
    app = parse_app(raw, version=V)
    assert set(app_json(app)) <= APP_KEYS
    assert _client_round_trip(app, minimal=True) == app


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"id": "/web", "cmd": "x", "version": 5},
        {"version": "2015-09-29T15:59:51.164Z"},
        {"id": "/web", "cmd": "x", "versionInfo": None},
    ],
)
def test_from_stored_refuses_what_is_not_stored(raw: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="not a stored app"):
        from_stored(raw)
