"""The supervisor's files: zoo.cfg and myid as Exhibitor writes them (no process started)."""

from __future__ import annotations

from pathlib import Path

from daemons.common.config import from_mapping
from exhibitor.config import ExhibitorConfig
from exhibitor.supervisor import MAIN_CLASS, ZooKeeperSupervisor, zookeeper_argv


def config(tmp_path: Path, spec: str, host: str) -> ExhibitorConfig:
    return from_mapping(
        ExhibitorConfig,
        {
            "hostname": host,
            "servers_spec": spec,
            "data_dir": str(tmp_path / "data"),
            "conf_dir": str(tmp_path / "conf"),
            "zoo_cfg_extra": {"tickTime": "2000"},
        },
    )


def test_an_ensemble_member_gets_its_myid(tmp_path: Path) -> None:
    sup = ZooKeeperSupervisor(config(tmp_path, "1:10.0.0.1,2:10.0.0.2,3:10.0.0.3", "10.0.0.2"))
    sup.write_config()
    assert (tmp_path / "data" / "myid").read_text() == "2\n"
    cfg = (tmp_path / "conf" / "zoo.cfg").read_text()
    assert "server.3=10.0.0.3:2888:3888" in cfg
    assert f"dataDir={tmp_path / 'data'}" in cfg


def test_a_single_server_is_standalone_without_myid(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "myid").write_text("7\n")  # left from an earlier ensemble
    sup = ZooKeeperSupervisor(config(tmp_path, "1:10.0.0.1", "10.0.0.1"))
    sup.write_config()
    assert not (tmp_path / "data" / "myid").exists()
    assert "server." not in (tmp_path / "conf" / "zoo.cfg").read_text()


def test_the_command_is_an_argv_list() -> None:
    argv = zookeeper_argv("/usr/bin/java", Path("/x/zoo.cfg"))
    assert argv[0] == "/usr/bin/java"
    assert argv[-2:] == [MAIN_CLASS, "/x/zoo.cfg"]
