"""Mesos-DNS's HTTP API: `/v1/version`, `/v1/config`, `/v1/hosts/{host}`,
`/v1/hosts/{host}/ports` (501, as Mesos-DNS), `/v1/services/{service}`, and, when
`EnumerationOn`, `/v1/enumerate` and `/v1/axfr`. The bodies are `daemons.mesos_dns.zone`'s.

Before the first records are loaded the record views answer 503 (Mesos-DNS serves no HTTP at
all until then).
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Response, current_app, request

from daemons.kit.errors import ApiError, NotFound, ServiceUnavailable
from daemons.mesos_dns import zone
from daemons.mesos_dns.records import RecordSet
from daemons.mesos_dns.service import MesosDnsService

bp = Blueprint("mesos_dns", __name__)

VERSION = {
    "Service": "Mesos-DNS",
    "Version": "0.8.0-pydcos",
    "URL": "https://github.com/mesosphere/mesos-dns",
}


class NotImplementedYet(ApiError):
    status = 501


def service() -> MesosDnsService:
    found: MesosDnsService = current_app.extensions["mesos_dns"]
    return found


def records() -> RecordSet:
    loaded = service().loaded
    if loaded is None:
        raise ServiceUnavailable("no records yet: the leading master's state is not loaded")
    return loaded.records


def enumeration() -> RecordSet:
    if not service().config.enumeration_on:
        raise NotFound("enumeration is off (EnumerationOn)")
    return records()


@bp.get("/v1/version")
def version() -> dict[str, str]:
    return VERSION


@bp.get("/v1/config")
def config() -> dict[str, Any]:
    loaded = service().loaded
    return service().config.go_fields(soa_serial=loaded.records.serial if loaded else 0)


@bp.get("/v1/hosts/<path:host>")
def hosts(host: str) -> Any:
    if host.endswith("/ports"):
        raise NotImplementedYet("To be implemented...")
    return zone.hosts(records(), host)


@bp.get("/v1/services/<path:name>")
def services(name: str) -> Any:
    return zone.services(records(), name)


@bp.get("/v1/enumerate")
def enumerate_records() -> dict[str, Any]:
    return zone.enumerate_records(enumeration())


@bp.get("/v1/axfr")
def axfr() -> Response:
    """The whole record set, with an ETag that is a digest of the body: a DNS proxy that asks
    again with `If-None-Match` gets a 304 while the records are the same (every node's proxy
    polls every 30 s; at 10,000 tasks a body is ≈ 5.6 MiB to build, send and parse). Equal
    records give equal tags on every master."""
    running = service()
    current = enumeration()  # the record set served now (one read of it)
    known = running.axfr_etag
    if known is not None and known[0] is current and request.if_none_match.contains(known[1]):
        answer = Response(status=304)
        answer.set_etag(known[1])
        return answer
    body = current_app.json.dumps(zone.axfr(current, running.config)) + "\n"
    tag = hashlib.blake2b(body.encode(), digest_size=16).hexdigest()
    running.axfr_etag = (current, tag)
    if request.if_none_match.contains(tag):
        answer = Response(status=304)
    else:
        answer = Response(body, mimetype="application/json")
    answer.set_etag(tag)
    return answer
