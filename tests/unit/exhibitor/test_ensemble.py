"""Exhibitor's pure core: servers specs, zoo.cfg, myid, instance states, and the config checks."""

from __future__ import annotations

import pytest

from daemons.kit.config import ConfigError, from_mapping
from exhibitor.config import ExhibitorConfig
from exhibitor.ensemble import (
    DOWN,
    NOT_SERVING,
    SERVING,
    Server,
    SpecError,
    myid,
    parse_servers_spec,
    servers_spec,
    state_from_srvr,
    zoo_cfg,
)


def test_both_spec_forms() -> None:
    assert parse_servers_spec("S:2:10.0.0.2,O:3:10.0.0.3, S:1:10.0.0.1") == (
        Server(1, "10.0.0.1"),
        Server(2, "10.0.0.2"),
        Server(3, "10.0.0.3", observer=True),
    )
    dcos = parse_servers_spec("1:10.0.0.1,2:10.0.0.2,3:10.0.0.3")
    assert servers_spec(dcos) == "S:1:10.0.0.1,S:2:10.0.0.2,S:3:10.0.0.3"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "servers spec is empty"),
        ("X:1:10.0.0.1", "type must be S"),
        ("S:0:10.0.0.1", "server id must be a number from 1 to 255"),
        ("S:1:10.0.0.1;rm -rf /", "is not a host name or IP address"),
        ("S:1:a:b:c", "expected S:<id>:<host>"),
        ("1:10.0.0.1,1:10.0.0.2", "server id 1 appears twice"),
        ("1:10.0.0.1,2:10.0.0.1", "host 10.0.0.1 appears twice"),
    ],
)
def test_bad_specs_say_why(spec: str, message: str) -> None:
    with pytest.raises(SpecError) as err:
        parse_servers_spec(spec)
    assert any(message in p for p in err.value.problems), err.value.problems


def test_zoo_cfg_for_an_ensemble_and_a_standalone_server() -> None:
    servers = parse_servers_spec("1:10.0.0.1,2:10.0.0.2,O:3:10.0.0.3")
    text = zoo_cfg(servers, "10.0.0.3", "/data", 2181, 2888, 3888, {"tickTime": "2000"})
    assert text.splitlines() == [
        "tickTime=2000",
        "dataDir=/data",
        "clientPort=2181",
        "server.1=10.0.0.1:2888:3888",
        "server.2=10.0.0.2:2888:3888",
        "server.3=10.0.0.3:2888:3888:observer",
        "peerType=observer",
    ]
    single = zoo_cfg(parse_servers_spec("1:10.0.0.1"), "10.0.0.1", "/d", 2181, 2888, 3888, {})
    assert "server." not in single
    assert myid(servers, "10.0.0.2") == 2
    assert myid(servers, "10.9.9.9") is None


@pytest.mark.parametrize(
    "extra",
    [
        {"tickTime": "2000\nserver.9=evil:2888:3888"},  # a value may not add a line
        {"server.9": "evil:2888:3888"},
        {"dataDir": "/elsewhere"},
        {"bad key": "1"},
    ],
)
def test_zoo_cfg_extra_is_data_never_config_lines(extra: dict[str, str]) -> None:
    with pytest.raises(SpecError):
        zoo_cfg(parse_servers_spec("1:10.0.0.1"), "10.0.0.1", "/d", 2181, 2888, 3888, extra)


@pytest.mark.parametrize(
    ("answer", "state"),
    [
        (None, (DOWN, False)),
        ("This ZooKeeper instance is not currently serving requests\n", (NOT_SERVING, False)),
        ("Zookeeper version: 3.8.0\nMode: follower\nNode count: 5\n", (SERVING, False)),
        ("Zookeeper version: 3.8.0\nMode: leader\n", (SERVING, True)),
        ("Mode: standalone\n", (SERVING, True)),
    ],
)
def test_state_from_srvr(answer: str | None, state: tuple[int, bool]) -> None:
    assert state_from_srvr(answer) == state


def test_config_refuses_a_host_outside_the_ensemble_and_bad_extras() -> None:
    with pytest.raises(ConfigError) as err:
        from_mapping(
            ExhibitorConfig,
            {
                "hostname": "10.0.0.9",
                "servers_spec": "1:10.0.0.1,1:10.0.0.2",
                "zoo_cfg_extra": {"initLimit": "10\n4lw.commands.whitelist=*"},
            },
        )
    problems = "\n".join(err.value.problems)
    assert "servers_spec: server id 1 appears twice" in problems
    assert "zoo_cfg_extra:" in problems
    ok = from_mapping(ExhibitorConfig, {"hostname": "10.0.0.1", "servers_spec": "1:10.0.0.1"})
    assert ok.servers == (Server(1, "10.0.0.1"),)
