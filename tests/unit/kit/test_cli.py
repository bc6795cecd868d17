"""The shared daemon command line: check-config exit codes and messages, --config required."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemons.master.main import main as master_main
from exhibitor.main import main as exhibitor_main


def test_check_config_of_the_master_and_exhibitor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "master.toml"
    good.write_text('zk = "zk://10.0.0.1:2181/mesos"\n')
    assert master_main(["check-config", str(good)]) == 0
    bad = tmp_path / "exhibitor.toml"
    bad.write_text('hostname = "10.0.0.9"\nservers_spec = "1:10.0.0.1"\nport = 0\n')
    assert exhibitor_main(["check-config", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "hostname: 10.0.0.9 is not in servers_spec" in err
    assert "port: must be a port number" in err


def test_config_is_required_to_run() -> None:
    with pytest.raises(SystemExit) as exit_info:
        exhibitor_main([])
    assert exit_info.value.code == 2
