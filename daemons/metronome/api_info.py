"""`/ping`, `/info`, `/leader` (also under `/v1`) and `/v1/metrics`."""

from __future__ import annotations

from importlib import metadata
from typing import Protocol

from flask import Blueprint, Response, current_app

from daemons.kit.errors import NotFound
from daemons.metronome.http import metronome
from daemons.protocols import JSON

bp = Blueprint("info", __name__)


class Leadership(Protocol):
    @property
    def leader(self) -> str | None: ...


def _version() -> str:
    try:
        return metadata.version("pydcos")
    except metadata.PackageNotFoundError:
        return "0.0.0"


@bp.get("/ping")
def ping() -> Response:
    return Response("pong", mimetype="text/plain")


@bp.get("/info")
@bp.get("/v1/info")
def info() -> JSON:
    version = _version()
    return {"version": version, "libVersion": version}


@bp.get("/leader")
@bp.get("/v1/leader")
def leader() -> JSON:
    leadership: Leadership = current_app.extensions["metronome.leadership"]
    address = leadership.leader
    if address is None:
        raise NotFound("There is no leader")
    return {"leader": address}


@bp.get("/v1/metrics")
def metrics() -> JSON:
    m = metronome()
    jobs = m.jobs()
    runs = m.active_runs()
    gauges = {
        "jobs.count": len(jobs),
        "runs.active": len(runs),
        "runs.queued": sum(len(v) for v in m.queue().values()),
        "schedules.count": sum(len(m.schedules(j.id)) for j in jobs),
    }
    return {
        "version": "4.0.0",
        "gauges": {name: {"value": value} for name, value in gauges.items()},
        "counters": {},
        "histograms": {},
        "meters": {},
        "timers": {},
    }
