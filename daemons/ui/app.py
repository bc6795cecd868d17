"""The UI backend's Flask app, built with the kit."""

from __future__ import annotations

from flask import Flask

from daemons.kit.app import make_app
from daemons.ui import api
from daemons.ui.service import UiService


def create_app(service: UiService) -> Flask:
    return make_app("dcos-ui-backend", (api.bp,), max_body_bytes=4096, extensions={"ui": service})
