"""Minuteman's Flask app: its one blueprint, built with the kit."""

from __future__ import annotations

from flask import Flask

from daemons.kit.app import make_app
from minuteman import api
from minuteman.service import MinutemanService


def create_app(service: MinutemanService) -> Flask:
    return make_app("dcos-minuteman", (api.bp,), extensions={"minuteman": service})
