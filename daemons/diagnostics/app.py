"""dcos-diagnostics' Flask app, built with the kit."""

from __future__ import annotations

from flask import Flask

from daemons.diagnostics import api
from daemons.diagnostics.service import DiagnosticsService
from daemons.kit.app import make_app


def create_app(service: DiagnosticsService) -> Flask:
    # Read-only API: no request has a body worth more than a few bytes.
    return make_app(
        "dcos-diagnostics", (api.bp,), max_body_bytes=4096, extensions={"diagnostics": service}
    )
