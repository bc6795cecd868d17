"""/v2/groups: the app tree; create, update (also scaleBy), delete."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from daemons.kit import args
from daemons.kit.errors import NotFound
from daemons.marathon import changes, pathid
from daemons.marathon.api.params import body, marathon
from daemons.marathon.views import embeds, group_view

bp = Blueprint("groups", __name__)


def _deployment(result: object, status: int) -> Response:
    doc = result.json()  # type: ignore[attr-defined]
    response = jsonify(doc)
    response.status_code = status
    response.headers["Marathon-Deployment-Id"] = doc["deploymentId"]
    return response


@bp.get("/v2/groups")
@bp.get("/v2/groups/<path:group_id>")
def get_group(group_id: str = "/") -> Response:
    m = marathon()
    gid = pathid.normalize(group_id)
    with m.lock:
        if gid not in m.all_group_ids():
            raise NotFound(f"Group '{gid}' does not exist")
        return jsonify(group_view(m, gid, embeds(args.repeated("embed"))))


@bp.post("/v2/groups")
@bp.post("/v2/groups/<path:group_id>")
def create_group(group_id: str = "/") -> Response:
    m = marathon()
    result = changes.put_group(m, group_id, body(), force=args.flag("force"), create=True)
    m.flush()
    return _deployment(result, 201)


@bp.put("/v2/groups")
@bp.put("/v2/groups/<path:group_id>")
def update_group(group_id: str = "/") -> Response:
    m = marathon()
    result = changes.put_group(m, group_id, body(), force=args.flag("force"), create=False)
    m.flush()
    return _deployment(result, 200)


@bp.delete("/v2/groups/<path:group_id>")
def delete_group(group_id: str) -> Response:
    m = marathon()
    result = changes.delete_group(m, group_id, force=args.flag("force"))
    m.flush()
    return _deployment(result, 200)
