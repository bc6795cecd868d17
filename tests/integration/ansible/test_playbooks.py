"""The playbooks parse, and validate.yml stops broken inventories before anything changes.

These run ansible-playbook on the controller only (no node is contacted): `--syntax-check` of
every playbook against the sample inventory, and validate.yml / site.yml against inventories
with one mistake each, expecting one clear message per problem.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
PLAYBOOKS = sorted((REPO / "playbooks").glob("*.yml"))
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"


def run_playbook(
    inventory: Path, playbook: str, *extra: str, answer: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    env["PATH"] = f"{ANSIBLE_PLAYBOOK.parent}:{env['PATH']}"
    return subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "-i", str(inventory), str(REPO / "playbooks" / playbook), *extra],
        cwd=REPO,
        env=env,
        input=answer,
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_nothing_touched(output: str) -> None:
    """No host was contacted or changed: every recap line says changed=0 and unreachable=0."""
    recap = output.split("PLAY RECAP")[-1]
    assert "changed=0" in recap
    assert re.search(r"changed=[1-9]", recap) is None, recap
    assert re.search(r"unreachable=[1-9]", recap) is None, recap
    assert "UNREACHABLE" not in output


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release folder with release.json (validation only checks that it is there)."""
    out = tmp_path_factory.mktemp("release")
    (out / "wheels").mkdir()
    (out / "release.json").write_text(json.dumps({"version": "0", "build": "x", "id": "0-x"}))
    return out


def inventory(tmp: Path, release: Path, groups: dict[str, dict[str, dict[str, Any]]]) -> Path:
    body = {
        "all": {
            "vars": {"dcos_cluster_name": "t", "dcos_release_dir": str(release)},
            "children": {name: {"hosts": hosts} for name, hosts in groups.items()},
        }
    }
    path = tmp / "hosts.yml"
    path.write_text(json.dumps(body))  # JSON is YAML
    return path


@pytest.mark.parametrize("playbook", [p.name for p in PLAYBOOKS])
def test_playbook_syntax(playbook: str) -> None:
    done = run_playbook(REPO / "inventory/sample/hosts.yml", playbook, "--syntax-check")
    assert done.returncode == 0, done.stdout + done.stderr


def test_sample_inventory_is_valid(release: Path) -> None:
    done = run_playbook(
        REPO / "inventory/sample/hosts.yml", "validate.yml", "-e", f"dcos_release_dir={release}"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 masters, 2 private and 1 public agents" in done.stdout


BAD = {
    "even masters": (
        {
            "masters": {"m1": {"dcos_node_ip": "10.0.0.1"}, "m2": {"dcos_node_ip": "10.0.0.2"}},
            "agents_private": {"a1": {"dcos_node_ip": "10.0.0.3"}},
        },
        ["group masters has 2 hosts; it needs an odd count: one of 1, 3, 5"],
    ),
    "duplicate address": (
        {
            "masters": {"m1": {"dcos_node_ip": "10.0.0.1"}},
            "agents_private": {"a1": {"dcos_node_ip": "10.0.0.1"}},
        },
        ["hosts m1 and a1 have the same dcos_node_ip 10.0.0.1"],
    ),
    "missing variable and bad address, both reported": (
        {
            "masters": {"m1": {"dcos_node_ip": "10.0.0.1"}},
            "agents_private": {"a1": {}, "a2": {"dcos_node_ip": "10.0.0"}},
        },
        [
            "host a1: variable dcos_node_ip is missing",
            "host a2: dcos_node_ip 10.0.0 is not an IPv4 address",
        ],
    ),
    "no agents": ({"masters": {"m1": {"dcos_node_ip": "10.0.0.1"}}}, ["no agents"]),
    "two daemons on one port": (
        {
            "masters": {"m1": {"dcos_node_ip": "10.0.0.1", "dcos_cluster_marathon_port": "5050"}},
            "agents_private": {"a1": {"dcos_node_ip": "10.0.0.2"}},
        },
        ["host m1: dcos_cluster_marathon_port and dcos_cluster_master_port both use port 5050"],
    ),
    "ZooKeeper's AdminServer left on Marathon's port": (
        {
            "masters": {
                "m1": {
                    "dcos_node_ip": "10.0.0.1",
                    "dcos_zookeeper_zoo_cfg_extra": {"tickTime": "2000"},
                }
            },
            "agents_private": {"a1": {"dcos_node_ip": "10.0.0.2"}},
        },
        ["host m1: ZooKeeper's AdminServer would take port 8080 of dcos_cluster_marathon_port"],
    ),
    "a variable of an older release, under its old name": (
        {
            "masters": {"m1": {"dcos_node_ip": "10.0.0.1", "dcos_master_port": "5151"}},
            "agents_private": {"a1": {"dcos_node_ip": "10.0.0.2", "dcos_agent_cgroups_root": "x"}},
        },
        [
            "host m1: variable dcos_master_port is now called dcos_cluster_master_port",
            "host a1: variable dcos_agent_cgroups_root is now called dcos_cluster_cgroups_root",
        ],
    ),
    "agent in both groups": (
        {
            "masters": {"m1": {"dcos_node_ip": "10.0.0.1"}},
            "agents_private": {"a1": {"dcos_node_ip": "10.0.0.2"}},
            "agents_public": {"a1": {"dcos_node_ip": "10.0.0.2"}},
        },
        ["host a1 is in both agents_private and agents_public"],
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_validate_reports_each_problem(case: str, tmp_path: Path, release: Path) -> None:
    groups, messages = BAD[case]
    done = run_playbook(inventory(tmp_path, release, groups), "validate.yml")
    assert done.returncode != 0
    assert "PyDCOS inventory check failed" in done.stdout
    for message in messages:
        assert message in done.stdout, done.stdout


def test_missing_release_is_reported(tmp_path: Path, release: Path) -> None:
    groups = {
        "masters": {"m1": {"dcos_node_ip": "10.0.0.1"}},
        "agents_private": {"a1": {"dcos_node_ip": "10.0.0.2"}},
    }
    done = run_playbook(
        inventory(tmp_path, release, groups),
        "validate.yml",
        "-e",
        f"dcos_release_dir={tmp_path / 'nothing'}",
    )
    assert done.returncode != 0
    assert "has no release.json" in done.stdout


def test_site_stops_in_validation_before_touching_a_node(tmp_path: Path, release: Path) -> None:
    # Unroutable test addresses: had the run got past validation, the masters play would fail
    # on SSH instead; it must never get there.
    groups = {
        "masters": {
            "m1": {"dcos_node_ip": "198.18.0.250", "ansible_host": "198.18.0.250"},
            "m2": {"dcos_node_ip": "198.18.0.251", "ansible_host": "198.18.0.251"},
        },
        "agents_private": {"a1": {"dcos_node_ip": "198.18.0.252", "ansible_host": "198.18.0.252"}},
    }
    done = run_playbook(
        inventory(tmp_path, release, groups), "site.yml", "-e", "dcos_release_build=false"
    )
    assert done.returncode != 0
    assert "PyDCOS inventory check failed" in done.stdout
    assert "PLAY [Masters" not in done.stdout
    assert_nothing_touched(done.stdout)


def test_uninstall_without_confirmation_changes_nothing(tmp_path: Path, release: Path) -> None:
    groups = {
        "masters": {"m1": {"dcos_node_ip": "198.18.0.250", "ansible_host": "198.18.0.250"}},
        "agents_private": {"a1": {"dcos_node_ip": "198.18.0.252", "ansible_host": "198.18.0.252"}},
    }
    done = run_playbook(inventory(tmp_path, release, groups), "uninstall.yml", answer="no\n")
    assert done.returncode != 0
    assert "Not confirmed: nothing was changed" in done.stdout
    assert "PLAY [Agents first" not in done.stdout
    assert_nothing_touched(done.stdout)


def test_limit_does_not_skip_validation(tmp_path: Path, release: Path) -> None:
    # scale.yml is run with --limit NEW_HOST: the checks must still run, over the whole inventory.
    groups = {
        "masters": {
            "m1": {"dcos_node_ip": "198.18.0.250", "ansible_host": "198.18.0.250"},
            "m2": {"dcos_node_ip": "198.18.0.251", "ansible_host": "198.18.0.251"},
        },
        "agents_private": {"a1": {"dcos_node_ip": "198.18.0.252", "ansible_host": "198.18.0.252"}},
    }
    done = run_playbook(
        inventory(tmp_path, release, groups),
        "scale.yml",
        "--limit",
        "a1",
        "-e",
        "dcos_release_build=false",
    )
    assert done.returncode != 0
    assert "group masters has 2 hosts" in done.stdout
    assert "PLAY [New agents]" not in done.stdout
    assert_nothing_touched(done.stdout)
