"""JobInfo embeds: which keys appear for the list and for a single job."""

from __future__ import annotations

from daemons.metronome import runs as r
from daemons.metronome.jobinfo import job_info, parse_embeds
from daemons.metronome.jobspec import JobSpec, RunSpec
from daemons.metronome.schedule import Schedule

JOB = JobSpec("j", RunSpec(cpus=0.1, mem=32, cmd="true"))


def test_embed_values_repeated_or_comma_separated_unknown_ignored() -> None:
    assert parse_embeds(["activeRuns", "schedules,history", "bogus"]) == {
        "activeRuns",
        "schedules",
        "history",
    }
    assert parse_embeds([]) == frozenset()


def test_active_runs_only_for_jobs_with_runs_when_listing() -> None:
    everything = parse_embeds(["activeRuns,schedules,history,historySummary"])
    kwargs = {"schedules": (), "history": r.JobHistory(), "now": 0.0}
    assert "activeRuns" not in job_info(JOB, everything, runs=(), listing=True, **kwargs)
    assert job_info(JOB, everything, runs=(), listing=False, **kwargs)["activeRuns"] == []
    run = r.new_run(JOB, 0.0, "AAAAA")
    listed = job_info(JOB, everything, runs=(run,), listing=True, **kwargs)
    assert [x["id"] for x in listed["activeRuns"]] == [run.id]
    assert set(listed) == {"id", "run", "activeRuns", "schedules", "history", "historySummary"}


def test_without_embeds_it_is_the_job_spec() -> None:
    out = job_info(
        JOB,
        frozenset(),
        runs=(),
        schedules=(Schedule("s", "* * * * *"),),
        history=r.JobHistory(),
        now=0.0,
        listing=False,
    )
    assert set(out) == {"id", "run"}
