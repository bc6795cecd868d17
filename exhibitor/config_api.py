"""Exhibitor's `config/*` API: read the state, set the shared config, start or roll back a roll.

Answers are Exhibitor's Result, `{"message": …, "succeeded": bool}`. Losing a compare-and-set to
another writer is `200 {"succeeded": false}` as in Exhibitor; bad input is 400 and a request that
cannot be done now (a roll in progress, a static config, a change that would restart ZooKeeper
outside a roll, a force commit) is 409, both with `succeeded: false` and nothing changed (every
error of these routes carries `succeeded: false`: `ERROR_FIELDS`, rendered by the kit's one
handler). `If-Match: <version>` (get-state's ETag) makes a write apply only on top of that
version.

A GET never changes anything: Exhibitor's own `GET config/rollback-rolling` is `POST` here (a
GET answers 405 and says so), so that a link or a prefetch cannot roll a change back. Bodies
are read by the kit (`daemons.kit.body.read_json`): a Content-Type other than
`application/json`, or none, is 415, so a web page cannot post a config change either.
"""

from __future__ import annotations

import json
import time
from typing import Any

from flask import Blueprint, Response, request

from daemons.kit.body import read_json
from daemons.kit.errors import BadRequest, Conflict, MethodNotAllowed
from exhibitor import context, rolling
from exhibitor.ensemble import SpecError, myid
from exhibitor.properties import Properties, from_config_object, to_config_object
from exhibitor.rolling import Shared
from exhibitor.stores import Versioned

bp = Blueprint("exhibitor_config", __name__, url_prefix="/exhibitor/v1/config")
ERROR_FIELDS = {bp.name: {"succeeded": False}}


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(data), status, headers, mimetype="application/json")


def _result(message: str, succeeded: bool = True) -> Response:
    return _json({"message": message, "succeeded": succeeded})


@bp.get("/get-state")
def get_state() -> Response:
    found = context.shared()
    config = context.config()
    props = context.effective(found)
    rolling_now, roll_status, percent = rolling.status(found.shared)
    state = {
        "version": found.version,
        "running": context.ask(found, config.hostname, "ruok") == "imok",
        "backupActive": False,
        "standaloneMode": len(props.servers) == 1,
        "extraHeadingText": None,
        "nodeMutationsAllowed": False,
        "config": {
            "hostname": config.hostname,
            "serverId": myid(props.servers, config.hostname) or -1,
            "rollInProgress": rolling_now,
            "rollStatus": roll_status,
            "rollPercentDone": percent,
            "zookeeperDataDirectory": config.data_dir,
            "zookeeperLogDirectory": config.data_dir,
            **to_config_object(props),
            "autoManageInstances": 0,
            "autoManageInstancesFixedEnsembleSize": len(props.servers),
            "observerThreshold": 0,
        },
    }
    return _json(state, headers={"ETag": f'"{found.version}"'})


def _posted(found: Versioned) -> Properties:
    try:
        body = read_json(request)
    except BadRequest as err:
        message = f"the body must be Exhibitor's config object as JSON: {err.message}"
        raise BadRequest(message) from None
    try:
        return from_config_object(body, found.shared.config)
    except SpecError as err:
        raise BadRequest("; ".join(err.problems)) from err


def _expected(found: Versioned) -> int:
    match = request.headers.get("If-Match", "").strip().strip('"')
    if not match:
        return found.version
    if not match.lstrip("-").isdigit():
        raise BadRequest("If-Match must be a config version (get-state's ETag)")
    return int(match)


def _write(found: Versioned, shared: Shared, message: str) -> Response:
    if context.store().write(shared, _expected(found)):
        return _result(message)
    return _result("another Exhibitor changed the config first; nothing was written", False)


def _no_roll(found: Versioned) -> None:
    if found.shared.roll is not None:
        raise Conflict(
            "a rolling change is in progress; wait for it or POST config/rollback-rolling"
        )


@bp.post("/set")
def set_config() -> Response:
    """Change the shared config at once: only when no ZooKeeper of an ensemble would restart."""
    found = context.shared()
    new = _posted(found)
    _no_roll(found)
    old = found.shared.config
    restart = rolling.stage_hosts(old, new)
    if restart and (len(old.servers) > 1 or len(new.servers) > 1):
        raise Conflict(
            f"this change restarts ZooKeeper on {', '.join(restart)}; use config/set-rolling so "
            "that a quorum keeps serving"
        )
    return _write(found, Shared(new, None, found.shared.last_roll), "OK")


@bp.post("/set-rolling")
def set_rolling() -> Response:
    found = context.shared()
    new = _posted(found)
    _no_roll(found)
    try:
        rolled = rolling.start(
            found.shared, new, int(time.time() * 1000), context.config().roll_timeout_ms
        )
    except SpecError as err:
        raise BadRequest("; ".join(err.problems)) from err
    roll = rolled.roll
    if roll is None:
        return _write(found, rolled, "OK: no server needs a restart; committed")
    stages = len(roll.configs) - 1
    message = (
        f"rolling change started: {roll.steps_total} server restarts in {stages} "
        f"stage{'s' if stages > 1 else ''}"
    )
    return _write(found, rolled, message)


@bp.get("/rollback-rolling")
def rollback_rolling_by_get() -> Response:
    raise MethodNotAllowed(
        "config/rollback-rolling changes the ensemble: POST it (a GET never changes anything here)",
        {"Allow": "POST"},
    )


@bp.post("/rollback-rolling")
def rollback_rolling() -> Response:
    found = context.shared()
    roll = found.shared.roll
    if roll is None:
        raise Conflict("no rolling change is in progress")
    if roll.direction == rolling.BACK:
        raise Conflict(f"already rolling back: {roll.reason}")
    back = rolling.abort(
        found.shared,
        "rollback requested",
        int(time.time() * 1000),
        context.config().roll_timeout_ms,
    )
    return _write(found, back, "rolling back, one server at a time")


@bp.get("/force-commit-rolling")
def force_commit_rolling() -> Response:
    raise Conflict(
        "dcos-exhibitor never force-commits a rolling change: committing servers that do not "
        "serve the new config can lose the quorum or split the ensemble; wait for the roll or "
        "POST config/rollback-rolling"
    )
