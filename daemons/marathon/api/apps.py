"""/v2/apps: list, create, get, update, delete, restart, tasks, versions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from daemons.kit import args
from daemons.kit.errors import NotFound
from daemons.marathon import appjson, changes, pathid
from daemons.marathon.api.params import body, kill_options, marathon
from daemons.marathon.views import app_view, embeds, task_json

bp = Blueprint("apps", __name__)


def _result(result: Any, status: int = 200) -> Response:
    response = jsonify(result.json())
    response.status_code = status
    response.headers["Marathon-Deployment-Id"] = result.deployment_id
    return response


@bp.get("/v2/apps")
def list_apps() -> Response:
    m = marathon()
    wanted = embeds(args.repeated("embed"))
    cmd, ident, label = request.args.get("cmd"), request.args.get("id"), request.args.get("label")
    with m.lock:
        apps = sorted(m.apps.values(), key=lambda a: a.id)
        if cmd:
            apps = [a for a in apps if a.cmd and cmd in a.cmd]
        if ident:
            apps = [a for a in apps if ident.lower() in a.id]
        if label:
            apps = [a for a in apps if _label_matches(a.labels, label)]
        out = [app_view(m, a, wanted, single=False) for a in apps]
    return jsonify({"apps": out})


def _label_matches(labels: Any, selector: str) -> bool:
    """`key`, `key==value`, `key!=value` selectors, comma-separated, all must hold."""
    for term in selector.split(","):
        term = term.strip()
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "==" in term:
            k, v = term.split("==", 1)
            if labels.get(k.strip()) != v.strip():
                return False
        elif term and term not in labels:
            return False
    return True


@bp.post("/v2/apps")
def create_app() -> Response:
    m = marathon()
    result = changes.create_app(m, body(), force=args.flag("force"))
    m.flush()
    with m.lock:
        assert result.app is not None
        doc = app_view(m, result.app, frozenset(), single=False)
    response = jsonify(doc)
    response.status_code = 201
    response.headers["Location"] = f"/v2/apps{result.app.id}"
    response.headers["Marathon-Deployment-Id"] = result.deployment_id
    return response


@bp.get("/v2/apps/<path:app_id>")
def get_app(app_id: str) -> Response:
    m = marathon()
    with m.lock:
        app = m.app(app_id)
        return jsonify({"app": app_view(m, app, embeds(args.repeated("embed")), single=True)})


@bp.put("/v2/apps/<path:app_id>")
def update_app(app_id: str) -> Response:
    m = marathon()
    result = changes.update_app(
        m,
        app_id,
        body(),
        force=args.flag("force"),
        partial=args.flag("partialUpdate", default=True),
    )
    m.flush()
    return _result(result, 201 if result.created else 200)


@bp.patch("/v2/apps/<path:app_id>")
def patch_app(app_id: str) -> Response:
    m = marathon()
    result = changes.update_app(m, app_id, body(), force=args.flag("force"), partial=True)
    m.flush()
    return _result(result)


@bp.put("/v2/apps")
@bp.patch("/v2/apps")
def update_apps() -> Response:
    """Bulk create/update: one call per app (each its own deployment)."""
    m = marathon()
    raw = body()
    if not isinstance(raw, list):
        from daemons.marathon.errors import Invalid

        raise Invalid([{"path": "/", "errors": ["expected a JSON array of apps"]}])
    partial = request.method == "PATCH" or args.flag("partialUpdate", default=True)
    last = None
    for item in raw:
        app_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(app_id, str):
            from daemons.marathon.errors import Invalid

            raise Invalid([{"path": "/id", "errors": ["every app needs an id"]}])
        last = changes.update_app(m, app_id, item, force=args.flag("force"), partial=partial)
    m.flush()
    if last is None:
        raise NotFound("no apps given")
    return _result(last)


@bp.delete("/v2/apps/<path:app_id>")
def delete_app(app_id: str) -> Response:
    m = marathon()
    result = changes.delete_app(m, app_id, force=args.flag("force"))
    m.flush()
    return _result(result)


@bp.post("/v2/apps/<path:app_id>/restart")
def restart_app(app_id: str) -> Response:
    m = marathon()
    result = changes.restart_app(m, app_id, force=args.flag("force"))
    m.flush()
    return _result(result)


@bp.get("/v2/apps/<path:app_id>/tasks")
def app_tasks(app_id: str) -> Response:
    m = marathon()
    with m.lock:
        app = m.app(app_id)
        insts = m.instances_of(app.id)
        if "text/plain" in request.headers.get("Accept", "") and "json" not in request.headers.get(
            "Accept", ""
        ):
            ports = " ".join(str(p.port) for p in app.port_definitions)
            hosts = " ".join(f"{i.host}:{i.ports[0]}" for i in insts if i.ports)
            text = f"{pathid.task_id_prefix(app.id)} {ports} {hosts}\n"
            return Response(text, mimetype="text/plain")
        return jsonify({"tasks": [task_json(m, i) for i in insts]})


@bp.delete("/v2/apps/<path:app_id>/tasks")
def kill_app_tasks(app_id: str) -> Response:
    m = marathon()
    with m.lock:
        views_before = {i.task_id: task_json(m, i) for i in m.instances_of(m.app(app_id).id)}
    killed, result = changes.kill_app_tasks(
        m, app_id, host=request.args.get("host"), **kill_options()
    )
    if result is not None:
        return _result(result)
    return jsonify({"tasks": [views_before[i.task_id] for i in killed]})


@bp.delete("/v2/apps/<path:app_id>/tasks/<task_id>")
def kill_app_task(app_id: str, task_id: str) -> Response:
    m = marathon()
    with m.lock:
        app = m.app(app_id)
        inst = m.instances.get(task_id)
        if inst is None or inst.app_id != app.id:
            raise NotFound(f"Task '{task_id}' does not exist")
        view = task_json(m, inst)
    _, result = changes.kill_tasks(m, [task_id], **kill_options())
    if result is not None:
        return _result(result)
    return jsonify({"task": view})


@bp.get("/v2/apps/<path:app_id>/versions")
def versions(app_id: str) -> Response:
    return jsonify({"versions": marathon().versions(app_id)})


@bp.get("/v2/apps/<path:app_id>/versions/<version>")
def version(app_id: str, version: str) -> Response:
    return jsonify(appjson.app_json(marathon().version(app_id, version)))
