"""The TOML config loader: one message per problem, defaults filled, types checked."""

from __future__ import annotations

import pytest

from daemons.kit.config import ConfigError, load
from daemons.master.config import MasterConfig


def write(tmp_path, text):
    path = tmp_path / "c.toml"
    path.write_text(text)
    return path


def test_loads_and_fills_defaults(tmp_path):
    config = load(MasterConfig, write(tmp_path, 'zk = "zk://127.0.0.1:2181/mesos"\nport = 5150\n'))
    assert config.port == 5150 and config.allocation_interval == 1.0


def test_every_problem_is_reported(tmp_path):
    text = 'port = "x"\nbogus = 1\nallocation_interval = 1\n'
    with pytest.raises(ConfigError) as err:
        load(MasterConfig, write(tmp_path, text))
    problems = err.value.problems
    assert any("port" in p for p in problems)
    assert any("bogus: unknown setting" in p for p in problems)
    assert any("zk: required" in p for p in problems)


def test_semantic_validation(tmp_path):
    text = 'zk = "http://nope"\nweights = { web = -1 }\n'
    with pytest.raises(ConfigError) as err:
        load(MasterConfig, write(tmp_path, text))
    assert any(p.startswith("zk:") for p in err.value.problems)
    assert any("weights.web" in p for p in err.value.problems)


def test_unreadable_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError):
        load(MasterConfig, tmp_path / "missing.toml")
    with pytest.raises(ConfigError):
        load(MasterConfig, write(tmp_path, "zk = "))
