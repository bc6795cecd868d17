"""The suite's own layout: pytest imports test modules by their basename (the test folders are
not packages), so two test files of one name anywhere under tests/ stop the whole run at
collection."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_test_module_names_are_unique() -> None:
    names = Counter(path.name for path in TESTS.rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []
