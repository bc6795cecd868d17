"""Each role's public API and its wiring into the playbooks, read from the files (no node).

A role's `defaults/main.yml` is its API: every variable carries the role's prefix and, for the
roles held to it, a comment (a comment line opens each block of variables). The framework roles
run on the masters after the master, in site.yml and upgrade.yml, with one tag each, and
uninstall stops their units and removes their users.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
ROLES = sorted(p.parent.parent.name for p in (REPO / "roles").glob("*/defaults/main.yml"))
# Variables shared by every role (the release on the controller), so not prefixed by one role.
SHARED = {"dcos_release_dir"}
# Roles whose every variable is commented (the rule for new roles; older ones are catching up).
COMMENTED = ["dcos_marathon", "dcos_metronome"]
FRAMEWORKS = {"dcos_marathon": "marathon", "dcos_metronome": "metronome"}
_TOP_LEVEL = re.compile(r"^([a-z_][a-z0-9_]*):")


def defaults(role: str) -> dict[str, Any]:
    loaded = yaml.safe_load((REPO / "roles" / role / "defaults" / "main.yml").read_text())
    return dict(loaded or {})


def uncommented(role: str) -> list[str]:
    """Top-level variables whose block (consecutive variable lines) has no comment line above."""
    lines = (REPO / "roles" / role / "defaults" / "main.yml").read_text().splitlines()
    missing, commented = [], False
    for line in lines:
        if line.startswith("#"):
            commented = True
        elif not line.strip() or line.startswith("---"):
            commented = False
        elif (match := _TOP_LEVEL.match(line)) and not commented:
            missing.append(match.group(1))
    return missing


def masters_play(playbook: str, name_start: str) -> dict[str, Any]:
    plays = yaml.safe_load((REPO / "playbooks" / playbook).read_text())
    found = [p for p in plays if p.get("hosts") == "masters" and p["name"].startswith(name_start)]
    assert len(found) == 1, [p.get("name") for p in plays]
    return dict(found[0])


@pytest.mark.parametrize("role", ROLES)
def test_role_variables_carry_the_role_prefix(role: str) -> None:
    wrong = [name for name in defaults(role) if not name.startswith(f"{role}_")]
    assert set(wrong) <= SHARED, wrong


@pytest.mark.parametrize("role", COMMENTED)
def test_role_variables_are_commented(role: str) -> None:
    assert uncommented(role) == []


@pytest.mark.parametrize("playbook", ["site.yml", "upgrade.yml"])
def test_frameworks_run_on_masters_after_the_master_one_tag_each(playbook: str) -> None:
    roles = masters_play(playbook, "Masters")["roles"]
    names = [r["role"] for r in roles]
    for role, tag in FRAMEWORKS.items():
        assert names.index(role) > names.index("dcos_master"), names
        assert roles[names.index(role)]["tags"] == [tag]


def test_upgrade_rolls_masters_one_at_a_time() -> None:
    play = masters_play("upgrade.yml", "Masters, one at a time")
    assert play["serial"] == 1
    assert play["any_errors_fatal"] is True


@pytest.mark.parametrize("role", FRAMEWORKS)
def test_framework_restarts_go_one_master_at_a_time(role: str) -> None:
    handlers = yaml.safe_load((REPO / "roles" / role / "handlers" / "main.yml").read_text())
    assert [h.get("throttle") for h in handlers] == [1]


def test_uninstall_removes_the_frameworks() -> None:
    values = defaults("dcos_uninstall")
    units = values["dcos_uninstall_units"]
    for unit in ("dcos-marathon.service", "dcos-metronome.service"):
        # Stopped before the master they are registered with.
        assert units.index(unit) < units.index("dcos-mesos-master.service")
    users = " ".join(values["dcos_uninstall_users"])
    assert "dcos_marathon_user" in users and "dcos_metronome_user" in users
