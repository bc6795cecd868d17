"""`/v1/jobs/<id>/schedules`: at most one schedule per job (409 for a second one)."""

from __future__ import annotations

from flask import Blueprint

from daemons.metronome.http import metronome, now, read_body
from daemons.metronome.schedule import parse_schedule, schedule_json
from daemons.protocols import JSON

bp = Blueprint("schedules", __name__)


@bp.get("/v1/jobs/<job_id>/schedules")
def list_schedules(job_id: str) -> list[JSON]:
    return [schedule_json(s, now()) for s in metronome().schedules(job_id)]


@bp.post("/v1/jobs/<job_id>/schedules")
def create_schedule(job_id: str) -> tuple[JSON, int]:
    metronome().job(job_id)  # 404 before 422: the job must exist
    schedule = metronome().create_schedule(job_id, parse_schedule(read_body()))
    return schedule_json(schedule, now()), 201


@bp.get("/v1/jobs/<job_id>/schedules/<schedule_id>")
def get_schedule(job_id: str, schedule_id: str) -> JSON:
    return schedule_json(metronome().schedule(job_id, schedule_id), now())


@bp.put("/v1/jobs/<job_id>/schedules/<schedule_id>")
def update_schedule(job_id: str, schedule_id: str) -> JSON:
    metronome().schedule(job_id, schedule_id)  # 404 before 422
    schedule = parse_schedule(read_body(), path_id=schedule_id)
    return schedule_json(metronome().update_schedule(job_id, schedule), now())


@bp.delete("/v1/jobs/<job_id>/schedules/<schedule_id>")
def delete_schedule(job_id: str, schedule_id: str) -> JSON:
    schedule = metronome().schedule(job_id, schedule_id)
    metronome().delete_schedule(job_id, schedule_id)
    return schedule_json(schedule, now())
