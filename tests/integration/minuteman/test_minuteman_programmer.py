"""`minuteman.programmer` on a real kernel through libnftables: the first apply loads the table
(or leaves it when a restarted daemon finds it as it should be), changes are single
transactions, drift is repaired by reconcile, and a change the kernel refuses is followed by a
full load. Run in a network namespace made for the test: the scenario runs in a process started
inside it (libnftables works in its caller's namespace) and prints what it saw. The service
(`minuteman.service`) reads only the tasks a snapshot says changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

if os.geteuid() != 0:
    pytest.fail("these tests need root (a network namespace and nftables)")

REPO = Path(__file__).resolve().parents[3]

SCENARIO = textwrap.dedent(
    """
    import ipaddress, json, subprocess, sys
    sys.path.insert(0, sys.argv[1])
    from daemons.kit.l4lb.table import Backend, Service, Vip, VipTable
    from minuteman import ruleset
    from minuteman.metrics import Metrics
    from minuteman.nft import Nft
    from minuteman.programmer import LIST, Programmer

    WEB = Service(ipaddress.IPv4Address("198.19.0.9"), "tcp", 80)

    def table(*ports):
        return VipTable({WEB: Vip(WEB, (), tuple(Backend("198.18.0.50", p, 1) for p in ports))})

    def counts(m):
        return {name: getattr(m, name)._value.get() for name in
                ("changes", "full_loads", "repairs", "failures")}

    def holds(nft, t):
        return ruleset.parse_listing(nft.run(LIST)) == ruleset.expected(t)

    seen = {}
    nft, metrics = Nft(), Metrics()
    first = Programmer(nft, metrics)
    first.apply(table(31000))
    seen["fresh"] = [counts(metrics), holds(nft, table(31000))]
    first.apply(table(31000, 31001))
    seen["change"] = [counts(metrics), holds(nft, table(31000, 31001))]

    # A restarted daemon: the kernel already holds its table.
    metrics = Metrics()
    again = Programmer(Nft(), metrics)
    again.apply(table(31000, 31001))
    seen["restart same"] = [counts(metrics), holds(nft, table(31000, 31001))]
    metrics = Metrics()
    other = Programmer(Nft(), metrics)
    other.apply(table(31002))
    seen["restart other"] = [counts(metrics), holds(nft, table(31002))]

    subprocess.run(["nft", "flush", "map", "ip", "dcos_l4lb", "backends"], check=True)
    seen["drift"] = [other.reconcile(), counts(metrics), holds(nft, table(31002))]
    seen["no drift"] = [other.reconcile(), counts(metrics)]

    # The kernel lacks an element the change deletes: refused, then a full load.
    subprocess.run(["nft", "delete", "element", "ip", "dcos_l4lb", "backends",
                    "{ 198.19.0.9 . tcp . 80 . 0 }"], check=True)
    other.apply(table(31003))
    seen["refused"] = [counts(metrics), holds(nft, table(31003))]
    print(json.dumps(seen))
    """
)


@pytest.fixture
def namespace() -> Iterator[str]:
    name = f"pydcos-mmp-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    yield name
    subprocess.run(["ip", "netns", "del", name], check=True)


def run_in(namespace: str, scenario: str) -> Any:
    """What `scenario`, run by a process inside `namespace`, printed (JSON)."""
    out = subprocess.run(
        ["ip", "netns", "exec", namespace, sys.executable, "-c", scenario, str(REPO)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_the_programmer_loads_changes_keeps_and_repairs(namespace: str) -> None:
    seen = run_in(namespace, SCENARIO)

    def c(changes: int, full: int, repairs: int = 0, failures: int = 0) -> dict[str, float]:
        return {"changes": changes, "full_loads": full, "repairs": repairs, "failures": failures}

    assert seen["fresh"] == [c(0, 1), True]
    assert seen["change"] == [c(1, 1), True]
    assert seen["restart same"] == [c(0, 0), True]
    assert seen["restart other"] == [c(0, 1), True]
    assert seen["drift"] == [True, c(0, 2, repairs=1), True]
    assert seen["no drift"] == [False, c(0, 2, repairs=1)]
    assert seen["refused"] == [c(0, 3, repairs=1, failures=1), True]


SERVICE = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, sys.argv[1])
    from daemons.mesos_client.master_follower import MasterSnapshot
    from daemons.mesos_client.master_view import MasterState
    from minuteman import ruleset
    from minuteman.config import MinutemanConfig
    from minuteman.nft import Nft
    from minuteman.programmer import LIST, Programmer
    from minuteman.service import MinutemanService

    def task(n, healthy=True):
        return {"id": f"web.{n}", "slave_id": "S1", "state": "TASK_RUNNING",
                "statuses": [{"state": "TASK_RUNNING", "timestamp": 1.0 + n, "healthy": healthy}],
                "resources": {"ports": f"[{31000 + n}-{31000 + n}]"},
                "discovery": {"name": "web", "ports": {"ports": [{"number": 31000 + n,
                    "protocol": "tcp",
                    "labels": {"labels": [{"key": "VIP_0", "value": "/web:80"}]}}]}}}

    def event(n, healthy):
        status = {"task_id": {"value": f"web.{n}"}, "state": "TASK_RUNNING",
                  "timestamp": 10.0 + n, "healthy": healthy}
        return {"type": "TASK_UPDATED", "task_updated": {
            "framework_id": {"value": "F"}, "status": status, "state": "TASK_RUNNING"}}

    state = {"slaves": [{"id": "S1", "pid": "slave(1)@198.18.0.50:5051"}],
             "frameworks": [{"id": "F", "name": "marathon", "tasks": [task(0), task(1)]}]}
    service = MinutemanService(MinutemanConfig(route=False), print)
    nft = Nft()
    service.programmer = Programmer(nft, service.metrics)
    view = MasterState(state)
    service.take(MasterSnapshot(view.snapshot(), (), view.take_changes()))
    weights = lambda: sorted(b.weight for v in service.table.vips.values() for b in v.backends)
    seen = {"whole": weights()}
    view.apply(event(1, False))
    changes = view.take_changes()
    # The changes alone are read: a state that says nothing more changes nothing else.
    service.take(MasterSnapshot({"slaves": [], "frameworks": []}, (), changes))
    seen["changed"] = [weights(), len(changes)]
    seen["kernel"] = ruleset.parse_listing(nft.run(LIST)) == ruleset.expected(service.table)
    print(json.dumps(seen))
    """
)


def test_the_service_reads_only_the_tasks_a_snapshot_says_changed(namespace: str) -> None:
    seen = run_in(namespace, SERVICE)
    assert seen["whole"] == [1, 1]
    assert seen["changed"] == [[0, 1], 1]  # web.1 unhealthy; web.0 kept (the state was empty)
    assert seen["kernel"] is True
