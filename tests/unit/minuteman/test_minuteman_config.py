"""Minuteman's config (`minuteman.toml`): defaults and what is refused, with the key."""

from __future__ import annotations

import ipaddress

import pytest

from daemons.kit.config import ConfigError, from_mapping
from minuteman.config import MinutemanConfig


def test_defaults() -> None:
    config = from_mapping(MinutemanConfig, {})
    assert config.pool() == ipaddress.IPv4Network("198.19.0.0/16")
    assert (config.ip, config.port, config.reconcile_interval) == ("127.0.0.1", 61421, 30.0)
    assert config.route is True
    assert config.route_source == ""
    assert from_mapping(MinutemanConfig, {"route_source": "198.18.0.21"}).route_source


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"named_ip_range": "11.0.0.0/33"}, "named_ip_range"),
        ({"named_ip_range": "198.19.0.0/31"}, "named_ip_range"),
        ({"named_ip_range": "fd01:c::/64"}, "named_ip_range"),
        ({"route_source": "node-1"}, "route_source"),
        ({"route_source": "fd01::1"}, "route_source"),
        ({"masters": ["master-1"]}, "masters"),
        ({"masters": []}, "masters"),
        ({"zk": "127.0.0.1:2181/mesos"}, "zk"),
        ({"reconcile_interval": 0}, "reconcile_interval"),
        ({"port": 70000}, "port"),
        ({"log_level": "loud"}, "log_level"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_configs_are_refused_with_the_key(data: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        from_mapping(MinutemanConfig, data)
    assert any(problem in p for p in caught.value.problems), caught.value.problems
