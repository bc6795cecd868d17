"""`dcos-ui-backend`'s command line: `check-config` and `static-dir`."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemons.ui.main import main, static_dir


def test_check_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.toml"
    good.write_text('master = "127.0.0.1:5050"\nsample_interval = 2.0\n')
    assert main(["check-config", str(good)]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text("sample_interval = 0.5\n")
    assert main(["check-config", str(bad)]) == 1
    assert "sample_interval" in capsys.readouterr().err


def test_static_dir_prints_the_installed_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["static-dir"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == static_dir()
    assert (Path(printed) / "index.html").is_file()
