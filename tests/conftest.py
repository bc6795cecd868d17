"""Suite-wide settings: the hypothesis profile, the `integration` marker and its root check.

Every test under tests/integration is marked `integration` here (no need to mark it by hand) and
skipped, with the reason, when not run as root: those tests start real daemons that make cgroups
and namespaces, as CI does (CI runs as root). With `CI` set, any skip fails (tests/ci_skips.py).
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# No per-example deadline: a loaded 2-core CI machine makes timing-based failures noise.
settings.register_profile("pydcos", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci", parent=settings.get_profile("pydcos"), print_blob=True, max_examples=100
)
settings.load_profile("ci" if os.environ.get("CI") else "pydcos")

INTEGRATION_DIR = Path(__file__).parent / "integration"

pytest_plugins = ["tests.ci_skips"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    need_root = pytest.mark.skip(
        reason="integration tests need root (real cgroups, namespaces and daemons, as in CI)"
    )
    for item in items:
        if INTEGRATION_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.integration)
            if os.geteuid() != 0:
                item.add_marker(need_root)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # Keep each phase's report on the item so that fixtures can print daemon logs on failure.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
