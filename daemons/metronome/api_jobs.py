"""`/v1/jobs` (JobSpec CRUD with embeds) and `/v0/scheduled-jobs` (job + schedules at once)."""

from __future__ import annotations

from flask import Blueprint

from daemons.kit import args
from daemons.metronome.http import embeds, metronome, now, read_body
from daemons.metronome.jobinfo import job_info
from daemons.metronome.jobspec import JobDocument, JobSpec, job_json, parse_job
from daemons.metronome.schedule import Schedule, schedule_json
from daemons.protocols import JSON

bp = Blueprint("jobs", __name__)


def _info(job: JobSpec, wanted: frozenset[str], listing: bool) -> JSON:
    m = metronome()
    return job_info(
        job,
        wanted,
        runs=m.active_runs(job.id) if "activeRuns" in wanted else (),
        schedules=m.schedules(job.id) if "schedules" in wanted else (),
        history=m.history(job.id),
        now=now(),
        listing=listing,
    )


def _with_schedules(job: JobSpec, schedules: tuple[Schedule, ...]) -> JSON:
    out = job_json(job)
    out["schedules"] = [schedule_json(s, now()) for s in schedules]
    return out


@bp.get("/v1/jobs")
def list_jobs() -> list[JSON]:
    wanted = embeds()
    return [_info(job, wanted, listing=True) for job in metronome().jobs()]


@bp.post("/v1/jobs")
def create_job() -> tuple[JSON, int]:
    doc = parse_job(read_body())  # 422 with every problem
    job = metronome().create_job(doc)  # 409 when it exists
    if doc.schedules:
        return _with_schedules(job, doc.schedules), 201
    return job_json(job), 201


@bp.get("/v1/jobs/<job_id>")
def get_job(job_id: str) -> JSON:
    return _info(metronome().job(job_id), embeds(), listing=False)


@bp.put("/v1/jobs/<job_id>")
def update_job(job_id: str) -> JSON:
    doc = parse_job(read_body(), path_id=job_id)
    # v1 updates the job only (dcoscli's `job update` ignores schedules too).
    return job_json(metronome().update_job(JobDocument(doc.job)))


@bp.delete("/v1/jobs/<job_id>")
def delete_job(job_id: str) -> JSON:
    job = metronome().delete_job(job_id, args.flag("stopCurrentJobRuns"))  # 409 with active runs
    return job_json(job)


@bp.post("/v0/scheduled-jobs")
def create_scheduled_job() -> tuple[JSON, int]:
    doc = parse_job(read_body())
    schedules = doc.schedules or ()
    job = metronome().create_job(JobDocument(doc.job, schedules))
    return _with_schedules(job, schedules), 201


@bp.put("/v0/scheduled-jobs/<job_id>")
def update_scheduled_job(job_id: str) -> JSON:
    doc = parse_job(read_body(), path_id=job_id)
    schedules = doc.schedules or ()
    job = metronome().update_job(JobDocument(doc.job, schedules))
    return _with_schedules(job, schedules)
