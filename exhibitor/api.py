"""Exhibitor's REST API (`/exhibitor/v1/…`), the parts DC/OS components and operators read.

`cluster/status`, `cluster/list` (JSON, or Exhibitor's form-encoded discovery format),
`cluster/state[/{host}]`, `cluster/4ltr/{word}[/{host}]`, `config/get-state`, `explorer/node`
and `explorer/node-data`. Every answer about a server comes from asking it on the wire
(`srvr`, `ruok`); the znode explorer reads through kazoo. Nothing here mutates ZooKeeper.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from kazoo.client import KazooClient
from kazoo.exceptions import KazooException, NoNodeError
from kazoo.handlers.threading import KazooTimeoutError

from daemons.common import errors
from daemons.common.errors import BadRequest, NotFound, ServiceUnavailable
from exhibitor import ensemble, fourletter
from exhibitor.config import ExhibitorConfig

Ask = Callable[[str, int, str], "str | None"]
bp = Blueprint("exhibitor", __name__, url_prefix="/exhibitor/v1")
_MAX_KEY = 1024


def _json(data: Any) -> Response:
    return Response(json.dumps(data), mimetype="application/json")


def _config() -> ExhibitorConfig:
    config: ExhibitorConfig = current_app.config["EXHIBITOR"]
    return config


def _ask(host: str, word: str) -> str | None:
    ask: Ask = current_app.config["EXHIBITOR_ASK"]
    return ask(host, _config().client_port, word)


def _server(host: str) -> ensemble.Server:
    for server in _config().servers:
        if server.hostname == host:
            return server
    raise NotFound(f"{host} is not a server of this ensemble")


def _state(host: str) -> dict[str, Any]:
    code, leader = ensemble.state_from_srvr(_ask(host, "srvr"))
    return {"code": code, "description": ensemble.DESCRIPTIONS[code], "isLeader": leader}


@bp.get("/cluster/status")
def cluster_status() -> Response:
    return _json([{"hostname": s.hostname, **_state(s.hostname)} for s in _config().servers])


@bp.get("/cluster/list")
def cluster_list() -> Response:
    config = _config()
    hosts = [s.hostname for s in config.servers]
    if "application/x-www-form-urlencoded" in request.headers.get("Accept", ""):
        parts = [f"count={len(hosts)}"] + [f"server{i}={h}" for i, h in enumerate(hosts)]
        parts.append(f"port={config.client_port}")
        return Response("&".join(parts), mimetype="application/x-www-form-urlencoded")
    return _json({"servers": hosts, "port": config.client_port})


@bp.get("/cluster/state")
@bp.get("/cluster/state/<host>")
def cluster_state(host: str | None = None) -> Response:
    server = _server(host or _config().hostname)
    state = _state(server.hostname)
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
    server = _server(host or _config().hostname)
    return _json(_ask(server.hostname, word) or "")


@bp.get("/config/get-state")
def config_state() -> Response:
    config = _config()
    servers = config.servers
    return _json(
        {
            "version": 0,
            "running": _ask(config.hostname, "ruok") == "imok",
            "backupActive": False,
            "standaloneMode": len(servers) == 1,
            "extraHeadingText": None,
            "nodeMutationsAllowed": False,
            "config": {
                "hostname": config.hostname,
                "serverId": ensemble.myid(servers, config.hostname) or -1,
                "rollInProgress": False,
                "rollStatus": "n/a",
                "rollPercentDone": 0,
                "zookeeperDataDirectory": config.data_dir,
                "zookeeperLogDirectory": config.data_dir,
                "serversSpec": ensemble.servers_spec(servers),
                "zooCfgExtra": dict(config.zoo_cfg_extra),
                "clientPort": config.client_port,
                "connectPort": config.connect_port,
                "electionPort": config.election_port,
                "checkMs": config.check_ms,
                "autoManageInstances": 0,
                "autoManageInstancesFixedEnsembleSize": len(servers),
                "observerThreshold": 0,
            },
        }
    )


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
            config = _config()
            client = KazooClient(hosts=f"{config.hostname}:{config.client_port}", timeout=5.0)
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


def create_app(config: ExhibitorConfig, ask: Ask | None = None) -> Flask:
    """The Flask app; `ask` answers four-letter words (the wire by default)."""
    app = Flask("dcos-exhibitor")
    app.config["EXHIBITOR"] = config
    app.config["EXHIBITOR_ASK"] = ask or (lambda h, p, w: fourletter.ask(h, p, w))
    app.config["EXHIBITOR_ZK"] = {"lock": threading.Lock(), "client": None}
    app.register_blueprint(bp)
    errors.register(app)
    return app
