"""Fixtures of the fault-injection suite (docs/fault-scenarios.md): one cluster, one workload.

`fault_cluster` (session): test hosts `faults` (3 masters at 198.18.0.51-.53, 2 private agents
at .61-.62) installed by site.yml with the test profile, torn down at the end whatever happened
(and before, in case an interrupted run left them). `workload` (session): the PARTITION_AWARE
framework of faults_framework.py with its 20 tasks running. The table of measured figures is
printed at the end of the session (pytest_terminal_summary), passed or not.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Iterator

import pytest
from faults_checks import FIGURES, wait_target
from faults_cluster import (
    CLUSTER,
    LAYOUT,
    ZK_URL,
    FaultCluster,
    profile_vars,
    write_vars,
)
from faults_framework import Workload

from tools import testhosts
from tools.cluster import playbook, write_inventory
from tools.processes import REPO_ROOT

# Set to 1 to keep the cluster after the session and reuse it in the next (debugging only).
KEEP = os.environ.get("PYDCOS_FAULTS_KEEP") == "1"
# A release dir of its own: another run (make cluster, Molecule) may be building the shared one.
RELEASE_DIR = REPO_ROOT / "build" / "faults-release"


def _require_host_tools() -> None:
    missing = [tool for tool in ("nft", "ip", "ssh") if shutil.which(tool) is None]
    if missing:
        # Not a skip: the suite is part of `make test`, and a missing tool is a machine defect.
        pytest.fail(f"the fault suite needs {', '.join(missing)} on this host (apt nftables)")


@pytest.fixture(scope="session")
def fault_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultCluster]:
    _require_host_tools()
    work = tmp_path_factory.mktemp("faults")
    extra_vars, missing = profile_vars()
    if missing:
        FIGURES.notes.append(
            "profile keys this tree's configs do not know (left out of the install): "
            + ", ".join(missing)
        )
    if not KEEP:
        testhosts.down(CLUSTER)  # what an interrupted run left
    cluster: FaultCluster | None = None
    try:
        start = time.monotonic()
        testhosts.up(CLUSTER, LAYOUT.nodes)
        booted = time.monotonic() - start
        inventory = write_inventory(LAYOUT, RELEASE_DIR, CLUSTER, work / "hosts.yml")
        vars_file = write_vars(work / "profile.json", extra_vars)
        start = time.monotonic()
        playbook(inventory, "site.yml", "-e", f"@{vars_file}")
        FIGURES.notes.append(
            f"setup: test hosts {booted:.0f} s, site.yml {time.monotonic() - start:.0f} s"
        )
        cluster = FaultCluster()
        cluster.wait_whole(120)
        yield cluster
    finally:
        if cluster is not None:
            cluster.close()
        if not KEEP:
            testhosts.down(CLUSTER)


@pytest.fixture(scope="session")
def workload(fault_cluster: FaultCluster) -> Iterator[Workload]:
    framework = Workload(ZK_URL)
    framework.start()
    try:
        took = wait_target(framework, 120)
        FIGURES.notes.append(f"workload: {framework.target} tasks running after {took:.1f} s")
        yield framework
    finally:
        framework.close(teardown=True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES.rows and not FIGURES.notes:
        return
    terminalreporter.section("fault-injection figures (docs/fault-scenarios.md, test profile)")
    for line in FIGURES.table():
        terminalreporter.write_line(line)
    sys.stdout.flush()
