"""What every Marathon blueprint shares: the running `Marathon` and the request's JSON body
(read by the kit: 415 unless it is `application/json`, 413, 400)."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from daemons.kit import args
from daemons.kit.body import read_json
from daemons.marathon.marathon import Marathon


def marathon() -> Marathon:
    found: Marathon = current_app.extensions["marathon"]
    return found


def body() -> Any:
    return read_json(request)


def kill_options() -> dict[str, bool]:
    """`scale`, `wipe` and `force` of the task-killing endpoints."""
    return {name: args.flag(name) for name in ("scale", "wipe", "force")}
