"""tests/fixtures/mesos_dns/master_state.json is what our master renders today: rebuilt by
master_state.py (in-process master, Marathon's and Metronome's TaskInfos) and compared, so the
record tests read the shape the master really serves."""

from __future__ import annotations

import json

from tests.unit.mesos_dns.master_state import FIXTURE, build_state


def test_the_fixture_is_the_masters_current_rendering() -> None:
    assert json.loads(FIXTURE.read_text()) == build_state(), (
        "the master renders /master/state differently now: check the change, then rewrite the "
        "fixture with `python tests/unit/mesos_dns/master_state.py`"
    )
