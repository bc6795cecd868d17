"""The wire layer at the bottom of every daemon: the Mesos v1 shapes and nothing else.

RecordIO framing (`recordio`), resources (`resources`), task states (`states`), ids (`ids`) and
the frozen typed models parsed once at the edge (`models`). Pure: it imports only the standard
library, never Flask, kazoo, requests, sockets, threads or a clock, and nothing above it; every
other layer may import it (docs/architecture.md).
"""

from __future__ import annotations

from typing import Any

# A JSON object as json.loads gives it: what crosses the wire before (and after) it is typed.
JSON = dict[str, Any]
