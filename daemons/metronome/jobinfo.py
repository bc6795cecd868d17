"""JobInfo: a JobSpec with the embeds a request asked for (`?embed=activeRuns` …). Pure.

`activeRuns`: on the list endpoint only for jobs that have active runs (dcoscli shows a job as
"Running" whenever the key is there); on a single job always, possibly `[]`. `schedules`,
`history` and `historySummary` are added when asked for. Without embeds this is the JobSpec
exactly as dcos-metronome parses it.
"""

from __future__ import annotations

from collections.abc import Iterable

from daemons.metronome.jobspec import JobSpec, job_json
from daemons.metronome.runs import JobHistory, JobRun, history_json, history_summary_json, run_json
from daemons.metronome.schedule import Schedule, schedule_json
from daemons.protocols import JSON

EMBEDS = frozenset({"activeRuns", "schedules", "history", "historySummary"})


def parse_embeds(values: Iterable[str]) -> frozenset[str]:
    """`embed` values, repeated or comma-separated; unknown names are ignored."""
    names = {part.strip() for value in values for part in value.split(",")}
    return frozenset(names & EMBEDS)


def job_info(
    job: JobSpec,
    embeds: frozenset[str],
    *,
    runs: Iterable[JobRun],
    schedules: Iterable[Schedule],
    history: JobHistory,
    now: float,
    listing: bool,
) -> JSON:
    out = job_json(job)
    if "activeRuns" in embeds:
        active = [run_json(r) for r in runs]
        if active or not listing:
            out["activeRuns"] = active
    if "schedules" in embeds:
        out["schedules"] = [schedule_json(s, now) for s in schedules]
    if "history" in embeds:
        out["history"] = history_json(history)
    if "historySummary" in embeds:
        out["historySummary"] = history_summary_json(history)
    return out
