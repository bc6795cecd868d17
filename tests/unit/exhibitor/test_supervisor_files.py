"""The supervisor's files: zoo.cfg and myid as Exhibitor writes them (no process started)."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from daemons.kit.config import from_mapping
from exhibitor.config import ExhibitorConfig
from exhibitor.properties import make
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


def test_apply_restarts_only_when_zoo_cfg_changes_and_never_goes_standalone(
    tmp_path: Path,
) -> None:
    """A real child (`sleep`) stands in for the JVM: the supervisor's decisions, not Java's."""
    started: list[subprocess.Popen[bytes]] = []

    def starter(argv: Sequence[str]) -> subprocess.Popen[bytes]:
        started.append(subprocess.Popen(["sleep", "60"]))
        return started[-1]

    spec = "1:10.0.0.1,2:10.0.0.2,3:10.0.0.3"
    sup = ZooKeeperSupervisor(config(tmp_path, spec, "10.0.0.2"), starter=starter)
    try:
        base = make(spec, {"tickTime": "2000"})
        assert sup.apply(base) is True and len(started) == 1
        assert sup.applied
        assert sup.apply(replace(base, check_ms=999)) is False  # zoo.cfg unchanged: no restart
        slower = make(spec, {"tickTime": "3000"})
        assert sup.apply(slower) is True and len(started) == 2
        assert started[0].poll() is not None  # the old one was stopped first
        assert "tickTime=3000" in (tmp_path / "conf" / "zoo.cfg").read_text()
        # A one-server config on a member of a 3-server ensemble would start it standalone.
        assert sup.apply(make("1:10.0.0.2", {"tickTime": "2000"})) is False
        assert len(started) == 2 and sup.pid == started[1].pid
        assert "server.1=" in (tmp_path / "conf" / "zoo.cfg").read_text()
        # Not a server any more: stopped, and check() does not bring it back.
        assert sup.apply(make("1:10.0.0.1,3:10.0.0.3,4:10.0.0.4", {})) is True
        assert sup.pid is None and sup.check() is False and len(started) == 2
    finally:
        sup.stop()
        for child in started:
            child.kill()
            child.wait(5)
