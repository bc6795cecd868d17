"""The agent's Flask app: thin blueprints over the `AgentRuntime`, built with the kit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

from daemons.agent import executor_api, files, state_api
from daemons.agent.web import EXTENSION
from daemons.kit.app import make_app

if TYPE_CHECKING:
    from daemons.agent.runtime import AgentRuntime


def create_app(runtime: AgentRuntime) -> Flask:
    return make_app(
        "daemons.agent",
        (executor_api.bp, files.bp, state_api.bp),
        max_body_bytes=runtime.config.max_body_bytes,
        extensions={EXTENSION: runtime},
    )
