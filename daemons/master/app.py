"""The master's Flask app: its blueprints over the `Master`, built with the kit."""

from __future__ import annotations

from flask import Flask

from daemons.kit.app import make_app
from daemons.master import agent_api, endpoints, operator_api, scheduler_api
from daemons.master.master import Master


def create_app(master: Master) -> Flask:
    return make_app(
        "dcos-mesos-master",
        (scheduler_api.bp, agent_api.bp, operator_api.bp, endpoints.bp),
        max_body_bytes=master.config.max_body_bytes,
        extensions={"master": master},
    )
