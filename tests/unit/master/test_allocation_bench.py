"""The DeclineOffers benchmark scenario, small: it runs, and filters exhaust the offers."""

from __future__ import annotations

from tests.unit.bench_module import load_bench


def test_every_framework_refuses_every_agent_once_then_nothing_is_offered() -> None:
    result = load_bench("allocator.py").run_one(agents=40, frameworks=5, rounds=7)
    # One offer per agent while some framework has not refused it yet (5 rounds), then none.
    assert result["offer_counts"] == [40, 40, 40, 40, 40, 0, 0]
    assert result["filters"] == 40 * 5
    assert len(result["round_seconds"]) == 7
