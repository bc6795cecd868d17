"""The DeclineOffers benchmark scenario, small: it runs, and filters exhaust the offers."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[3] / "bench" / "allocator.py"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_allocator", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_allocator", module)
    spec.loader.exec_module(module)
    return module


def test_every_framework_refuses_every_agent_once_then_nothing_is_offered() -> None:
    result = load_bench().run_one(agents=40, frameworks=5, rounds=7)
    # One offer per agent while some framework has not refused it yet (5 rounds), then none.
    assert result["offer_counts"] == [40, 40, 40, 40, 40, 0, 0]
    assert result["filters"] == 40 * 5
    assert len(result["round_seconds"]) == 7
