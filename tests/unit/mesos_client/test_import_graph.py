"""The client's modules import each other directly and never in a circle.

A module that imports `daemons.mesos_client` (the package) while the package's `__init__`
imports that module works only by the accident of import order; each module names the module it
needs instead.
"""

from __future__ import annotations

from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import daemons.mesos_client as client
from tests.purity import imports

PACKAGE = Path(client.__file__).parent
NAME = "daemons.mesos_client"


def graph() -> dict[str, set[str]]:
    """Module -> the client modules (or the package) it imports."""
    out: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.glob("*.py")):
        module = NAME if path.stem == "__init__" else f"{NAME}.{path.stem}"
        out[module] = {
            n for n in imports(path.read_text()) if n == NAME or n.startswith(NAME + ".")
        }
    return out


def test_no_module_imports_the_package() -> None:
    edges = graph()
    assert len(edges) >= 10
    assert sorted(m for m, deps in edges.items() if NAME in deps and m != NAME) == []


def test_the_modules_import_each_other_without_a_circle() -> None:
    try:
        order = list(TopologicalSorter(graph()).static_order())
    except CycleError as err:
        raise AssertionError(f"import circle: {err.args[1]}") from None
    assert order[-1] == NAME  # the package comes last: it imports what it re-exports


def test_from_daemons_it_uses_only_the_protocols_layer_and_the_zookeeper_adapter() -> None:
    outside = {
        n
        for path in PACKAGE.glob("*.py")
        for n in imports(path.read_text())
        if n.startswith("daemons.") and not n.startswith(NAME)
    }
    assert {n for n in outside if not n.startswith("daemons.protocols")} == {"daemons.kit"}
    zk_users = [
        p.name for p in PACKAGE.glob("*.py") if "from daemons.kit import zk" in p.read_text()
    ]
    assert zk_users == ["leader.py"]
