"""JSON documents assembled from pre-serialised pieces.

`/master/state` holds thousands of task objects that rarely change between two polls. Each task
keeps its own serialised bytes (dropped when it changes); a document marks such lists with `Raw`
and `dumps` serialises only the small skeleton around them, then splices the pieces in with one
pass. Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any


class Raw:
    """A JSON array whose items are already serialised."""

    __slots__ = ("items",)

    def __init__(self, items: Sequence[bytes]) -> None:
        self.items = items


def _strip(obj: Any, raws: list[Raw], tag: str) -> Any:
    if isinstance(obj, Raw):
        raws.append(obj)
        return f"{tag}{len(raws) - 1}@@"
    if isinstance(obj, dict):
        return {k: _strip(v, raws, tag) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_strip(v, raws, tag) for v in obj]
    return obj


def dumps(obj: Any) -> bytes:
    # A placeholder string could also occur in the data itself: then the count of matches is
    # off, and we try again with another tag (deterministic; in practice the first one works).
    for attempt in range(100):
        tag = f"@@raw{attempt}-"
        raws: list[Raw] = []
        skeleton = json.dumps(_strip(obj, raws, tag), separators=(",", ":")).encode()
        if not raws:
            return skeleton
        pattern = re.compile(b'"' + re.escape(tag.encode()) + rb'(\d+)@@"')
        parts = pattern.split(skeleton)
        if len(parts) != 2 * len(raws) + 1:
            continue
        out: list[bytes] = [parts[0]]
        for i in range(1, len(parts), 2):
            out.append(b"[" + b",".join(raws[int(parts[i])].items) + b"]")
            out.append(parts[i + 1])
        return b"".join(out)
    raise ValueError("no free placeholder tag for raw JSON pieces")
