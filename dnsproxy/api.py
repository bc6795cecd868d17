"""The HTTP status and records API (127.0.0.1:62080), dcos-net's shapes; off the DNS path."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from dnsproxy import views
from dnsproxy.service import DnsProxyService

bp = Blueprint("dnsproxy", __name__)
VERSION = "0.2.0"


def service() -> DnsProxyService:
    found: DnsProxyService = current_app.extensions["dnsproxy"]
    return found


@bp.get("/v1/version")
def version() -> dict[str, str]:
    return {"Service": "dcos-dns", "Version": VERSION}


@bp.get("/v1/records")
def records() -> list[dict[str, str]]:
    return views.all_records(service().proxy.records)


@bp.get("/v1/hosts/<host>")
def hosts(host: str) -> list[dict[str, str]]:
    return views.hosts(service().proxy.records, host)


@bp.get("/v1/services/<srv>")
def services(srv: str) -> list[dict[str, str]]:
    return views.services(service().proxy.records, srv)


@bp.get("/health")
def health() -> tuple[dict[str, Any], int]:
    """200 once DNS is served; the state reads and counters, for operators and tests."""
    running = service()
    body = {
        "serving": running.serving,
        "state_loaded": "tasks" in running.proxy.loaded,
        "mesos_loaded": "mesos" in running.proxy.loaded,
        "rebuilds": running.proxy.rebuilds,
        # Reads of Mesos-DNS's /v1/axfr: taken, and answered 304 (the copy held is current).
        "axfr_reads": running.axfr_poll.reads,
        "axfr_unchanged": running.axfr_poll.unchanged,
        "counters": running.counters.snapshot(),
    }
    return body, 200 if running.serving else 503
