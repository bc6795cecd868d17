"""/v2/tasks: every task, and killing tasks by id (`scale`, `wipe`)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from daemons.kit import args
from daemons.marathon import changes
from daemons.marathon.api.params import body, kill_options, marathon
from daemons.marathon.errors import Invalid
from daemons.marathon.views import task_json

bp = Blueprint("tasks", __name__)

# `status=running` and friends, as Marathon names them.
_STATUS = {
    "running": {"TASK_RUNNING"},
    "staging": {"TASK_STAGING", "TASK_STARTING"},
    "killing": {"TASK_KILLING"},
    "unreachable": {"TASK_UNREACHABLE"},
}


@bp.get("/v2/tasks")
def list_tasks() -> Response:
    m = marathon()
    wanted = set()
    for status in args.repeated("status"):
        wanted |= _STATUS.get(status.lower(), {status.upper()})
    with m.lock:
        insts = [i for i in m.instances.values() if not wanted or i.state in wanted]
        return jsonify({"tasks": [task_json(m, i) for i in insts]})


@bp.post("/v2/tasks/delete")
def delete_tasks() -> Response:
    m = marathon()
    raw = body()
    ids = raw.get("ids") if isinstance(raw, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise Invalid([{"path": "/ids", "errors": ["expected a list of task ids"]}])
    with m.lock:
        views = {i: task_json(m, m.instances[i]) for i in ids if i in m.instances}
    killed, result = changes.kill_tasks(m, ids, **kill_options())
    if result is not None:
        response = jsonify(result.json())
        response.headers["Marathon-Deployment-Id"] = result.deployment_id
        return response
    return jsonify({"tasks": [views[i.task_id] for i in killed]})
