"""The protocols layer is the bottom: the standard library's pure parts and itself, nothing else.

Every import counts, also one inside a function or under TYPE_CHECKING: each would load the
module at some point, and with it whatever it drags in.
"""

from __future__ import annotations

import sys
from pathlib import Path

import daemons.protocols as protocols
from tests.purity import FORBIDDEN, imports

PACKAGE = Path(protocols.__file__).parent
# Beyond the cores' list: no threads, event loops, networking or processes in the wire layer.
IMPURE = FORBIDDEN | {
    "_thread",
    "asyncio",
    "concurrent",
    "http",
    "multiprocessing",
    "select",
    "selectors",
    "signal",
    "ssl",
    "urllib",
}


def allowed(name: str) -> bool:
    if name == "daemons.protocols" or name.startswith("daemons.protocols."):
        return True
    top = name.split(".")[0]
    return top in sys.stdlib_module_names and top not in IMPURE


def test_protocols_imports_only_the_pure_standard_library_and_itself() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) >= 12
    assert not [p for p in modules if "from ." in p.read_text()]  # no relative imports to miss
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            n for n in imports(path.read_text()) if not allowed(n)
        )
        for path in modules
    }
    assert {path: bad for path, bad in offenders.items() if bad} == {}


def test_the_checker_would_catch_an_import_from_above_or_an_impure_one() -> None:
    source = "import time\ndef f():\n    from daemons.kit import errors\n"
    assert sorted(n for n in imports(source) if not allowed(n)) == ["daemons.kit", "time"]
    assert not allowed("flask") and not allowed("kazoo.client") and allowed("dataclasses")
