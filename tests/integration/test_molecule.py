"""The Molecule lifecycle of a 3-master, 2(+1)-agent cluster on nspawn test hosts.

`molecule test -s cluster` (tests/molecule/cluster): create → install the previous release and
start a task → upgrade.yml → idempotence (changed=0) → verify (units, ZK quorum, one leader, all
agents, the task's PID unchanged; Mesos-DNS and the DNS proxy's names on every node and in a
container; a Marathon app, a Metronome job, a VIP from every node and from a container) →
site.yml --check and broken inventories → a config change through site.yml that must roll
(Exhibitor and the master restarted one master at a time, each after the previous was healthy;
ZooKeeper's quorum and a serving leader held but for the election or failover that a leader's
restart causes; Minuteman restarted on every master while a VIP answers every connection:
rolling_restart.yml) → scale → remove_node → uninstall (nothing left: units, users, the DNS
proxy's addresses and resolv.conf, the VIP table and route) → destroy. Each step asserts
inside its playbook; this test fails when any of them does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="test hosts need root"),
    pytest.mark.skipif(shutil.which("systemd-nspawn") is None, reason="needs systemd-nspawn"),
]


@pytest.mark.timeout(2700)
def test_cluster_lifecycle(tmp_path: Path) -> None:
    log = tmp_path / "molecule.log"
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}", ANSIBLE_NOCOLOR="1", NO_COLOR="1")
    with log.open("w") as out:
        done = subprocess.run(
            [str(BIN / "molecule"), "test", "-s", "cluster"],
            cwd=REPO / "tests",
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=2600,
            check=False,
        )
    text = log.read_text()
    assert done.returncode == 0, text[-6000:]
    # Every step of the sequence ran (a sequence cut short by configuration would also exit 0).
    for step in ("prepare", "converge", "idempotence", "verify", "side_effect", "destroy"):
        assert step in text
    assert "verify_uninstalled.yml" in text
    assert "rolling_restart.yml" in text
