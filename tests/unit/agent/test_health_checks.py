"""Mesos health checks, the pure part: parsing with Mesos' defaults and the verdicts.

Times are seconds since the task started (`started_at` = 0). The probes and the executor's use of
them are in tests/integration/agent/test_executor_health.py.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemons.agent.executors import health_checks as hc
from daemons.agent.executors.health_checks import HealthCheck, HealthState, Transition

HTTP = {"type": "HTTP", "http": {"scheme": "http", "port": 31001, "path": "/health"}}


def check(**kwargs: Any) -> HealthCheck:
    """A TCP check with no grace period, 3 failures to kill, unless told otherwise."""
    return HealthCheck(**{"kind": "TCP", "port": 1, "grace_period": 0.0, **kwargs})


def run(c: HealthCheck, outcomes: list[tuple[float, bool]]) -> list[Transition | None]:
    state, out = HealthState(), []
    for now, ok in outcomes:
        state, transition = hc.observe(c, state, ok, now, 0.0)
        out.append(transition)
    return out


# --- parsing ------------------------------------------------------------------------------------


def test_mesos_defaults() -> None:
    parsed = hc.parse_health_check(HTTP)
    assert parsed == HealthCheck(
        "HTTP",
        delay=15.0,
        interval=10.0,
        timeout=20.0,
        consecutive_failures=3,
        grace_period=10.0,
        host="127.0.0.1",
        port=31001,
        scheme="http",
        path="/health",
    )


def test_the_marathon_example_parses_every_field() -> None:
    raw = {
        **HTTP,
        "delay_seconds": 1,
        "interval_seconds": 2.5,
        "timeout_seconds": 3,
        "consecutive_failures": 4,
        "grace_period_seconds": 5,
    }
    parsed = hc.parse_health_check(raw)
    assert (parsed.delay, parsed.interval, parsed.timeout) == (1.0, 2.5, 3.0)
    assert (parsed.consecutive_failures, parsed.grace_period) == (4, 5.0)


def test_https_ipv6_and_the_default_path() -> None:
    raw = {"type": "HTTP", "http": {"scheme": "https", "port": 443, "protocol": "IPv6"}}
    parsed = hc.parse_health_check(raw)
    assert (parsed.scheme, parsed.host, parsed.path) == ("https", "::1", "/")


def test_tcp_and_a_zero_timeout_meaning_none() -> None:
    parsed = hc.parse_health_check({"type": "TCP", "tcp": {"port": 8080}, "timeout_seconds": 0})
    assert (parsed.kind, parsed.port, parsed.host, parsed.timeout) == (
        "TCP",
        8080,
        "127.0.0.1",
        None,
    )


def test_command_shell_and_plain() -> None:
    shell = hc.parse_health_check({"type": "COMMAND", "command": {"value": "test -f /tmp/x"}})
    assert hc.command_argv(shell) == ["/bin/sh", "-c", "test -f /tmp/x"]
    assert hc.program(shell) == "/bin/sh"
    raw = {"value": "/bin/test", "shell": False, "arguments": ["test", "-f", "x"]}
    plain = hc.parse_health_check({"type": "COMMAND", "command": raw})
    assert (hc.program(plain), hc.command_argv(plain)) == ("/bin/test", ["test", "-f", "x"])
    bare = hc.parse_health_check(
        {"type": "COMMAND", "command": {"value": "/bin/true", "shell": False}}
    )
    assert hc.command_argv(bare) == ["/bin/true"]


def test_command_environment_is_the_tasks_then_the_checks_values() -> None:
    variables = [
        {"name": "A", "value": "check"},
        {"name": "B", "type": "VALUE", "value": "2"},
        {"name": "S", "type": "SECRET", "secret": {"type": "REFERENCE"}},
    ]
    command = {"value": "true", "environment": {"variables": variables}}
    parsed = hc.parse_health_check({"type": "COMMAND", "command": command})
    env = hc.command_environment({"A": "task", "PORT0": "31001"}, parsed)
    assert env == {"A": "check", "B": "2", "PORT0": "31001"}


@pytest.mark.parametrize(
    "raw",
    [
        None,
        {},
        {"type": "UNKNOWN"},
        {"type": "HTTP"},
        {"type": "HTTP", "http": {}},
        {"type": "HTTP", "http": {"port": 0}},
        {"type": "HTTP", "http": {"port": 70000}},
        {"type": "HTTP", "http": {"port": True}},
        {"type": "HTTP", "http": {"port": 80, "scheme": "ftp"}},
        {"type": "HTTP", "http": {"port": 80, "path": "health"}},
        {"type": "TCP", "tcp": {"port": 80, "protocol": "IPX"}},
        {"type": "TCP", "tcp": {"port": 80}, "interval_seconds": -1},
        {"type": "TCP", "tcp": {"port": 80}, "delay_seconds": "15"},
        {"type": "TCP", "tcp": {"port": 80}, "consecutive_failures": -1},
        {"type": "TCP", "tcp": {"port": 80}, "consecutive_failures": 2.5},
        {"type": "COMMAND", "command": {}},
        {"type": "COMMAND", "command": {"value": "x", "arguments": "x"}},
    ],
)
def test_what_mesos_validation_refuses(raw: Any) -> None:
    with pytest.raises(hc.InvalidHealthCheck):
        hc.parse_health_check(raw)


# --- verdicts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "healthy"),
    [(199, False), (200, True), (302, True), (399, True), (400, False), (503, False)],
)
def test_http_healthy_is_2xx_and_3xx(status: int, healthy: bool) -> None:
    assert hc.http_healthy(status) is healthy


def test_probes_start_after_the_delay_then_follow_the_interval() -> None:
    c = check(delay=15.0, interval=10.0)
    assert hc.first_probe_at(c, 100.0) == 115.0
    assert hc.next_probe_at(c, 117.5) == 127.5  # interval counted from the previous result


def test_the_first_success_reports_healthy_once() -> None:
    assert run(check(), [(1, True), (2, True), (3, True)]) == [Transition(True), None, None]


def test_failures_in_the_grace_period_are_ignored_until_the_first_success() -> None:
    c = check(grace_period=10.0, consecutive_failures=1)
    # inside the grace period (now - start <= 10, inclusive as Mesos): nothing, not even counted
    assert run(c, [(1, False), (5, False), (10, False)]) == [None, None, None]
    # the grace period over: the first counted failure kills (consecutive_failures = 1)
    assert run(c, [(1, False), (11, False)]) == [None, Transition(False, kill=True)]


def test_after_a_success_the_grace_period_no_longer_protects() -> None:
    c = check(grace_period=100.0, consecutive_failures=2)
    assert run(c, [(1, True), (2, False), (3, False)]) == [
        Transition(True),
        Transition(False),
        Transition(False, kill=True),
    ]


def test_a_zero_grace_period_counts_the_first_failure() -> None:
    assert run(check(grace_period=0.0), [(0, False)]) == [Transition(False)]


def test_reports_only_on_change_and_kills_after_n_consecutive_failures() -> None:
    c = check(consecutive_failures=3)
    outcomes = [(1, True), (2, False), (3, False), (4, True), (5, False), (6, False), (7, False)]
    assert run(c, outcomes) == [
        Transition(True),
        Transition(False),  # healthy -> unhealthy
        None,  # still unhealthy: nothing
        Transition(True),  # back: the failure count starts over
        Transition(False),
        None,
        Transition(False, kill=True),  # the third in a row: reported again, and the kill
    ]


def test_a_task_never_healthy_is_reported_unhealthy_then_killed() -> None:
    assert run(check(), [(1, False), (2, False), (3, False)]) == [
        Transition(False),
        None,
        Transition(False, kill=True),
    ]


@pytest.mark.parametrize("failures", [0, 1])
def test_zero_consecutive_failures_acts_as_one(failures: int) -> None:
    # Mesos compares `failures >= consecutive_failures`: 0 kills at the first counted failure.
    assert run(check(consecutive_failures=failures), [(1, False)]) == [Transition(False, kill=True)]


def test_nothing_is_decided_after_the_kill() -> None:
    c = check(consecutive_failures=1)
    state, first = hc.observe(c, HealthState(), False, 1.0, 0.0)
    assert first == Transition(False, kill=True) and state.killed
    assert hc.observe(c, state, True, 2.0, 0.0) == (state, None)
    assert hc.observe(c, state, False, 3.0, 0.0) == (state, None)


@given(st.lists(st.booleans(), max_size=40), st.integers(1, 5))
def test_invariants(outcomes: list[bool], limit: int) -> None:
    """Reports alternate (never the same `healthy` twice in a row, but for the kill's); at most
    one kill, which is the last transition and comes after `limit` failures in a row."""
    c = check(consecutive_failures=limit)
    transitions = [t for t in run(c, [(i + 1.0, ok) for i, ok in enumerate(outcomes)]) if t]
    kills = [i for i, t in enumerate(transitions) if t.kill]
    assert len(kills) <= 1 and (not kills or kills[0] == len(transitions) - 1)
    for before, after in itertools.pairwise(transitions):
        assert before.healthy != after.healthy or after.kill
    run_of_failures, killed_at = 0, None
    for i, ok in enumerate(outcomes):
        run_of_failures = 0 if ok else run_of_failures + 1
        if run_of_failures == limit and killed_at is None:
            killed_at = i
    assert bool(kills) == (killed_at is not None)


def test_the_module_is_pure() -> None:
    """No clock, sockets or processes in the decisions (house rule: pure core, thin shell)."""
    tree = ast.parse(Path(hc.__file__).read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }
    assert not imported & {"time", "os", "socket", "subprocess", "threading", "_thread", "random"}
