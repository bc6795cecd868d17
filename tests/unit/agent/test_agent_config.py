"""The agent's TOML config: defaults, validation messages, attributes, resource detection."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemons.agent import config as agent_config
from daemons.agent.config import AgentConfig
from daemons.agent.main import main
from daemons.kit.config import ConfigError, load
from daemons.protocols.models.parts import attributes_json


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(text)
    return path


def test_minimal_config_gets_the_defaults(tmp_path: Path) -> None:
    config = load(AgentConfig, write(tmp_path, 'master = "zk://127.0.0.1:2181/mesos"\n'))
    assert config.port == 5051
    assert config.work_dir == "/var/lib/dcos/agent"
    assert config.task_user == "nobody"
    assert config.allow_framework_user is False
    assert config.pids_max == 1024
    assert config.executor_registration_timeout == 60.0
    assert config.recover == "reconnect"
    assert config.advertised_hostname == "127.0.0.1"
    assert config.pid == "slave(1)@127.0.0.1:5051"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('master = "mesos.local"', "master:"),
        ('master = "zk://"', "master:"),
        ('master = "m:5050"\nport = 70000', "port:"),
        ('master = "m:5050"\nip = "localhost"', "ip:"),
        ('master = "m:5050"\nagent_type = "dmz"', "agent_type:"),
        ('master = "m:5050"\nresources = "cpus:lots"', "resources:"),
        ('master = "m:5050"\nattributes = "rack"', "attributes:"),
        ('master = "m:5050"\nwork_dir = "relative"', "work_dir:"),
        ('master = "m:5050"\nheartbeat_interval = 0', "heartbeat_interval:"),
        ('master = "m:5050"\nrecover = "forget"', "recover:"),
        ('master = "m:5050"\nbogus = 1', "bogus: unknown setting"),
        ("port = 5051", "master: required setting is missing"),
    ],
)
def test_each_problem_is_reported(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(AgentConfig, write(tmp_path, text + "\n"))
    assert any(p.startswith(problem) for p in err.value.problems), err.value.problems


def test_check_config_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(write(tmp_path, 'master = "m:5050"\n'))]) == 0
    assert main(["check-config", str(write(tmp_path, 'master = "m"\nport = 0\n'))]) == 1
    out = capsys.readouterr().err.splitlines()
    assert any(line.startswith("master:") for line in out)
    assert any(line.startswith("port:") for line in out)


def test_attributes_are_typed_like_mesos() -> None:
    attributes = agent_config.parse_attributes("rack:a; level:3 ;ids:[1-5,8-9]")
    assert attributes == {"rack": "a", "level": 3.0, "ids": ((1, 5), (8, 9))}
    assert attributes_json(attributes) == [
        {"name": "rack", "type": "TEXT", "text": {"value": "a"}},
        {"name": "level", "type": "SCALAR", "scalar": {"value": 3.0}},
        {
            "name": "ids",
            "type": "RANGES",
            "ranges": {"range": [{"begin": 1, "end": 5}, {"begin": 8, "end": 9}]},
        },
    ]
    assert agent_config.attributes_state_map(attributes) == {
        "rack": "a",
        "level": 3.0,
        "ids": "[1-5, 8-9]",
    }


def test_public_agents_carry_the_public_ip_attribute() -> None:
    config = AgentConfig(master="m:5050", agent_type="public", attributes="zone:a")
    assert agent_config.agent_attributes(config) == {"zone": "a", "public_ip": "true"}


def test_default_resources_follow_mesos_rules() -> None:
    assert agent_config.default_resources_text(4, 8192.0, 1000.0) == (
        "cpus:4;mem:7168;disk:900;ports:[31000-32000]"
    )
    # small machines keep at least half their memory
    assert agent_config.default_resources_text(1, 1024.0, 100.0).startswith("cpus:1;mem:512;")


def test_meminfo_parsing() -> None:
    assert agent_config.mem_total_mb("MemFree: 1 kB\nMemTotal:  2097152 kB\n") == 2048.0
    with pytest.raises(ValueError):
        agent_config.mem_total_mb("MemFree: 1 kB\n")


def test_configured_resources_win_and_detection_fills_the_rest(tmp_path: Path) -> None:
    config = AgentConfig(master="m:5050", work_dir=str(tmp_path), resources="cpus:3;mem:512")
    total = agent_config.total_resources(config)["*"]
    assert total.scalar("cpus") == 3.0
    assert total.scalar("mem") == 512.0
    assert total.scalar("disk") > 0
    assert total.ranges["ports"] == ((31000, 32000),)
