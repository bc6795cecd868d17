"""`/v1/jobs/<id>/runs` (start, list active, get, stop) and `/v1/queue`."""

from __future__ import annotations

from flask import Blueprint

from daemons.metronome.http import metronome
from daemons.metronome.runs import run_json
from daemons.protocols import JSON

bp = Blueprint("runs", __name__)


@bp.post("/v1/jobs/<job_id>/runs")
def start_run(job_id: str) -> tuple[JSON, int]:
    return run_json(metronome().start_run(job_id)), 201  # the body, if any, is ignored


@bp.get("/v1/jobs/<job_id>/runs")
def list_runs(job_id: str) -> list[JSON]:
    return [run_json(r) for r in metronome().active_runs(job_id)]  # active runs only


@bp.get("/v1/jobs/<job_id>/runs/<run_id>")
def get_run(job_id: str, run_id: str) -> JSON:
    return run_json(metronome().run(job_id, run_id))


@bp.post("/v1/jobs/<job_id>/runs/<run_id>/actions/stop")
def stop_run(job_id: str, run_id: str) -> JSON:
    return run_json(metronome().stop_run(job_id, run_id))


@bp.get("/v1/queue")
def queue() -> list[JSON]:
    waiting = metronome().queue()
    return [
        {"jobId": job_id, "runs": [{"runId": run_id} for run_id in run_ids]}
        for job_id, run_ids in sorted(waiting.items())
    ]
