"""The runtime behind the agent's Flask app, for its blueprints (executor_api, state_api, files)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from daemons.agent.runtime import AgentRuntime

EXTENSION = "pydcos_agent"


def current_runtime() -> AgentRuntime:
    """The agent runtime of the app handling this request."""
    runtime: AgentRuntime = current_app.extensions[EXTENSION]
    return runtime
