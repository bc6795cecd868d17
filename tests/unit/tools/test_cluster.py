"""make cluster's pure parts: node layout, limits and the generated inventory."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tools.cluster import ClusterError, Layout, inventory_yaml


def test_layout_names_and_addresses() -> None:
    layout = Layout.of(3, 2, 1)
    assert layout.groups == {
        "masters": {"master1": "198.18.0.11", "master2": "198.18.0.12", "master3": "198.18.0.13"},
        "agents_private": {"agent1": "198.18.0.21", "agent2": "198.18.0.22"},
        "agents_public": {"public1": "198.18.0.31"},
    }
    assert layout.master_url == "http://198.18.0.11:5050"
    assert len(layout.nodes) == 6


def test_offset_moves_every_address() -> None:
    nodes = Layout.of(1, 1, offset=140).nodes
    assert nodes == {"master1": "198.18.0.151", "agent1": "198.18.0.161"}


@pytest.mark.parametrize(
    ("masters", "agents", "public", "message"),
    [
        (2, 1, 0, "even"),
        (0, 1, 0, "masters: 0 is not between 1 and 5"),
        (1, 0, 0, "no agents"),
        (1, 10, 0, "agents_private: 10"),
    ],
)
def test_bad_sizes_are_refused(masters: int, agents: int, public: int, message: str) -> None:
    with pytest.raises(ClusterError, match=message):
        Layout.of(masters, agents, public)


def test_inventory_is_yaml_with_groups_and_connection(tmp_path: Path) -> None:
    key = tmp_path / "id_ed25519"
    text = inventory_yaml(Layout.of(1, 2), key, tmp_path / "release")
    inv = yaml.safe_load(text)["all"]
    assert inv["vars"]["ansible_ssh_private_key_file"] == str(key)
    assert inv["vars"]["dcos_release_dir"] == str(tmp_path / "release")
    assert inv["children"]["masters"]["hosts"]["master1"] == {
        "ansible_host": "198.18.0.11",
        "dcos_node_ip": "198.18.0.11",
    }
    assert set(inv["children"]["agents_private"]["hosts"]) == {"agent1", "agent2"}
    assert inv["children"]["agents_public"]["hosts"] == {}
