"""The shared config document as JSON: what a file or a znode holds (the store adds a version).

    {"config": {<Exhibitor config object>}, "lastRoll": "committed",
     "roll": null | {"direction": "forward", "configs": [{…}, …], "stage": 1,
                     "pending": ["10.0.0.2"], "current": "10.0.0.3", "deadlineMs": …,
                     "stepsDone": 1, "stepsTotal": 4, "reason": ""}}

Reading refuses anything malformed (ValueError) instead of guessing. No I/O here.
"""

from __future__ import annotations

import json
from typing import Any

from exhibitor.ensemble import SpecError
from exhibitor.properties import Properties, from_config_object, make, to_config_object
from exhibitor.rolling import BACK, FORWARD, Roll, Shared


def dumps(shared: Shared) -> bytes:
    roll = shared.roll
    doc: dict[str, Any] = {
        "config": to_config_object(shared.config),
        "lastRoll": shared.last_roll,
        "roll": None
        if roll is None
        else {
            "direction": roll.direction,
            "configs": [to_config_object(c) for c in roll.configs],
            "stage": roll.stage,
            "pending": list(roll.pending),
            "current": roll.current,
            "deadlineMs": roll.deadline_ms,
            "stepsDone": roll.steps_done,
            "stepsTotal": roll.steps_total,
            "reason": roll.reason,
        },
    }
    return json.dumps(doc, sort_keys=True).encode()


def _props(obj: Any) -> Properties:
    # A stored object is complete; the placeholder base only satisfies the signature.
    return from_config_object(obj, make("1:127.0.0.1", {}))


def loads(data: bytes) -> Shared:
    """The document; ValueError (with the problem) when it is not one."""
    try:
        doc = json.loads(data)
        config = _props(doc["config"])
        raw = doc["roll"]
        roll = None
        if raw is not None:
            configs = tuple(_props(c) for c in raw["configs"])
            roll = Roll(
                str(raw["direction"]),
                configs,
                int(raw["stage"]),
                tuple(str(h) for h in raw["pending"]),
                None if raw["current"] is None else str(raw["current"]),
                int(raw["deadlineMs"]),
                int(raw["stepsDone"]),
                int(raw["stepsTotal"]),
                str(raw.get("reason", "")),
            )
            if roll.direction not in (FORWARD, BACK) or not 1 <= roll.stage < len(configs):
                raise ValueError("roll direction or stage out of range")
        return Shared(config, roll, str(doc.get("lastRoll", "")))
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError, SpecError) as err:
        raise ValueError(f"not a shared Exhibitor config: {err}") from err
