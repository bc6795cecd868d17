"""The framework daemons' shared config: one `advertised` rule and one set of checks for
Marathon and Metronome, each adding its own fields and defaults."""

from __future__ import annotations

import pytest

from daemons.frameworks.config import FrameworkConfig
from daemons.kit.config import ConfigError, from_mapping
from daemons.marathon.config import MarathonConfig
from daemons.metronome.config import MetronomeConfig

DAEMONS: list[tuple[type[FrameworkConfig], int]] = [(MarathonConfig, 8080), (MetronomeConfig, 9000)]


@pytest.mark.parametrize(("cls", "port"), DAEMONS)
def test_one_advertised_rule(cls: type[FrameworkConfig], port: int) -> None:
    assert from_mapping(cls, {}).advertised == f"127.0.0.1:{port}"
    assert from_mapping(cls, {"ip": "10.0.0.1"}).advertised == f"10.0.0.1:{port}"
    # A hostname without a port gets ours (Marathon used to advertise a bare "m1", which its
    # standbys could not proxy to); one with a port is taken as it is (what the roles render).
    assert from_mapping(cls, {"hostname": "m1"}).advertised == f"m1:{port}"
    assert from_mapping(cls, {"hostname": "10.0.0.1:80"}).advertised == "10.0.0.1:80"


@pytest.mark.parametrize(("cls", "port"), DAEMONS)
def test_the_shared_checks(cls: type[FrameworkConfig], port: int) -> None:
    with pytest.raises(ConfigError) as err:
        from_mapping(
            cls,
            {
                "zk": "http://x",
                "master": "nohostport",
                "port": 70000,
                "zk_session_timeout": 0,
                "reconciliation_interval": 0.5,
                "max_body_bytes": 10,
                "threads": 1,
                "framework_name": " ",
            },
        )
    assert err.value.problems[:8] == [
        "zk: ZooKeeper URL must start with zk://, got 'http://x'",
        "master: expected zk://… or host:port, got 'nohostport'",
        "port: 70000 is not a TCP port",
        "zk_session_timeout: must be positive",
        "reconciliation_interval: must be at least 1 second",
        "max_body_bytes: must be at least 1024 bytes",
        f"threads: at least {cls.MIN_THREADS}",
        "framework_name: must not be empty",
    ]
    assert from_mapping(cls, {"master": "10.0.0.1:5050", "zk": "zk://a:1,b:2/x"}).validate() == []


def test_each_daemon_keeps_its_own_fields_and_checks() -> None:
    marathon = from_mapping(MarathonConfig, {})
    assert (marathon.zk, marathon.framework_name, marathon.threads) == (
        "zk://127.0.0.1:2181/marathon",
        "marathon",
        64,
    )
    metronome = from_mapping(MetronomeConfig, {})
    assert (metronome.zk, metronome.framework_name, metronome.threads) == (
        "zk://127.0.0.1:2181/metronome",
        "metronome",
        32,
    )
    assert MarathonConfig.MIN_THREADS == 4  # Marathon's event streams hold a thread each
    with pytest.raises(ConfigError, match="local_port_min/local_port_max"):
        from_mapping(MarathonConfig, {"local_port_min": 30000, "local_port_max": 20000})
    with pytest.raises(ConfigError, match="unknown setting"):
        from_mapping(MarathonConfig, {"history_limit": 3})  # Metronome's, not Marathon's
    with pytest.raises(ConfigError, match="tick_interval: must be positive"):
        from_mapping(MetronomeConfig, {"tick_interval": 0})
    with pytest.raises(ConfigError, match="unknown setting"):
        from_mapping(MetronomeConfig, {"max_versions": 3})
