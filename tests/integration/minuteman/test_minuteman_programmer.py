"""`minuteman.programmer` on a real kernel through libnftables: the first apply loads the table
(or leaves it when a restarted daemon finds it as it should be), changes are single
transactions, drift is repaired by reconcile, and a change the kernel refuses is followed by a
full load. Run in a network namespace made for the test: the scenario runs in a process started
inside it (libnftables works in its caller's namespace) and prints what it saw."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

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


def test_the_programmer_loads_changes_keeps_and_repairs(namespace: str) -> None:
    out = subprocess.run(
        ["ip", "netns", "exec", namespace, sys.executable, "-c", SCENARIO, str(REPO)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)

    def c(changes: int, full: int, repairs: int = 0, failures: int = 0) -> dict[str, float]:
        return {"changes": changes, "full_loads": full, "repairs": repairs, "failures": failures}

    assert seen["fresh"] == [c(0, 1), True]
    assert seen["change"] == [c(1, 1), True]
    assert seen["restart same"] == [c(0, 0), True]
    assert seen["restart other"] == [c(0, 1), True]
    assert seen["drift"] == [True, c(0, 2, repairs=1), True]
    assert seen["no drift"] == [False, c(0, 2, repairs=1)]
    assert seen["refused"] == [c(0, 3, repairs=1, failures=1), True]
