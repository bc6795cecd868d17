"""`/system/health/v1/...`: this node's units, and the cluster's views (services-api.md
§7.1). An unknown unit or node is a 404 `{"message"}`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from daemons.diagnostics import cluster
from daemons.diagnostics.service import DiagnosticsService

bp = Blueprint("diagnostics", __name__)

BASE = "/system/health/v1"


def service() -> DiagnosticsService:
    found: DiagnosticsService = current_app.extensions["diagnostics"]
    return found


@bp.get(BASE)
def this_node() -> dict[str, Any]:
    return service().local_json()


@bp.get(f"{BASE}/units")
def units() -> dict[str, Any]:
    return cluster.units_view(service().nodes())


@bp.get(f"{BASE}/units/<unit>")
def unit(unit: str) -> dict[str, Any]:
    return cluster.unit_view(service().nodes(), unit)


@bp.get(f"{BASE}/units/<unit>/nodes")
def unit_nodes(unit: str) -> dict[str, Any]:
    return cluster.unit_nodes(service().nodes(), unit)


@bp.get(f"{BASE}/units/<unit>/nodes/<ip>")
def unit_node(unit: str, ip: str) -> dict[str, Any]:
    return cluster.unit_node(service().nodes(), unit, ip)


@bp.get(f"{BASE}/nodes")
def nodes() -> dict[str, Any]:
    return cluster.nodes_view(service().nodes())


@bp.get(f"{BASE}/nodes/<ip>")
def node(ip: str) -> dict[str, Any]:
    return cluster.node_view(service().nodes(), ip)


@bp.get(f"{BASE}/nodes/<ip>/units")
def node_units(ip: str) -> dict[str, Any]:
    return cluster.node_units(service().nodes(), ip)


@bp.get(f"{BASE}/nodes/<ip>/units/<unit>")
def node_unit(ip: str, unit: str) -> dict[str, Any]:
    return cluster.node_unit(service().nodes(), ip, unit)


def _report() -> dict[str, Any]:
    leader, updated = service().leader_and_time()
    return cluster.report(service().nodes(), leader, updated)


@bp.get(f"{BASE}/report")
def report() -> dict[str, Any]:
    return _report()


@bp.get(f"{BASE}/report/download")
def report_download() -> Response:
    response = jsonify(_report())
    response.headers["Content-Disposition"] = "attachment; filename=health-report.json"
    return response
