"""The proxy's TOML config: defaults, what `check-config` refuses, the upstream forms."""

from __future__ import annotations

import pytest

from daemons.kit.config import ConfigError, from_mapping
from daemons.kit.dns.upstream import Upstream, parse_upstream
from dnsproxy.config import DnsProxyConfig


def test_defaults_listen_on_the_three_proxy_addresses() -> None:
    config = from_mapping(DnsProxyConfig, {})
    assert config.listen_addresses() == [(f"198.51.100.{n}", 53) for n in (1, 2, 3)]
    assert (config.ip, config.port) == ("127.0.0.1", 62080)
    assert config.upstreams() == ()


def test_cluster_keys() -> None:
    config = from_mapping(
        DnsProxyConfig,
        {
            "masters": ["10.0.4.11", "10.0.4.12"],
            "upstream_resolvers": ["192.0.2.53", "192.0.2.54:5353"],
            "forward_zones": {"corp.example": ["192.0.2.60"]},
        },
    )
    assert config.mesos_dns() == (Upstream("10.0.4.11", 61053), Upstream("10.0.4.12", 61053))
    assert config.upstreams() == (Upstream("192.0.2.53"), Upstream("192.0.2.54", 5353))
    assert config.forward_upstreams() == {"corp.example": (Upstream("192.0.2.60"),)}


def test_the_leader_from_zookeeper_or_the_masters() -> None:
    # As the role renders it: the masters' ensemble and Mesos' path.
    zk = "zk://10.0.4.11:2181,10.0.4.12:2181,10.0.4.13:2181/mesos"
    config = from_mapping(DnsProxyConfig, {"zk": zk, "masters": ["10.0.4.11"]})
    assert config.zk == zk
    assert from_mapping(DnsProxyConfig, {"zk": zk, "masters": []}).masters == ()
    # Without it, the masters in turn on master_port; snapshots at most every 0.2 s, the
    # state read again every 30 s.
    default = from_mapping(DnsProxyConfig, {})
    assert (default.zk, default.master_port) == ("", 5050)
    assert (default.coalesce_seconds, default.state_refresh_interval) == (0.2, 30.0)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"masters": ["master-1"]}, "masters"),
        ({"masters": []}, "masters"),
        ({"upstream_resolvers": ["dns.example.com"]}, "upstream_resolvers"),
        ({"listen": []}, "listen"),
        ({"listen": ["127.0.0.1:70000"]}, "listen"),
        ({"forward_zones": {"corp": []}}, "forward_zones"),
        ({"forward_zones": {"a..b": ["192.0.2.1"]}}, "forward_zones"),
        ({"state_refresh_interval": 0}, "state_refresh_interval"),
        ({"coalesce_seconds": 2}, "coalesce_seconds"),
        ({"zk": "127.0.0.1:2181/mesos"}, "zk"),
        ({"zk": "zk://127.0.0.1:2181"}, "zk"),
        ({"zk": "zk:///mesos"}, "zk"),
        ({"zk": "zk://10.0.4.11:2181,/mesos"}, "zk"),
        # The one-second poll is gone (the master's events are followed): the key with it.
        ({"state_interval": 1.0}, "state_interval"),
        ({"log_level": "loud"}, "log_level"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_configs_are_refused_with_the_key(data: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        from_mapping(DnsProxyConfig, data)
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems


@pytest.mark.parametrize(
    ("text", "upstream"),
    [
        ("192.0.2.1", Upstream("192.0.2.1", 53)),
        ("192.0.2.1:5353", Upstream("192.0.2.1", 5353)),
        ("[fd00::1]:5353", Upstream("fd00::1", 5353)),
        ("fd00::1", Upstream("fd00::1", 53)),
        ("[fd00::1]", Upstream("fd00::1", 53)),
    ],
)
def test_upstream_forms(text: str, upstream: Upstream) -> None:
    assert parse_upstream(text) == upstream
