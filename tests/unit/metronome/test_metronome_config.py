"""`dcos-metronome check-config`: defaults, problems one per line, the advertised address."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemons.kit.config import ConfigError, from_mapping
from daemons.metronome.config import MetronomeConfig
from daemons.metronome.main import main


def test_defaults_are_valid() -> None:
    config = from_mapping(MetronomeConfig, {})
    assert (config.zk, config.master, config.port) == (
        "zk://127.0.0.1:2181/metronome",
        "zk://127.0.0.1:2181/mesos",
        9000,
    )
    assert config.advertised == "127.0.0.1:9000"
    assert from_mapping(MetronomeConfig, {"hostname": "m1"}).advertised == "m1:9000"
    assert from_mapping(MetronomeConfig, {"hostname": "m1:80"}).advertised == "m1:80"


def test_problems() -> None:
    with pytest.raises(ConfigError) as info:
        from_mapping(
            MetronomeConfig,
            {"zk": "http://x", "master": "nohostport", "port": 0, "zk_max_node_size": 10},
        )
    assert info.value.problems == [
        "zk: ZooKeeper URL must start with zk://, got 'http://x'",
        "master: expected zk://… or host:port, got 'nohostport'",
        "port: 0 is not a TCP port",
        "zk_max_node_size: must be at least 1024 bytes",
    ]


def test_check_config_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.toml"
    good.write_text('zk = "zk://10.0.0.1:2181/metronome"\nmaster = "10.0.0.1:5050"\n')
    assert main(["check-config", str(good)]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text("history_limit = -1\n")
    assert main(["check-config", str(bad)]) == 1
    assert "history_limit: must not be negative" in capsys.readouterr().err
