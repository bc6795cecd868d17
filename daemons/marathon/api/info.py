"""/v2/info, /v2/leader, /ping, /metrics, /v2/plugins: Marathon about itself."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from daemons.kit.errors import NotFound
from daemons.marathon.api.params import marathon

bp = Blueprint("info", __name__)

VERSION = "1.10.0"  # the Marathon API generation this speaks


def framework() -> Any:
    return current_app.extensions["framework"]


@bp.get("/ping")
def ping() -> Response:
    return Response("pong\n", mimetype="text/plain")


@bp.get("/v2/leader")
def leader() -> Response:
    found = framework().leader
    if found is None:
        raise NotFound("There is no leader")
    return jsonify({"leader": found})


@bp.delete("/v2/leader")
def abdicate() -> Response:
    """Step down: the process exits and systemd starts it again as a standby."""
    daemon = framework()
    if not daemon.is_leader:
        raise NotFound("There is no leader")
    current_app.extensions["abdicate"]()
    return jsonify({"message": "Leadership abdicated"})


@bp.get("/v2/info")
def info() -> Response:
    m = marathon()
    daemon = framework()
    config = m.config
    zk_hosts, _, zk_path = config.zk.removeprefix("zk://").partition("/")
    return jsonify(
        {
            "name": "marathon",
            "version": VERSION,
            "buildref": "pydcos",
            "elected": bool(daemon.is_leader),
            "leader": daemon.leader,
            "frameworkId": daemon.framework_id,
            "marathon_config": {
                "checkpoint": True,
                "executor": "//cmd",
                "failover_timeout": int(config.failover_timeout),
                "framework_name": config.framework_name,
                "ha": True,
                "hostname": config.advertised.rpartition(":")[0],
                "local_port_min": config.local_port_min,
                "local_port_max": config.local_port_max,
                "master": config.master,
                "mesos_role": config.mesos_role,
                "mesos_user": config.mesos_user,
                "reconciliation_interval": int(config.reconciliation_interval * 1000),
                "task_launch_timeout": int(config.task_launch_timeout * 1000),
                "decline_offer_duration": int(config.decline_offer_duration * 1000),
                "max_instances_per_offer": config.max_instances_per_offer,
                "features": [],
            },
            "zookeeper_config": {
                "zk": config.zk,
                "zk_hosts": zk_hosts,
                "zk_path": "/" + zk_path,
                "zk_session_timeout": int(config.zk_session_timeout * 1000),
                "zk_max_versions": config.max_versions,
                "zk_max_node_size": config.zk_max_node_size,
            },
            "http_config": {"http_port": config.port, "https_port": 8443},
            "event_subscriber": None,
        }
    )


@bp.get("/metrics")
def metrics() -> Response:
    m = marathon()
    with m.lock:
        gauges = {
            "marathon.apps.active.gauge": {"value": len(m.apps)},
            "marathon.deployments.active.gauge": {"value": len(m.deployments)},
            "marathon.instances.running.gauge": {
                "value": sum(1 for i in m.instances.values() if i.state == "TASK_RUNNING")
            },
            "marathon.instances.staged.gauge": {
                "value": sum(
                    1 for i in m.instances.values() if i.state in ("TASK_STAGING", "TASK_STARTING")
                )
            },
            "marathon.http.event-streams.active.gauge": {"value": m.bus.subscriber_count},
            "marathon.leadership.elected": {"value": 1 if framework().is_leader else 0},
        }
        counters = {name: {"count": n} for name, n in sorted(m.counters.items())}
    return jsonify(
        {
            "version": "4.0.0",
            "gauges": gauges,
            "counters": counters,
            "histograms": {},
            "meters": {},
            "timers": {},
        }
    )


@bp.get("/v2/plugins")
def plugins() -> Response:
    return jsonify({"plugins": []})


@bp.get("/health")
def health() -> Response:
    """Process liveness for supervisors and test harnesses (like /ping, served by every
    instance, leader or not)."""
    return Response("pong\n", mimetype="text/plain")
