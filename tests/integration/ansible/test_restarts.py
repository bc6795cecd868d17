"""Restarts of the masters' daemons roll one host at a time, each gated on health, and a unit is
restarted onto a new release by a real change signal (controller only, no node).

The rolling restart rests on how Ansible runs an included task file per host: every daemon
role's handler includes its restart.yml with a loop over the notified host's own name, so each
host gets its own copy of the included tasks, and the linear strategy runs one host's copy (the
restart, then the health gate) to its end before the next host's. `test_handler_rolls_*` runs
each real handler definition against local hosts with a stand-in restart.yml that records what
it does, so a change in Ansible's behaviour (or in the handlers) shows here first; the Molecule
scenario shows the same on real masters (tests/molecule/cluster/rolling_restart.yml).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
# (role, handler, unit) of every master daemon whose restarts roll.
ROLLING = [
    ("dcos_zookeeper", "Restart Exhibitor", "dcos-exhibitor.service"),
    ("dcos_zookeeper", "Restart ZooKeeper", "dcos-zookeeper.service"),
    ("dcos_master", "Restart master", "dcos-mesos-master.service"),
    ("dcos_marathon", "Restart marathon", "dcos-marathon.service"),
    ("dcos_metronome", "Restart metronome", "dcos-metronome.service"),
    ("dcos_mesos_dns", "Restart mesos-dns", "dcos-mesos-dns.service"),
]
# (role, task file that starts the unit, unit, its restart handler): the daemons on a release.
RELEASED = [
    ("dcos_zookeeper", "exhibitor.yml", "dcos-exhibitor.service", "Restart Exhibitor"),
    ("dcos_master", "main.yml", "dcos-mesos-master.service", "Restart master"),
    ("dcos_marathon", "install.yml", "dcos-marathon.service", "Restart marathon"),
    ("dcos_metronome", "install.yml", "dcos-metronome.service", "Restart metronome"),
    ("dcos_mesos_dns", "install.yml", "dcos-mesos-dns.service", "Restart mesos-dns"),
    ("dcos_agent", "main.yml", "dcos-mesos-agent.service", "Restart agent"),
]
HOSTS = ["m1", "m2", "m3"]


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def handler(role: str, name: str) -> dict[str, Any]:
    found = [h for h in load(REPO / "roles" / role / "handlers" / "main.yml") if h["name"] == name]
    assert len(found) == 1, name
    return dict(found[0])


def tasks_of(role: str, file: str) -> list[dict[str, Any]]:
    return list(load(REPO / "roles" / role / "tasks" / file))


def stand_in_play(tmp: Path, role: str, name: str, failing_gate: str = "") -> Path:
    """A role holding the real handler `name` of `role`, with a restart.yml that logs each host's
    restart and gate (the gate of `failing_gate` fails), notified on every host of a play."""
    fake = tmp / "roles" / "fake"
    for folder in ("handlers", "tasks"):
        (fake / folder).mkdir(parents=True)
    (fake / "handlers" / "main.yml").write_text(yaml.safe_dump([handler(role, name)]))
    log = tmp / "log"
    restart = [
        {
            "name": "One host's restart",
            "any_errors_fatal": True,
            "block": [
                {
                    "name": "restart",
                    "ansible.builtin.shell": f"echo restart {{{{ inventory_hostname }}}} >> {log}",
                },
                {
                    "name": "gate",
                    "ansible.builtin.shell": f"echo healthy {{{{ inventory_hostname }}}} >> {log}; "
                    f"test {{{{ inventory_hostname }}}} != '{failing_gate}'",
                },
            ],
        }
    ]
    (fake / "tasks" / "restart.yml").write_text(yaml.safe_dump(restart))
    (fake / "tasks" / "main.yml").write_text(
        yaml.safe_dump(
            [
                {
                    "name": "change",
                    "ansible.builtin.command": "true",
                    "changed_when": True,
                    "notify": name,
                },
                {"name": "flush", "ansible.builtin.meta": "flush_handlers"},
            ]
        )
    )
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    (tmp / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {h: local for h in HOSTS}}}))
    play = [
        {"name": "notify on every host", "hosts": "all", "gather_facts": False, "roles": ["fake"]}
    ]
    (tmp / "play.yml").write_text(yaml.safe_dump(play))
    return log


def run_stand_in(tmp: Path) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_ROLES_PATH=str(tmp / "roles"), ANSIBLE_FORKS="10"
    )
    return subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "-i", str(tmp / "hosts.yml"), str(tmp / "play.yml")],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(("role", "name", "unit"), ROLLING)
def test_handler_rolls_one_host_at_a_time_each_after_its_gate(
    role: str, name: str, unit: str, tmp_path: Path
) -> None:
    log = stand_in_play(tmp_path, role, name)
    done = run_stand_in(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = log.read_text().split()
    events = list(zip(lines[::2], lines[1::2], strict=True))
    # Each host: restart, then its gate, before the next host's restart (hosts in any order).
    assert [kind for kind, _ in events] == ["restart", "healthy"] * len(HOSTS), events
    assert [host for _, host in events[::2]] == [host for _, host in events[1::2]]
    assert sorted(host for _, host in events[::2]) == HOSTS


@pytest.mark.parametrize(("role", "name", "unit"), ROLLING[:3])
def test_a_failed_gate_stops_the_roll(role: str, name: str, unit: str, tmp_path: Path) -> None:
    # The first host to roll fails its gate: no other host restarts.
    log = stand_in_play(tmp_path, role, name, failing_gate="m1")
    done = run_stand_in(tmp_path)
    assert done.returncode != 0
    restarted = [
        line.split()[1] for line in log.read_text().splitlines() if line.startswith("restart")
    ]
    assert "m1" in restarted
    assert restarted[-1] == "m1", restarted


@pytest.mark.parametrize(("role", "name", "unit"), ROLLING)
def test_restart_file_restarts_one_unit_and_gates_it(role: str, name: str, unit: str) -> None:
    spec = handler(role, name)
    assert spec["ansible.builtin.include_tasks"] == "restart.yml"
    assert spec["loop"] == ["{{ inventory_hostname }}"]
    (block,) = tasks_of(role, "restart.yml")
    assert block["any_errors_fatal"] is True
    restart, gate = block["block"]
    assert restart["ansible.builtin.systemd_service"]["state"] == "restarted"
    assert restart["throttle"] == 1
    assert gate["ansible.builtin.include_tasks"] == "gate.yml"
    # Only a unit that ran before this play is restarted (a fresh install starts all at once).
    assert "ActiveState" in block["when"]


def test_no_restart_is_signalled_by_a_debug_task() -> None:
    debugs = [
        f"{path.relative_to(REPO)}: {task.get('name')}"
        for path in sorted((REPO / "roles").glob("*/tasks/*.yml"))
        for task in load(path) or []
        if "ansible.builtin.debug" in task and task.get("notify")
    ]
    assert debugs == []


@pytest.mark.parametrize(("role", "file", "unit", "name"), RELEASED)
def test_unit_restarts_onto_a_new_release_when_its_process_runs_another(
    role: str, file: str, unit: str, name: str
) -> None:
    probes = [
        t
        for t in tasks_of(role, file)
        if t.get("ansible.builtin.include_role", {}).get("tasks_from") == "running_release"
    ]
    assert [p["vars"] for p in probes] == [{"dcos_common_unit": unit, "dcos_common_restart": name}]
    assert handler(role, name)
    (probe,) = tasks_of("dcos_common", "running_release.yml")
    assert probe["notify"] == "{{ dcos_common_restart }}"
    assert probe["check_mode"] is False
