"""Marathon's cores stay pure: no clock, randomness, threads, sockets, Flask, kazoo or requests,
and nothing of the shell (store, state, scheduling, service, API, probes, events)."""

from __future__ import annotations

from pathlib import Path

import daemons.marathon as package
from tests.purity import imports, violations

CORE = (
    "model",
    "pathid",
    "timestamps",
    "appfields",
    "appdef",
    "appjson",
    "groups",
    "constraints",
    "offers",
    "task_info",
    "launch_queue",
    "deployment",
    "rolling",
    "backoff",
    "health",
)
SHELL = (
    "store",
    "marathon",
    "scheduling",
    "service",
    "views",
    "events",
    "probes",
    "app",
    "main",
    "api",
    "errors",
    "config",
)


def test_the_cores_import_nothing_impure_and_nothing_of_the_shell() -> None:
    assert violations(Path(package.__file__).parent, "daemons.marathon", CORE, shell=SHELL) == {}


def test_the_checker_sees_both_kinds() -> None:
    assert imports("import time\nfrom daemons.marathon.store import X\n") == {
        "time",
        "daemons.marathon.store",
    }
