"""Exhibitor's REST API (`/exhibitor/v1/…`): the app factory, the cluster and explorer views.

`cluster/status`, `cluster/list` (JSON, or Exhibitor's form-encoded discovery format),
`cluster/state[/{host}]`, `cluster/4ltr/{word}[/{host}]`, `explorer/node` and
`explorer/node-data`; `config/*` is in `exhibitor.config_api`, the web UI in `exhibitor.ui`.
Every answer about a server comes from asking it on the wire (`srvr`, `ruok`); the servers are
those of the shared config; the znode explorer reads through kazoo. Nothing here mutates
ZooKeeper.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from kazoo.client import KazooClient
from kazoo.exceptions import KazooException, NoNodeError
from kazoo.handlers.threading import KazooTimeoutError

from daemons.kit.app import make_app
from daemons.kit.errors import BadRequest, ServiceUnavailable
from exhibitor import config_api, context, ensemble, fourletter, ui
from exhibitor.config import ExhibitorConfig
from exhibitor.stores import Versioned, open_store

bp = Blueprint("exhibitor", __name__, url_prefix="/exhibitor/v1")
_MAX_KEY = 1024


def _json(data: Any) -> Response:
    return Response(json.dumps(data), mimetype="application/json")


def _state(found: Versioned, host: str) -> dict[str, Any]:
    code, leader = ensemble.state_from_srvr(context.ask(found, host, "srvr"))
    return {"code": code, "description": ensemble.DESCRIPTIONS[code], "isLeader": leader}


@bp.get("/cluster/status")
def cluster_status() -> Response:
    found = context.shared()
    return _json(
        [{"hostname": s.hostname, **_state(found, s.hostname)} for s in context.servers(found)]
    )


@bp.get("/cluster/list")
def cluster_list() -> Response:
    found = context.shared()
    hosts = [s.hostname for s in context.servers(found)]
    port = found.shared.config.client_port
    if "application/x-www-form-urlencoded" in request.headers.get("Accept", ""):
        parts = [f"count={len(hosts)}"] + [f"server{i}={h}" for i, h in enumerate(hosts)]
        parts.append(f"port={port}")
        return Response("&".join(parts), mimetype="application/x-www-form-urlencoded")
    return _json({"servers": hosts, "port": port})


@bp.get("/cluster/state")
@bp.get("/cluster/state/<host>")
def cluster_state(host: str | None = None) -> Response:
    found = context.shared()
    server = context.server(found, host or context.config().hostname)
    state = _state(found, server.hostname)
    return _json(
        {
            "switches": {"restarts": True, "cleanup": True, "backups": False},
            "state": state["code"],
            "description": state["description"],
            "isLeader": state["isLeader"],
        }
    )


@bp.get("/cluster/4ltr/<word>")
@bp.get("/cluster/4ltr/<word>/<host>")
def four_letter_word(word: str, host: str | None = None) -> Response:
    if word not in fourletter.WORDS:
        raise BadRequest(f"unknown four-letter word {word!r}; one of {sorted(fourletter.WORDS)}")
    found = context.shared()
    server = context.server(found, host or context.config().hostname)
    return _json(context.ask(found, server.hostname, word) or "")


def _key() -> str:
    key = request.args.get("key", "")
    if not key.startswith("/") or len(key) > _MAX_KEY or "\x00" in key:
        raise BadRequest("query parameter key must be an absolute znode path, e.g. key=/mesos")
    if key != "/" and (
        key.endswith("/") or "//" in key or "/./" in key + "/" or "/../" in key + "/"
    ):
        raise BadRequest(f"key {key!r} is not a canonical znode path")
    return key


def _zk() -> KazooClient:
    holder: dict[str, Any] = current_app.config["EXHIBITOR_ZK"]
    with holder["lock"]:
        client: KazooClient | None = holder.get("client")
        if client is None or not client.connected:
            host = context.config().hostname
            port = context.shared().shared.config.client_port
            client = KazooClient(hosts=f"{host}:{port}", timeout=5.0)
            try:
                client.start(timeout=5.0)
            except KazooTimeoutError as err:
                client.close()
                raise ServiceUnavailable("ZooKeeper on this master does not answer") from err
            holder["client"] = client
        return client


@bp.get("/explorer/node")
def explorer_node() -> Response:
    key = _key()
    try:
        children = sorted(_zk().get_children(key))
    except NoNodeError:
        return _json([])
    except KazooException as err:
        raise ServiceUnavailable(f"ZooKeeper: {err}") from err
    base = "" if key == "/" else key
    return _json(
        [{"title": c, "key": f"{base}/{c}", "isLazy": True, "expand": False} for c in children]
    )


@bp.get("/explorer/node-data")
def explorer_node_data() -> Response:
    key = _key()
    try:
        data, stat = _zk().get(key)
    except NoNodeError:
        return _json({"bytes": "", "str": "", "stat": "* not found * "})
    except KazooException as err:
        raise ServiceUnavailable(f"ZooKeeper: {err}") from err
    data = data or b""
    stat_text = "\n".join(f"{name}: {getattr(stat, name)}" for name in stat._fields)
    return _json({"bytes": data.hex(), "str": data.decode("utf-8", "replace"), "stat": stat_text})


def create_app(
    config: ExhibitorConfig,
    ask: context.Ask | None = None,
    store: context.StoreFactory | None = None,
) -> Flask:
    """The Flask app; `ask` answers four-letter words (the wire by default), `store` opens the
    shared config (the one `config` names by default; opened once per process)."""
    app = make_app(
        "dcos-exhibitor",
        (bp, config_api.bp, ui.bp),
        max_body_bytes=1 << 20,
        ascii_json=True,
        error_fields=config_api.ERROR_FIELDS,
    )
    app.config["EXHIBITOR"] = config
    app.config["EXHIBITOR_ASK"] = ask or (lambda h, p, w: fourletter.ask(h, p, w))
    app.config["EXHIBITOR_ZK"] = {"lock": threading.Lock(), "client": None}
    app.config["EXHIBITOR_STORE"] = context.new_holder(store or (lambda: open_store(config)))
    app.add_url_rule("/health", "health", lambda: {"status": "ok"})
    return app
