"""`tools/ui_tour.py`'s command line: where the login comes from. The tour itself runs in the
Molecule lifecycle against a real cluster (tests/molecule/cluster/ui_tour.yml)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools import ui_tour


def test_without_a_password_or_the_superuser_file_it_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(ui_tour.PASSWORD_ENV, raising=False)
    monkeypatch.setattr(ui_tour, "SUPERUSER_FILE", tmp_path / "absent.json")
    with pytest.raises(SystemExit) as exit_:
        ui_tour.main(["--url", "http://127.0.0.1:1"])
    assert exit_.value.code == 2
    assert "no $PYDCOS_UI_PASSWORD and no superuser file" in capsys.readouterr().err


def test_the_password_from_the_environment_needs_a_user(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ui_tour.PASSWORD_ENV, "secret")
    with pytest.raises(SystemExit):
        ui_tour.main(["--url", "http://127.0.0.1:1"])
    assert "--user is needed" in capsys.readouterr().err


def test_the_superuser_file_gives_the_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    login = {"dcos_superuser_username": "admin", "dcos_superuser_password": "pw"}
    (tmp_path / "superuser.json").write_text(json.dumps(login))
    monkeypatch.delenv(ui_tour.PASSWORD_ENV, raising=False)
    monkeypatch.setattr(ui_tour, "SUPERUSER_FILE", tmp_path / "superuser.json")
    seen: list[tuple[str, str, str]] = []

    def tour(url: str, user: str, password: str, out: Path) -> dict[str, float]:
        seen.append((url, user, password))
        return {"nodes": 1.0}

    monkeypatch.setattr(ui_tour, "tour", tour)
    assert ui_tour.main(["--url", "http://198.18.0.11/", "--out", str(tmp_path)]) == 0
    assert seen == [("http://198.18.0.11", "admin", "pw")]
