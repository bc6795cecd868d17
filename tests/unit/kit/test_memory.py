"""The kit's release of freed memory (glibc's malloc_trim)."""

from __future__ import annotations

import sys

import pytest

from daemons.kit import memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc on Linux")
def test_release_free_memory_asks_glibc_and_keeps_what_is_held() -> None:
    held = [bytes(4096) for _ in range(1000)]
    dropped = [bytes(4096) for _ in range(1000)]
    del dropped
    assert memory.release_free_memory() is True
    assert memory.release_free_memory() is True  # again: nothing left to give, no harm
    assert all(len(b) == 4096 and not any(b) for b in held)
