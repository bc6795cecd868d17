"""The agent's Flask app: thin blueprints over the `Agent`, built with the kit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

from daemons.agent import executor_api, files, state
from daemons.kit.app import make_app

if TYPE_CHECKING:
    from daemons.agent.agent import Agent


def create_app(agent: Agent) -> Flask:
    return make_app(
        "daemons.agent",
        (executor_api.bp, files.bp, state.bp),
        max_body_bytes=agent.config.max_body_bytes,
        extensions={"pydcos_agent": agent},
    )
