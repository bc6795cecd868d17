"""Each role's public API and its wiring into the playbooks, read from the files (no node).

A role's `defaults/main.yml` is its API: every variable carries the role's prefix and a comment
(a comment line opens each block of variables). A role reads no other role's defaults: values
that several roles share live in dcos_cluster (defaults only), which each role that reads them
names as a dependency in its `meta/main.yml`; every role has that file. The framework roles run
on the masters after the master, in site.yml and upgrade.yml, with one tag each, and uninstall
stops their units and removes their users.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
ROLES = sorted(p.name for p in (REPO / "roles").iterdir() if p.is_dir())
# Variables shared by every role (the release on the controller, the cluster's DNS resolvers
# and layer-4 VIP settings: DC/OS's config names), so not prefixed by one role.
SHARED = {
    "dcos_release_dir",
    "dcos_resolvers",
    "dcos_dns_forward_zones",
    "dcos_l4lb_enabled",
    "dcos_l4lb_named_ip_range",
    # The superuser's names in the inventory, as issue 15 (and DC/OS's config) spell them.
    "dcos_superuser_username",
    "dcos_superuser_password_hash",
}
# The home of the values several roles share.
CLUSTER = "dcos_cluster"
# The masters' roles that need the master first, and their tags.
FRAMEWORKS = {
    "dcos_marathon": "marathon",
    "dcos_metronome": "metronome",
    "dcos_mesos_dns": "mesos_dns",
}
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


@pytest.mark.parametrize("role", ROLES)
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


def test_uninstall_removes_the_frameworks() -> None:
    values = defaults("dcos_uninstall")
    units = values["dcos_uninstall_units"]
    for unit in ("dcos-marathon.service", "dcos-metronome.service", "dcos-mesos-dns.service"):
        # Stopped before the master they are registered with.
        assert units.index(unit) < units.index("dcos-mesos-master.service")
        # Their users (User= of the unit) are removed with them.
        assert unit in values["dcos_uninstall_user_units"]


def meta(role: str) -> dict[str, Any]:
    loaded = yaml.safe_load((REPO / "roles" / role / "meta" / "main.yml").read_text())
    return dict(loaded or {})


_VARIABLE = re.compile(r"\bdcos_[a-z0-9_]+\b")
# A single-quoted (Jinja) string: a name in it is data (an inventory key looked up in hostvars,
# a message), not a read of the variable.
_STRING = re.compile(r"'(?:\\.|[^'\\])*'")
# A YAML key (a variable set or passed in) and the keys whose value names a variable to write.
_KEY = re.compile(r"^\s*(?:- )?[A-Za-z_][\w.]*:\s?")
_WRITES = re.compile(r"^\s*(?:- )?(?:register|loop_var):")


def read_names(path: Path) -> set[str]:
    """The dcos_* variables a role or playbook file reads: words in values, not in keys,
    comments, single-quoted strings or register/loop_var names."""
    names: set[str] = set()
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith(("#", "{#")) or _WRITES.match(line):
            continue
        names |= set(_VARIABLE.findall(_STRING.sub("", _KEY.sub("", line, count=1))))
    return names


def role_files(role: str) -> list[Path]:
    return sorted(p for p in (REPO / "roles" / role).rglob("*") if p.suffix in (".yml", ".j2"))


def defaults_owner(name: str) -> str | None:
    """The role whose defaults/main.yml defines this variable, if any."""
    owners = [role for role in ROLES if name in defaults(role)]
    return owners[0] if owners else None


@pytest.mark.parametrize("role", ROLES)
def test_role_has_galaxy_meta(role: str) -> None:
    assert (REPO / "roles" / role / "meta" / "main.yml").is_file()
    info = meta(role)["galaxy_info"]
    for key in ("author", "description", "license", "min_ansible_version"):
        assert info.get(key), key
    assert {"name": "Debian", "versions": ["bookworm"]} in info["platforms"]
    assert isinstance(meta(role).get("dependencies"), list)


@pytest.mark.parametrize("role", ROLES)
def test_role_reads_no_other_roles_defaults(role: str) -> None:
    foreign = {
        f"{path.relative_to(REPO)}: {name} ({owner})"
        for path in role_files(role)
        for name in read_names(path)
        if (owner := defaults_owner(name)) not in (None, role, CLUSTER)
    }
    assert foreign == set()


@pytest.mark.parametrize("role", sorted(set(ROLES) - {CLUSTER}))
def test_role_reading_cluster_values_depends_on_dcos_cluster(role: str) -> None:
    cluster = set(defaults(CLUSTER))
    if any(read_names(path) & cluster for path in role_files(role)):
        assert {"role": CLUSTER} in meta(role)["dependencies"]


@pytest.mark.parametrize("playbook", [p.name for p in sorted((REPO / "playbooks").glob("*.yml"))])
def test_playbook_reads_no_role_defaults_but_the_clusters(playbook: str) -> None:
    foreign = {
        f"{name} ({owner})"
        for name in read_names(REPO / "playbooks" / playbook)
        if (owner := defaults_owner(name)) not in (None, CLUSTER)
    }
    assert foreign == set()
