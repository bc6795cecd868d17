"""Metronome's cores stay pure: no clock, randomness, threads, sockets, Flask, kazoo or requests,
and nothing of the shell (error tree, store, state, scheduler, cron, service, API)."""

from __future__ import annotations

from pathlib import Path

import daemons.metronome as package
from daemons.metronome.validation import Invalid, Problems
from tests.purity import violations

CORE = ("timestamps", "validation", "jobspec", "schedule", "runs", "placement", "jobinfo")
SHELL = (
    "errors",
    "store",
    "metronome",
    "scheduler",
    "cron",
    "service",
    "http",
    "api_jobs",
    "api_schedules",
    "api_runs",
    "api_info",
    "app",
    "main",
    "config",
)


def test_the_cores_import_nothing_impure_and_nothing_of_the_shell() -> None:
    assert violations(Path(package.__file__).parent, "daemons.metronome", CORE, shell=SHELL) == {}


def test_the_shell_renders_the_cores_problems_as_422() -> None:
    p = Problems()
    p.add("/run/cpus", "must be at least 0.01")
    p.add("/run/cpus", "must be a number")
    try:
        p.raise_if_any()
    except Invalid as err:
        rendered = err
    assert rendered.status == 422
    assert rendered.body() == {
        "message": "Object is not valid",
        "details": [{"path": "/run/cpus", "errors": ["must be at least 0.01", "must be a number"]}],
    }
