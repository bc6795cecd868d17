"""Endpoints and 307 locations, leader detection from MasterInfo, backoff, executor settings,
and the package's import boundary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from daemons.mesos_client import (
    Backoff,
    Endpoint,
    ExecutorSettings,
    MasterUnavailable,
    StaticMaster,
    detector_for,
    parse_duration,
)
from daemons.mesos_client.leader import endpoint_from_master_info
from daemons.mesos_client.transport import parse_endpoint

ROOT = Path(__file__).parents[3]


@pytest.mark.parametrize(
    "text, endpoint",
    [
        ("127.0.0.1:5050", Endpoint("127.0.0.1", 5050)),
        ("master.mesos", Endpoint("master.mesos", 5050)),
        ("http://10.0.0.1:15050", Endpoint("10.0.0.1", 15050)),
        ("http://10.0.0.1:15050/", Endpoint("10.0.0.1", 15050)),
        ("//10.0.0.2:5050/api/v1/scheduler", Endpoint("10.0.0.2", 5050)),
        ("[::1]:5050", Endpoint("::1", 5050)),
    ],
)
def test_parse_endpoint(text: str, endpoint: Endpoint) -> None:
    assert parse_endpoint(text, 5050) == endpoint


def test_endpoint_text() -> None:
    assert Endpoint("::1", 5050).url == "http://[::1]:5050"
    assert str(Endpoint("h", 1)) == "h:1"
    with pytest.raises(ValueError):
        parse_endpoint("http://:5050", 5050)


def test_detector_for() -> None:
    assert isinstance(detector_for("127.0.0.1:5050"), StaticMaster)
    assert detector_for("127.0.0.1").leader() == Endpoint("127.0.0.1", 5050)


@pytest.mark.parametrize(
    "info, endpoint",
    [
        (
            {"address": {"hostname": "m1", "ip": "10.0.0.1", "port": 5050}},
            Endpoint("10.0.0.1", 5050),
        ),
        ({"address": {"hostname": "m1", "port": 5051}}, Endpoint("m1", 5051)),
        ({"hostname": "m2", "port": 5052}, Endpoint("m2", 5052)),
    ],
)
def test_endpoint_from_master_info(info: dict[str, Any], endpoint: Endpoint) -> None:
    assert endpoint_from_master_info(info) == endpoint


def test_master_info_without_address() -> None:
    with pytest.raises(MasterUnavailable):
        endpoint_from_master_info({"id": "x"})


def test_zookeeper_without_leader_is_unavailable() -> None:
    from daemons.mesos_client import ZooKeeperMaster

    class Empty:
        def get_children(self, path: str) -> list[str]:
            return []

    detector = ZooKeeperMaster("zk://127.0.0.1:1,127.0.0.1:2/mesos", connect=lambda hosts: Empty())
    with pytest.raises(MasterUnavailable, match="no leading master"):
        detector.leader()


def test_backoff_grows_and_caps() -> None:
    backoff = Backoff(initial=0.5, maximum=4.0, factor=2.0)
    # 0.5 * 2**n, capped at 4
    assert [backoff.delay(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert backoff.delay(10_000) == 4.0


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("5secs", 5.0),
        ("3mins", 180.0),
        ("250ms", 0.25),
        ("1.5hrs", 5400.0),
        ("2days", 172800.0),
        ("1weeks", 604800.0),
        ("10", 10.0),
        ("100us", 1e-4),
        ("7ns", 7e-9),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5 parsecs", "-1secs", "secs"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_executor_settings_from_the_agents_environment() -> None:
    settings = ExecutorSettings.from_env(
        {
            "MESOS_FRAMEWORK_ID": "fw-1",
            "MESOS_EXECUTOR_ID": "e1",
            "MESOS_AGENT_ENDPOINT": "127.0.0.1:5051",
            "MESOS_SLAVE_ID": "S0",
            "MESOS_DIRECTORY": "/var/lib/mesos/slaves/S0/x",
            "MESOS_SANDBOX": "/mnt/mesos/sandbox",
            "MESOS_CHECKPOINT": "0",
            "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD": "5secs",
            "MESOS_EXECUTOR_AUTHENTICATION_TOKEN": "secret-token",
        }
    )
    assert settings.agent_id == "S0"
    assert settings.checkpoint is False  # "0" means no, unlike pymesos' bool("0")
    assert settings.shutdown_grace_period == 5.0
    assert settings.recovery_timeout == 900.0
    assert "secret-token" not in repr(settings)
    assert (
        ExecutorSettings.from_env(
            {
                "MESOS_FRAMEWORK_ID": "f",
                "MESOS_EXECUTOR_ID": "e",
                "MESOS_AGENT_ENDPOINT": "a:1",
                "MESOS_CHECKPOINT": "1",
                "MESOS_RECOVERY_TIMEOUT": "30secs",
            }
        ).recovery_timeout
        == 30.0
    )


def test_executor_settings_name_what_is_missing() -> None:
    with pytest.raises(ValueError, match="MESOS_EXECUTOR_ID, MESOS_AGENT_ENDPOINT"):
        ExecutorSettings.from_env({"MESOS_FRAMEWORK_ID": "f"})


def test_package_imports_neither_flask_nor_kazoo_nor_daemon_code() -> None:
    code = (
        "import sys, daemons.mesos_client\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'werkzeug', 'kazoo')"
        " or (m.startswith('daemons.') and not m.startswith("
        "('daemons.protocols', 'daemons.mesos_client')))]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr
