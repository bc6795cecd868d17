"""Matching an offer against an app and the TaskInfo built from a match."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemons.marathon.constraints import Placement
from daemons.marathon.model import (
    AppDefinition,
    Constraint,
    HealthCheck,
    PortDefinition,
)
from daemons.marathon.offers import Match, NoMatch, match, subtract
from daemons.marathon.task_info import health_check_json, task_env, task_name
from daemons.mesos_client.events import AttributeValue, Offer
from daemons.protocols.resources import Range, Resources, flatten

JSON = dict[str, Any]
TASK_ID = "prod_web.6f1c7f5e-0000-4000-8000-000000000001"
VERSION = "2015-09-29T15:59:51.164Z"


def res(
    cpus: float = 0.0, mem: float = 0.0, disk: float = 0.0, gpus: float = 0.0, ports: Any = ()
) -> Resources:
    return Resources.of({"cpus": cpus, "mem": mem, "disk": disk, "gpus": gpus}, {"ports": ports})


def make_offer(
    resources: Mapping[str, Resources] | None = None,
    *,
    hostname: str = "a1.example",
    attributes: Mapping[str, AttributeValue] | None = None,
    allocation_role: str | None = None,
    raw: JSON | None = None,
) -> Offer:
    return Offer(
        id="o1",
        framework_id="f1",
        agent_id="S1",
        hostname=hostname,
        resources=resources
        if resources is not None
        else {"*": res(4, 4096, 1000, ports=[(31000, 31009)])},
        attributes=attributes or {},
        allocation_role=allocation_role,
        raw=raw or {},
    )


def make_app(**fields: Any) -> AppDefinition:
    defaults: dict[str, Any] = {"id": "/prod/web", "cmd": "./serve", "cpus": 0.5, "mem": 64.0}
    return AppDefinition(**{**defaults, **fields})


def launch(app: AppDefinition, offer: Offer | None = None, **kwargs: Any) -> Match | NoMatch:
    return match(
        app, offer or make_offer(), kwargs.pop("placed", []), task_id=TASK_ID,
        version_label=VERSION, **kwargs,
    )  # fmt: skip


def launched(app: AppDefinition, offer: Offer | None = None, **kwargs: Any) -> Match:
    result = launch(app, offer, **kwargs)
    assert isinstance(result, Match), result
    return result


def env_of(task_info: JSON) -> dict[str, str]:
    variables = task_info["command"]["environment"]["variables"]
    return {v["name"]: v["value"] for v in variables}


# --- the whole TaskInfo ------------------------------------------------------------------------


def test_a_launched_task_info_in_full() -> None:
    app = make_app(
        port_definitions=(PortDefinition(10000, name="http", labels={"VIP_0": "/web:80"}),),
        labels={"team": "core"},
        disk=10.0,
        user="nobody",
        task_kill_grace_period_seconds=30,
    )
    m = launched(app, make_offer(allocation_role="slave_public"))
    assert m.host_ports == (31000,)
    assert (m.agent_id, m.hostname) == ("S1", "a1.example")
    alloc = {"allocation_info": {"role": "slave_public"}}
    scalar = {"type": "SCALAR", "role": "*", **alloc}
    assert m.task_info == {
        "name": "web.prod",
        "task_id": {"value": TASK_ID},
        "agent_id": {"value": "S1"},
        "resources": [
            {"name": "cpus", "scalar": {"value": 0.5}, **scalar},
            {"name": "disk", "scalar": {"value": 10.0}, **scalar},
            {"name": "mem", "scalar": {"value": 64.0}, **scalar},
            {
                "name": "ports",
                "type": "RANGES",
                "ranges": {"range": [{"begin": 31000, "end": 31000}]},
                "role": "*",
                **alloc,
            },
        ],
        "command": {
            "value": "./serve",
            "shell": True,
            "environment": {
                "variables": [
                    {"name": k, "value": v}
                    for k, v in sorted(env_of(m.task_info).items())  # checked exactly below
                ]
            },
            "user": "nobody",
        },
        "labels": {"labels": [{"key": "team", "value": "core"}]},
        "discovery": {
            "visibility": "FRAMEWORK",
            "name": "web.prod",
            "ports": {
                "ports": [
                    {
                        "number": 31000,
                        "protocol": "tcp",
                        "name": "http",
                        "labels": {"labels": [{"key": "VIP_0", "value": "/web:80"}]},
                    }
                ]
            },
        },
        "kill_policy": {"grace_period": {"nanoseconds": 30_000_000_000}},
    }
    assert env_of(m.task_info) == {
        "MESOS_TASK_ID": TASK_ID,
        "MARATHON_APP_ID": "/prod/web",
        "MARATHON_APP_VERSION": VERSION,
        "MARATHON_APP_RESOURCE_CPUS": "0.5",
        "MARATHON_APP_RESOURCE_MEM": "64.0",
        "MARATHON_APP_RESOURCE_DISK": "10.0",
        "MARATHON_APP_RESOURCE_GPUS": "0",
        "MARATHON_APP_LABELS": "TEAM",
        "MARATHON_APP_LABEL_TEAM": "core",
        "HOST": "a1.example",
        "PORT0": "31000",
        "PORT_10000": "31000",
        "PORT_HTTP": "31000",
        "PORT": "31000",
        "PORTS": "31000",
    }


@pytest.mark.parametrize(
    ("app_id", "name"), [("/web", "web"), ("/prod/web", "web.prod"), ("/a/b/c", "c.b.a")]
)
def test_task_names_are_the_reversed_path(app_id: str, name: str) -> None:
    assert task_name(app_id) == name


def test_the_full_environment_with_several_ports_labels_and_an_override() -> None:
    app = make_app(
        cpus=1.0,
        mem=128.0,
        gpus=1,
        port_definitions=(
            PortDefinition(10001, name="http"),
            PortDefinition(0),  # no number of its own: named after the host port
            PortDefinition(10003, protocol="udp", name="dns"),
        ),
        labels={"HAPROXY_GROUP": "external", "app.kubernetes/name": "x"},
        env={"PORT": "8080", "EXTRA": "1"},
    )
    env = task_env(app, "t1", "h1", (31002, 31005, 31007), "v1")
    assert env == {
        "MESOS_TASK_ID": "t1",
        "MARATHON_APP_ID": "/prod/web",
        "MARATHON_APP_VERSION": "v1",
        "MARATHON_APP_RESOURCE_CPUS": "1.0",
        "MARATHON_APP_RESOURCE_MEM": "128.0",
        "MARATHON_APP_RESOURCE_DISK": "0.0",
        "MARATHON_APP_RESOURCE_GPUS": "1",
        "MARATHON_APP_LABELS": "HAPROXY_GROUP APP_KUBERNETES_NAME",
        "MARATHON_APP_LABEL_HAPROXY_GROUP": "external",
        "MARATHON_APP_LABEL_APP_KUBERNETES_NAME": "x",
        "HOST": "h1",
        "PORT0": "31002",
        "PORT1": "31005",
        "PORT2": "31007",
        "PORT_10001": "31002",
        "PORT_31005": "31005",
        "PORT_10003": "31007",
        "PORT_HTTP": "31002",
        "PORT_DNS": "31007",
        "PORT": "8080",  # the app's env wins over Marathon's
        "PORTS": "31002,31005,31007",
        "EXTRA": "1",
    }


def test_an_app_without_ports_or_labels_gets_no_port_variables() -> None:
    env = task_env(make_app(), "t1", "h1", (), "v1")
    assert env["MARATHON_APP_LABELS"] == ""
    assert not [k for k in env if k.startswith("PORT")]


def test_oversized_labels_are_left_out_of_the_environment() -> None:
    env = task_env(make_app(labels={"big": "x" * 512, "ok": "y"}), "t1", "h1", (), "v1")
    assert env["MARATHON_APP_LABELS"] == "OK"
    assert "MARATHON_APP_LABEL_BIG" not in env


@pytest.mark.parametrize(
    ("fields", "command"),
    [
        ({"cmd": "echo hi"}, {"value": "echo hi", "shell": True}),
        (
            {"cmd": None, "args": ("/bin/server", "--port", "80")},
            {"value": "/bin/server", "shell": False, "arguments": ["/bin/server", "--port", "80"]},
        ),
        ({"cmd": None}, {"shell": False}),
    ],
)
def test_command_forms(fields: dict[str, Any], command: JSON) -> None:
    got = dict(launched(make_app(**fields)).task_info["command"])
    got.pop("environment")
    assert got == command


def test_fetch_becomes_command_uris() -> None:
    app = make_app(fetch=({"uri": "https://x/a.tgz", "extract": True, "destPath": "b.tgz"},))
    uris = launched(app).task_info["command"]["uris"]
    assert uris == [{"value": "https://x/a.tgz", "extract": True, "output_file": "b.tgz"}]


def test_no_kill_policy_or_health_check_unless_asked() -> None:
    task_info = launched(make_app()).task_info
    assert "kill_policy" not in task_info
    assert "health_check" not in task_info
    assert task_info["discovery"]["ports"] == {"ports": []}


def test_discovery_splits_protocols_as_marathon_does() -> None:
    app = make_app(port_definitions=(PortDefinition(0, protocol="udp,tcp", name="dns"),))
    ports = launched(app).task_info["discovery"]["ports"]["ports"]
    assert ports == [
        {"number": 31000, "protocol": "udp", "name": "dns"},
        {"number": 31000, "protocol": "tcp", "name": "dns"},
    ]


# --- health checks -----------------------------------------------------------------------------

TIMES = {
    "delay_seconds": 15.0,
    "interval_seconds": 60.0,
    "timeout_seconds": 20.0,
    "consecutive_failures": 3,
    "grace_period_seconds": 300.0,
}


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        (
            HealthCheck("MESOS_HTTP", path="/ping", port_index=1),
            {"type": "HTTP", "http": {"scheme": "http", "port": 31001, "path": "/ping"}},
        ),
        (
            HealthCheck("MESOS_HTTPS", port=8443),
            {"type": "HTTP", "http": {"scheme": "https", "port": 8443}},
        ),
        (HealthCheck("MESOS_TCP"), {"type": "TCP", "tcp": {"port": 31000}}),
        (
            HealthCheck("COMMAND", command="test -f /tmp/ok"),
            {"type": "COMMAND", "command": {"shell": True, "value": "test -f /tmp/ok"}},
        ),
        (HealthCheck("HTTP", path="/"), None),
        (HealthCheck("HTTPS", path="/"), None),
        (HealthCheck("TCP"), None),
        (HealthCheck("MESOS_TCP", port_index=5), None),  # no such port
        (HealthCheck("COMMAND"), None),
    ],
)
def test_executor_side_health_checks(check: HealthCheck, expected: JSON | None) -> None:
    built = health_check_json(check, (31000, 31001))
    assert built == (None if expected is None else {**expected, **TIMES})


def test_health_check_timings_are_copied() -> None:
    check = HealthCheck(
        "MESOS_TCP",
        port_index=0,
        grace_period_seconds=5,
        interval_seconds=2,
        timeout_seconds=1,
        max_consecutive_failures=0,
        delay_seconds=0,
    )
    assert health_check_json(check, (31000,)) == {
        "type": "TCP",
        "tcp": {"port": 31000},
        "delay_seconds": 0.0,
        "interval_seconds": 2.0,
        "timeout_seconds": 1.0,
        "consecutive_failures": 0,
        "grace_period_seconds": 5.0,
    }


def test_only_the_first_executor_side_check_goes_into_the_task() -> None:
    app = make_app(
        port_definitions=(PortDefinition(0),),
        health_checks=(
            HealthCheck("HTTP", path="/"),  # probed by Marathon
            HealthCheck("COMMAND", command="true"),
            HealthCheck("MESOS_TCP"),
        ),
    )
    check = launched(app).task_info["health_check"]
    assert check["type"] == "COMMAND"


# --- resources and roles -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resources", "reasons"),
    [
        ({"*": res(0.4, 1000, 100)}, ("InsufficientCpus",)),
        ({"*": res(1, 63, 100)}, ("InsufficientMemory",)),
        ({"*": res(1, 100, 5)}, ("InsufficientDisk",)),
        ({"*": res(0.1, 10, 0)}, ("InsufficientCpus", "InsufficientMemory", "InsufficientDisk")),
    ],
)
def test_scalar_shortfalls_are_named(resources: dict[str, Resources], reasons: tuple[str]) -> None:
    result = launch(make_app(disk=10.0), make_offer(resources))
    assert result == NoMatch(reasons)


def test_gpus_are_matched_only_when_asked_for() -> None:
    assert launch(make_app(gpus=1)) == NoMatch(("InsufficientGpus",))
    m = launched(make_app(gpus=1), make_offer({"*": res(1, 100, gpus=2)}))
    assert m.consumed == {"*": res(0.5, 64, gpus=1)}


@pytest.mark.parametrize(
    ("role", "accepted", "offer_roles", "matches"),
    [
        ("*", None, ["*"], True),
        ("*", None, ["slave_public"], False),
        ("dev", None, ["dev"], True),
        ("dev", None, ["*"], True),
        ("dev", None, ["ops"], False),
        ("*", ("slave_public",), ["slave_public"], True),
        ("*", ("slave_public",), ["*"], False),  # "*" only when listed
        ("*", ("*", "slave_public"), ["*"], True),
        ("dev", ("dev",), ["*"], False),
        ("dev", ("*",), ["dev"], False),
    ],
)
def test_roles(
    role: str, accepted: tuple[str, ...] | None, offer_roles: list[str], matches: bool
) -> None:
    app = make_app(role=role, accepted_resource_roles=accepted)
    offer = make_offer({r: res(4, 4096, 100, ports=[(31000, 31009)]) for r in offer_roles})
    result = launch(app, offer)
    if matches:
        assert isinstance(result, Match)
        assert set(result.consumed) <= set(offer_roles)
    else:
        assert isinstance(result, NoMatch)
        assert result.reasons[0] == "UnfulfilledRole"


def test_reserved_resources_are_used_first_and_topped_up_from_unreserved() -> None:
    app = make_app(role="dev", cpus=1.0, mem=64.0, port_definitions=(PortDefinition(0),) * 2)
    offer = make_offer(
        {"dev": res(0.25, 100, ports=[(31005, 31005)]), "*": res(4, 4096, ports=[(31000, 31000)])},
        allocation_role="dev",
    )
    m = launched(app, offer)
    assert m.consumed == {
        "dev": res(0.25, 64, ports=[(31005, 31005)]),
        "*": res(0.75, ports=[(31000, 31000)]),
    }
    assert m.host_ports == (31000, 31005)
    roles = {(r["name"], r["role"]) for r in m.task_info["resources"]}
    assert roles == {
        ("cpus", "dev"),
        ("cpus", "*"),
        ("mem", "dev"),
        ("ports", "dev"),
        ("ports", "*"),
    }
    dev_cpus = next(r for r in m.task_info["resources"] if r["role"] == "dev")
    assert dev_cpus["reservations"] == [{"type": "STATIC", "role": "dev"}]
    assert dev_cpus["allocation_info"] == {"role": "dev"}


# --- ports -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "require", "ranges", "host_ports"),
    [
        ((0,), False, [(31000, 31009)], (31000,)),
        ((0, 0, 0), False, [(31000, 31000), (31005, 31006)], (31000, 31005, 31006)),
        ((80, 443), False, [(31000, 31009)], (31000, 31001)),  # numbers are service ports
        ((31003, 31001), True, [(31000, 31009)], (31003, 31001)),
        ((31003, 0), True, [(31003, 31004)], (31003, 31004)),
        ((0, 31000), True, [(31000, 31001)], (31001, 31000)),  # the fixed one is kept free
        ((), False, [], ()),
        ((0, 0), False, [(31000, 31000)], None),
        ((80,), True, [(31000, 31009)], None),
        ((31000, 31000), True, [(31000, 31009)], None),
        ((0,), False, [], None),
    ],
)
def test_ports(
    declared: tuple[int, ...],
    require: bool,
    ranges: list[Range],
    host_ports: tuple[int, ...] | None,
) -> None:
    app = make_app(
        port_definitions=tuple(PortDefinition(p) for p in declared), require_ports=require
    )
    result = launch(app, make_offer({"*": res(4, 4096, ports=ranges)}))
    if host_ports is None:
        assert result == NoMatch(("InsufficientPorts",))
    else:
        assert isinstance(result, Match)
        assert result.host_ports == host_ports
        assert result.consumed["*"].ranges.get("ports", ()) == Resources.of(
            ranges={"ports": [(p, p) for p in host_ports]}
        ).ranges.get("ports", ())


def test_ports_are_only_checked_once_everything_else_fits() -> None:
    app = make_app(cpus=8.0, port_definitions=(PortDefinition(0),))
    assert launch(app, make_offer({"*": res(1, 4096)})) == NoMatch(("InsufficientCpus",))


def test_a_second_launch_from_the_same_offer_uses_what_is_left() -> None:
    app = make_app(cpus=1.5, port_definitions=(PortDefinition(0),))
    offer = make_offer({"*": res(3.5, 4096, ports=[(31000, 31001)])})
    first = launched(app, offer)
    left = subtract(offer.resources, first.consumed)
    assert left == {"*": res(2, 4032, ports=[(31001, 31001)])}
    second = launched(app, offer, available=left)
    assert second.host_ports == (31001,)
    left = subtract(left, second.consumed)
    assert left == {"*": res(0.5, 3968)}
    assert launch(app, offer, available=left) == NoMatch(("InsufficientCpus",))


def test_subtract_drops_exhausted_roles() -> None:
    assert subtract({"dev": res(1, 64), "*": res(2)}, {"dev": res(1, 64)}) == {"*": res(2)}


# --- constraints and fault domains -------------------------------------------------------------


def test_a_violated_constraint_is_reported_with_the_constraint() -> None:
    unique = Constraint("hostname", "UNIQUE")
    app = make_app(constraints=(unique,))
    placed = [Placement("a1.example", {})]
    assert launch(app, placed=placed) == NoMatch(("UnfulfilledConstraint",), unique)
    assert isinstance(launch(app, placed=[Placement("a2.example", {})]), Match)


def test_constraints_and_roles_are_reported_with_the_scalar_shortfalls() -> None:
    app = make_app(constraints=(Constraint("rack", "IS", "a"),))
    result = launch(app, make_offer({"ops": res(4, 4096)}))
    assert isinstance(result, NoMatch)
    assert result.reasons == (
        "UnfulfilledRole",
        "UnfulfilledConstraint",
        "InsufficientCpus",
        "InsufficientMemory",
    )


def test_zone_constraints_read_the_offers_fault_domain() -> None:
    domain = {"fault_domain": {"region": {"name": "eu"}, "zone": {"name": "eu-1"}}}
    offer = make_offer(raw={"domain": domain})
    app = make_app(constraints=(Constraint("@zone", "IS", "eu-1"),))
    assert isinstance(launch(app, offer), Match)
    assert isinstance(launch(app, make_offer()), NoMatch)
    other_zone = make_app(constraints=(Constraint("@region", "UNIQUE"),))
    placed = [Placement("h9", {}, region="eu", zone="eu-2")]
    assert isinstance(launch(other_zone, offer, placed=placed), NoMatch)


def test_attribute_constraints_read_the_offers_attributes() -> None:
    app = make_app(constraints=(Constraint("level", "MAX_PER", "1"),))
    offer = make_offer(attributes={"level": 3.0})
    assert isinstance(launch(app, offer, placed=[Placement("h2", {"level": 2.0})]), Match)
    assert isinstance(launch(app, offer, placed=[Placement("h2", {"level": 3.0})]), NoMatch)


# --- invariants --------------------------------------------------------------------------------

role_names = st.sampled_from(["*", "dev", "slave_public"])
port_ranges = st.lists(
    st.tuples(st.integers(1000, 1100), st.integers(0, 8)).map(lambda t: (t[0], t[0] + t[1])),
    min_size=1,
    max_size=3,
)
role_resources = st.builds(
    lambda c, m, d, p: res(c, m, d, ports=p),
    st.integers(0, 4000).map(lambda n: n / 1000),
    st.integers(0, 512).map(float),
    st.integers(0, 50).map(float),
    port_ranges,
)


def _disjoint_ports(by_role: dict[str, Resources]) -> dict[str, Resources]:
    """A port belongs to one role at a time on an agent: shift each role's ranges apart."""
    out = {}
    for i, (role, r) in enumerate(sorted(by_role.items())):
        shifted = tuple((b + 200 * i, e + 200 * i) for b, e in r.ranges.get("ports", ()))
        out[role] = Resources(scalars=dict(r.scalars), ranges={"ports": shifted}, sets={})
    return out


offers = st.builds(
    lambda by_role: make_offer(_disjoint_ports(by_role)),
    st.dictionaries(role_names, role_resources, min_size=1, max_size=3),
)
apps = st.builds(
    lambda cpus, mem, disk, ports, require, role, accepted: make_app(
        cpus=cpus,
        mem=mem,
        disk=disk,
        port_definitions=tuple(PortDefinition(p) for p in ports),
        require_ports=require,
        role=role,
        accepted_resource_roles=accepted,
    ),
    st.integers(1, 2000).map(lambda n: n / 1000),
    st.integers(1, 256).map(float),
    st.integers(0, 20).map(float),
    st.lists(st.one_of(st.just(0), st.integers(1000, 1110)), max_size=3),
    st.booleans(),
    role_names,
    st.one_of(st.none(), st.lists(role_names, min_size=1, max_size=2).map(tuple)),
)


@given(apps, offers)
def test_a_match_never_takes_more_than_is_available(app: AppDefinition, offer: Offer) -> None:
    result = launch(app, offer)
    if isinstance(result, NoMatch):
        assert result.reasons
        return
    for role, taken in result.consumed.items():
        assert offer.resources[role].contains(taken), (role, taken)
    ports = result.host_ports
    assert len(set(ports)) == len(ports) == len(app.port_definitions)
    offered = flatten(offer.resources).ranges.get("ports", ())
    assert all(any(b <= p <= e for b, e in offered) for p in ports)
    taken_total = flatten(result.consumed)
    assert taken_total.scalar("cpus") == pytest.approx(app.cpus)
    assert taken_total.scalar("mem") == pytest.approx(app.mem)
    assert subtract(offer.resources, result.consumed) is not None


@given(apps, offers)
def test_launching_until_no_match_never_oversubscribes(app: AppDefinition, offer: Offer) -> None:
    left: Mapping[str, Resources] = offer.resources
    seen_ports: list[int] = []
    for _ in range(20):
        result = launch(app, offer, available=left)
        if isinstance(result, NoMatch):
            break
        for role, taken in result.consumed.items():
            assert left[role].contains(taken)
        seen_ports.extend(result.host_ports)
        left = subtract(left, result.consumed)
    assert len(set(seen_ports)) == len(seen_ports)
