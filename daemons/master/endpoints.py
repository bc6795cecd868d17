"""Read-only operator endpoints (`/master/state` …) and the few old-style writes (teardown).

Every path is served with and without the `/master` prefix and, where Mesos has one, with the
legacy `.json` suffix. The rendered `/master/state` is cached per state version: pollers share
one rendering, and the lock is held only while the dict is built, not while it is serialised.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable

from flask import Blueprint, Response, request

from daemons.kit import args
from daemons.kit.errors import BadRequest, Redirect, ServiceUnavailable
from daemons.master import metrics, rawjson, state_json
from daemons.master.http import master, require_leader
from daemons.master.master import Master
from daemons.protocols import JSON

bp = Blueprint("endpoints", __name__)

_JSONP = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$")


class RenderCache:
    """One rendering serves every poller that asked before it began (Mesos 1.7 batches
    concurrent `/state` requests the same way): a request waits for the render in progress,
    then renders again only if the state changed and no render has started since it arrived."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # name -> (state version, monotonic time the render started, bytes)
        self._entries: dict[str, tuple[int, float, bytes]] = {}

    def get(self, m: Master, name: str, render: Callable[[Master], JSON]) -> bytes:
        arrived = time.monotonic()
        with self._lock:
            hit = self._entries.get(name)
            if hit is not None and (hit[0] == m.version or hit[1] >= arrived):
                return hit[2]
            started = time.monotonic()
            with m.lock:
                version = m.version
                body = render(m)
            data = rawjson.dumps(body)
            self._entries[name] = (version, started, data)
            return data


_cache = RenderCache()


def _json_bytes(data: bytes) -> Response:
    callback = request.args.get("jsonp")
    if callback:
        if not _JSONP.match(callback):
            raise BadRequest("Invalid 'jsonp' callback name")
        return Response(callback.encode() + b"(" + data + b");", mimetype="text/javascript")
    return Response(data, mimetype="application/json")


def _json(body: JSON) -> Response:
    return _json_bytes(json.dumps(body, separators=(",", ":")).encode())


def _both(rule: str) -> list[str]:
    return [f"/master{rule}", rule]


def _routes(*rules: str) -> Callable[[Callable[[], Response]], Callable[[], Response]]:
    def register(view: Callable[[], Response]) -> Callable[[], Response]:
        for rule in rules:
            for path in _both(rule):
                bp.add_url_rule(
                    path, f"{view.__name__}{path}".replace(".", "_"), view, methods=["GET"]
                )
        return view

    return register


def _raw_state(m: Master) -> JSON:
    return state_json.state(m, raw=True)


@_routes("/state", "/state.json")
def state() -> Response:
    m = master()
    require_leader(m)
    return _json_bytes(_cache.get(m, "state", _raw_state))


@bp.route("/registrar(1)/registry", methods=["GET"])
@bp.route("/master/registrar(1)/registry", methods=["GET"])
def registry() -> Response:
    """The leader's registry: admitted, unreachable and gone agents, frameworks (Mesos)."""
    m = master()
    require_leader(m)
    with m.lock:
        body = m.registry_state.to_mesos_json()
    return _json(body)


@_routes("/state-summary")
def state_summary() -> Response:
    m = master()
    require_leader(m)
    return _json_bytes(_cache.get(m, "summary", state_json.state_summary))


@_routes("/tasks", "/tasks.json")
def tasks() -> Response:
    m = master()
    require_leader(m)
    limit, offset = args.integer("limit", 100), args.integer("offset", 0)
    order = request.args.get("order", "desc")
    if order not in ("asc", "desc"):
        raise BadRequest("'order' must be 'asc' or 'desc'")
    framework_id, task_id = request.args.get("framework_id"), request.args.get("task_id")
    with m.lock:
        selected = [
            t
            for f in [*m.frameworks.values(), *m.completed_frameworks]
            if framework_id in (None, f.framework_id)
            for t in [*f.tasks.values(), *f.completed_tasks]
            if task_id in (None, t.task_id)
        ]
        selected.sort(
            key=lambda t: (t.statuses[0].timestamp or 0.0) if t.statuses else 0.0,
            reverse=order == "desc",
        )
        body = {"tasks": [state_json.task_json(t) for t in selected[offset : offset + limit]]}
    return _json(body)


@_routes("/slaves", "/slaves.json")
def slaves() -> Response:
    m = master()
    require_leader(m)
    wanted = request.args.get("slave_id")
    with m.lock:
        body = {
            "slaves": [
                state_json.agent_json(a, m.offers)
                for a in m.agents.values()
                if wanted in (None, a.agent_id) and a.unreachable_since is None
            ],
            "recovered_slaves": [],
        }
    return _json(body)


@_routes("/frameworks", "/frameworks.json")
def frameworks() -> Response:
    m = master()
    require_leader(m)
    wanted = request.args.get("framework_id")
    with m.lock:
        body = {
            "frameworks": [
                state_json.framework_json(f)
                for f in m.frameworks.values()
                if wanted in (None, f.framework_id)
            ],
            "completed_frameworks": [
                state_json.framework_json(f)
                for f in m.completed_frameworks
                if wanted in (None, f.framework_id)
            ],
            "unregistered_frameworks": [],
        }
    return _json(body)


@_routes("/redirect")
def redirect() -> Response:
    m = master()
    info = m.master_info if m.is_leader else m.leader_info
    if not info:
        raise ServiceUnavailable("No leading master")
    address = info.get("address") or {}
    raise Redirect(f"//{address.get('hostname', info.get('hostname'))}:{info.get('port')}")


@_routes("/health")
def health() -> Response:
    return Response(b"", status=200, headers={"Content-Length": "0"})


@_routes("/flags")
def flags() -> Response:
    return _json({"flags": state_json.flags(master().config)})


@_routes("/roles", "/roles.json")
def roles() -> Response:
    m = master()
    require_leader(m)
    with m.lock:
        names = {"*"} | set(m.config.weights)
        for f in m.frameworks.values():
            names.update(f.roles)
        body = {
            "roles": [
                {
                    "name": r,
                    "weight": m.config.weights.get(r, 1.0),
                    "frameworks": sorted(
                        f.framework_id for f in m.frameworks.values() if r in f.roles
                    ),
                }
                for r in sorted(names)
            ]
        }
    return _json(body)


@bp.get("/version")
def version() -> Response:
    return _json(state_json.version_info())


@bp.get("/metrics/snapshot")
def metrics_snapshot() -> Response:
    m = master()
    with m.lock:
        body = metrics.snapshot(m, m.clock())
    return _json(body)


@bp.route("/master/teardown", methods=["POST"])
@bp.route("/teardown", methods=["POST"])
def teardown() -> Response:
    m = master()
    require_leader(m)
    framework_id = request.form.get("frameworkId")
    if not framework_id:
        raise BadRequest("Missing 'frameworkId' in the form body")
    with m.lock:
        framework = m.frameworks.get(framework_id)
        if framework is None:
            raise BadRequest(f"No framework found with specified ID '{framework_id}'")
        m.remove_framework(framework, "REASON_FRAMEWORK_REMOVED")
    return Response(b"", status=200, headers={"Content-Length": "0"})
