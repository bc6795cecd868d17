"""Finding the master: MasterInfo addresses, 307 Locations, host:port text."""

from __future__ import annotations

import pytest

from daemons.agent.master_link import leader_address, parse_host_port, redirect_target
from daemons.agent.messages import Subscribed


@pytest.mark.parametrize(
    ("location", "target"),
    [
        ("//10.0.0.2:5050/api/v1/agent", ("10.0.0.2", 5050)),
        ("http://m2.example:5050/api/v1/agent", ("m2.example", 5050)),
        ("10.0.0.3:5051", ("10.0.0.3", 5051)),
    ],
)
def test_redirect_locations(location: str, target: tuple[str, int]) -> None:
    assert redirect_target(location) == target


@pytest.mark.parametrize("text", ["", "host", "host:", ":5050", "host:http", "//"])
def test_bad_host_port(text: str) -> None:
    with pytest.raises(ValueError):
        redirect_target(text) if text.startswith("//") else parse_host_port(text)


def test_master_info_address_prefers_the_ip() -> None:
    info = {
        "hostname": "m1",
        "port": 5050,
        "address": {"hostname": "m1", "ip": "10.0.0.1", "port": 5050},
    }
    assert leader_address(info) == ("10.0.0.1", 5050)
    assert leader_address({"hostname": "m1", "port": 5050}) == ("m1", 5050)
    with pytest.raises(ValueError):
        leader_address({"id": "x"})


def test_watchdog_is_the_masters_ping_budget_plus_one_ping():
    from daemons.agent.master_link import watchdog_seconds

    subscribed = Subscribed("A", ping_timeout=1.0, max_ping_timeouts=5)
    assert watchdog_seconds(subscribed, 15.0) == 6.0
    assert watchdog_seconds(Subscribed("A", heartbeat_interval=2.0), 15.0) == 6.0
    assert watchdog_seconds(Subscribed("A"), 15.0) == 45.0
