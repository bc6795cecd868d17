"""Metronome's Flask app: its blueprints, built with the kit, and (with a framework daemon)
proxying to the leader from standbys."""

from __future__ import annotations

from typing import Any

from flask import Flask

from daemons.frameworks import leader_proxy
from daemons.kit.app import make_app
from daemons.metronome import api_info, api_jobs, api_runs, api_schedules
from daemons.metronome.metronome import Metronome

# Answered by every instance itself; everything else a standby forwards to the leader.
LOCAL_PATHS = frozenset({"/ping", "/leader", "/v1/leader"})


def create_app(
    metronome: Metronome,
    leadership: Any,
    *,
    max_body_bytes: int = 4 * 1024 * 1024,
    proxy: bool = True,
) -> Flask:
    """`leadership` has `leader` (host:port or None); with `proxy` it is a
    `daemons.frameworks.daemon.FrameworkDaemon` and standbys forward to the leader."""
    app = make_app(
        "dcos-metronome",
        (api_jobs.bp, api_schedules.bp, api_runs.bp, api_info.bp),
        max_body_bytes=max_body_bytes,
        extensions={"metronome": metronome, "metronome.leadership": leadership},
        strict_slashes=False,
    )
    if proxy:
        leader_proxy.install(app, leadership, LOCAL_PATHS)
    return app
