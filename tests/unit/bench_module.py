"""Loading a benchmark of `bench/` as a module (the folder is not a package), so that unit tests
can run its pure helpers or a small scenario of it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"


def load_bench(filename: str) -> ModuleType:
    """`bench/<filename>` as module `bench_<stem>` (loaded once per test session)."""
    name = f"bench_{Path(filename).stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCH_DIR / filename)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module
