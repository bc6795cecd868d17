"""The unit health rule (services-api.md §7.1), the name/description split, and the parsing of
systemctl's output, as pure functions."""

from __future__ import annotations

import pytest

from daemons.diagnostics import units
from daemons.diagnostics.units import HEALTHY, UNHEALTHY


def props(**kw: str) -> dict[str, str]:
    base = {
        "Id": "dcos-x.service",
        "Description": "X: does x",
        "LoadState": "loaded",
        "ActiveState": "active",
        "SubState": "running",
        "Result": "success",
        "ExecMainStatus": "0",
    }
    return {**base, **kw}


@pytest.mark.parametrize(
    ("overrides", "health"),
    [
        ({}, HEALTHY),
        ({"ActiveState": "inactive", "SubState": "dead"}, HEALTHY),
        ({"ActiveState": "activating", "SubState": "start"}, HEALTHY),
        ({"ActiveState": "active", "SubState": "waiting"}, HEALTHY),  # a timer
        ({"ActiveState": "active", "SubState": "listening"}, HEALTHY),  # a socket
        (
            {"ActiveState": "activating", "SubState": "auto-restart", "Result": "exit-code"},
            UNHEALTHY,
        ),
        ({"ActiveState": "failed", "SubState": "failed", "Result": "exit-code"}, UNHEALTHY),
        (
            {
                "ActiveState": "inactive",
                "SubState": "dead",
                "ExecMainStatus": "3",
                "Result": "exit-code",
            },
            UNHEALTHY,
        ),
        # SuccessExitStatus=143: a JVM stopped by SIGTERM, systemd says success.
        ({"ActiveState": "inactive", "SubState": "dead", "ExecMainStatus": "143"}, HEALTHY),
        ({"ActiveState": "deactivating", "SubState": "stop-sigterm"}, UNHEALTHY),
        ({"ActiveState": "reloading"}, UNHEALTHY),
        ({"LoadState": "not-found", "ActiveState": "active"}, UNHEALTHY),
        ({"LoadState": "bad-setting", "ActiveState": "inactive"}, UNHEALTHY),
        ({"LoadState": "masked", "ActiveState": "inactive"}, UNHEALTHY),
        ({"LoadState": ""}, UNHEALTHY),
    ],
)
def test_the_rule(overrides: dict[str, str], health: int) -> None:
    got, why = units.judge(props(**overrides))
    assert got == health
    assert (why == "") == (health == HEALTHY)
    if health != HEALTHY:
        assert "dcos-x.service" in why


def test_why_names_the_cause() -> None:
    assert "restarting" in units.judge(props(ActiveState="activating", SubState="auto-restart"))[1]
    inactive = props(ActiveState="inactive", ExecMainStatus="3", Result="exit-code")
    assert "status 3" in units.judge(inactive)[1]
    assert "LoadState=not-found" in units.judge(props(LoadState="not-found"))[1]


@pytest.mark.parametrize(
    ("description", "split"),
    [
        (
            "Mesos Master: distributed systems kernel",
            ("Mesos Master", "distributed systems kernel"),
        ),
        ("A: b: c", ("A", "b: c")),
        ("No colon here", ("No colon here", "")),
        ("", ("", "")),
        (":only a description", ("", "only a description")),
    ],
)
def test_name_and_description(description: str, split: tuple[str, str]) -> None:
    assert units.split_description(description) == split


def test_unit_of_fills_name_output_and_falls_back_to_the_id() -> None:
    healthy = units.unit_of(props(), journal="ignored for a healthy unit? no: passed in")
    assert (healthy.name, healthy.description, healthy.health) == ("X", "does x", HEALTHY)
    failed = units.unit_of(props(ActiveState="failed", Description=""), "line 1\nline 2\n")
    assert failed.name == "dcos-x.service"
    assert failed.output.splitlines()[1:] == ["line 1", "line 2"]
    assert failed.output.splitlines()[0].startswith("dcos-x.service is failed")
    assert failed.full() == {
        "id": "dcos-x.service",
        "name": "dcos-x.service",
        "health": UNHEALTHY,
        "output": failed.output,
        "description": "",
        "help": "",
    }
    assert set(failed.summary()) == {"id", "name", "health", "description"}


SHOW = """Id=dcos-a.service
Description=A: first
LoadState=loaded
ActiveState=active

Id=dcos-b.service
Description=B=with equals
LoadState=loaded
ActiveState=failed
"""


def test_parse_show_keeps_blocks_and_values_with_equals() -> None:
    blocks = units.parse_show(SHOW)
    assert [b["Id"] for b in blocks] == ["dcos-a.service", "dcos-b.service"]
    assert blocks[1]["Description"] == "B=with equals"
    assert units.parse_show("") == []


def test_unit_names_keeps_the_prefix_and_component_kinds() -> None:
    listing = (
        "dcos-a.service loaded active running A\n"
        "dcos-b.timer loaded active waiting B\n"
        "dcos-c.socket enabled enabled\n"
        "dcos-d.mount loaded active mounted D\n"
        "other.service loaded active running O\n"
        "\n"
    )
    assert units.unit_names(listing, "dcos-") == ["dcos-a.service", "dcos-b.timer", "dcos-c.socket"]


def test_units_of_sorts_and_leaves_out_names_that_are_only_referenced() -> None:
    blocks = [
        props(Id="dcos-z.service"),
        props(Id="dcos-ghost.service", LoadState="not-found", ActiveState="inactive"),
        props(Id="dcos-a.service", ActiveState="failed"),
        {"Description": "no id"},
    ]
    found = units.units_of(blocks, {"dcos-a.service": "journal line"})
    assert [u.id for u in found] == ["dcos-a.service", "dcos-z.service"]
    assert found[0].output.endswith("journal line")


def test_a_unit_file_gone_while_it_runs_is_still_a_component_and_unhealthy() -> None:
    block = props(LoadState="not-found", ActiveState="active")
    assert units.is_component(block)
    assert units.units_of([block], {})[0].health == UNHEALTHY


def test_pid_units() -> None:
    assert units.pid_unit("dcos-m.service", "/p", 12, True).health == HEALTHY
    dead = units.pid_unit("dcos-m.service", "/p", 12, False)
    assert dead.health == UNHEALTHY and "12" in dead.output
    missing = units.pid_unit("dcos-m.service", "/p", None, False)
    assert missing.health == UNHEALTHY and "/p" in missing.output
