"""The wire layer at the bottom of every daemon: the Mesos v1 shapes and nothing else.

RecordIO framing (`recordio`), resources (`resources`), task states (`states`), ids (`ids`) and
the frozen typed models parsed once at the edge (`models`). Pure: it imports only the standard
library, never Flask, kazoo, requests, sockets, threads or a clock, and nothing above it; every
other layer may import it (docs/architecture.md).

This package and `states` import nothing at run time, and `recordio` only what its framing
needs (json when it encodes JSON): the built-in executors, stdlib-only scripts tuned to start
in ~15 ms, run a copy of them (daemons/agent/builtin_executors.py), and `typing` alone would
cost them ~8 ms.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    # A JSON object as json.loads gives it: what crosses the wire before (and after) it is typed.
    JSON = dict[str, Any]
else:
    JSON = dict  # the same type at run time, without importing typing
