"""Job runs (`/v1/jobs/{id}/runs`): the JobRun state machine, job history, their JSON. Pure.

A run is INITIAL until a task is launched, STARTING until the task runs, ACTIVE while it runs,
and ends SUCCESS (task finished) or FAILED. Invariants:
- a finished run (SUCCESS/FAILED) never changes, and neither does a task in a terminal state;
- a run has at most one live task; ON_FAILURE puts a failed run back to INITIAL, to be launched
  again after a backoff (1 s doubling, at most `maxLaunchDelay`) while the run is younger than
  `activeDeadlineSeconds` (no deadline: for ever); NEVER fails it;
- a stopped run kills its task and ends FAILED (at once when no task is live).

Mesos task states are shown with the names dcos-metronome knows (KILLING -> TASK_RUNNING;
LOST/DROPPED/GONE/ERROR/UNKNOWN -> TASK_FAILED). UNREACHABLE (we are PARTITION_AWARE) is shown
as TASK_RUNNING and keeps the run going: the task may come back, or end in a terminal state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from daemons.metronome.jobspec import JobSpec, job_from_record, job_record
from daemons.metronome.timestamps import format_optional, format_time, run_stamp
from daemons.protocols import JSON

INITIAL, STARTING, ACTIVE, SUCCESS, FAILED = "INITIAL", "STARTING", "ACTIVE", "SUCCESS", "FAILED"
FINISHED = frozenset({SUCCESS, FAILED})
# A run keeps its latest tasks only (ON_FAILURE without a deadline can relaunch for ever).
MAX_TASKS_PER_RUN = 50

TASK_STATUS = {
    "TASK_STAGING": "TASK_STAGING",
    "TASK_STARTING": "TASK_STARTING",
    "TASK_RUNNING": "TASK_RUNNING",
    "TASK_KILLING": "TASK_RUNNING",
    "TASK_UNREACHABLE": "TASK_RUNNING",
    "TASK_FINISHED": "TASK_FINISHED",
    "TASK_FAILED": "TASK_FAILED",
    "TASK_KILLED": "TASK_KILLED",
    "TASK_LOST": "TASK_FAILED",
    "TASK_DROPPED": "TASK_FAILED",
    "TASK_GONE": "TASK_FAILED",
    "TASK_GONE_BY_OPERATOR": "TASK_FAILED",
    "TASK_ERROR": "TASK_FAILED",
    "TASK_UNKNOWN": "TASK_FAILED",
}
TERMINAL_TASK_STATUSES = frozenset({"TASK_FINISHED", "TASK_FAILED", "TASK_KILLED"})


def task_status(mesos_state: str) -> str:
    """A Mesos task state as the Metronome task status (unknown names count as failed)."""
    return TASK_STATUS.get(mesos_state, "TASK_FAILED")


@dataclass(frozen=True)
class RunTask:
    id: str
    started_at: float
    status: str = "TASK_STAGING"  # Metronome's name
    completed_at: float | None = None
    agent_id: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_TASK_STATUSES


@dataclass(frozen=True)
class JobRun:
    id: str
    job: JobSpec  # the job as it was when the run started (relaunches use it)
    created_at: float
    status: str = INITIAL
    completed_at: float | None = None
    tasks: tuple[RunTask, ...] = ()
    stopping: bool = False
    failures: int = 0  # failed tasks so far
    launch_after: float = 0.0  # no (re)launch before this time (restart backoff)

    @property
    def job_id(self) -> str:
        return self.job.id

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def live_tasks(self) -> tuple[RunTask, ...]:
        return tuple(t for t in self.tasks if not t.is_terminal)

    def task(self, task_id: str) -> RunTask | None:
        return next((t for t in self.tasks if t.id == task_id), None)


def new_run(job: JobSpec, now: float, suffix: str) -> JobRun:
    """A run created at `now`; `suffix` is 5 random alphanumerics (the caller's RNG)."""
    return JobRun(id=run_stamp(now) + suffix, job=job, created_at=now, launch_after=now)


def task_id_for(run: JobRun, suffix: str) -> str:
    """`<jobId>_<runId>.<suffix>`, the id of a task Metronome launches for `run`."""
    return f"{run.job_id}_{run.id}.{suffix}"


def wants_launch(run: JobRun, now: float) -> bool:
    return (
        run.status == INITIAL
        and not run.stopping
        and not run.live_tasks
        and now >= run.launch_after
    )


def launched(run: JobRun, task_id: str, agent_id: str, now: float) -> JobRun:
    task = RunTask(id=task_id, started_at=now, agent_id=agent_id)
    tasks = (*run.tasks, task)[-MAX_TASKS_PER_RUN:]
    return replace(run, status=STARTING, tasks=tasks)


def restart_delay(run: JobRun) -> float:
    """Seconds before relaunching after the `run.failures`-th failure: 1, 2, 4, ... capped."""
    return float(min(run.job.run.max_launch_delay, 2 ** min(max(run.failures - 1, 0), 30)))


def _may_restart(run: JobRun, now: float) -> bool:
    restart = run.job.run.restart
    if restart.policy != "ON_FAILURE" or run.stopping:
        return False
    deadline = restart.active_deadline_seconds
    return deadline is None or now < run.created_at + deadline


def task_update(run: JobRun, task_id: str, mesos_state: str, now: float) -> JobRun:
    """Apply one status update of one of the run's tasks (others are ignored)."""
    task = run.task(task_id)
    if run.is_finished or task is None or task.is_terminal:
        return run  # terminal states never change
    status = task_status(mesos_state)
    terminal = status in TERMINAL_TASK_STATUSES
    updated = replace(task, status=status, completed_at=now if terminal else None)
    tasks = tuple(updated if t.id == task_id else t for t in run.tasks)
    run = replace(run, tasks=tasks)
    if not terminal:
        return replace(run, status=ACTIVE if status == "TASK_RUNNING" else STARTING)
    if status == "TASK_FINISHED" and not run.stopping:
        return replace(run, status=SUCCESS, completed_at=now)
    if run.live_tasks:
        return run
    failed = replace(run, failures=run.failures + 1)
    if _may_restart(failed, now):
        return replace(failed, status=INITIAL, launch_after=now + restart_delay(failed))
    return replace(failed, status=FAILED, completed_at=now)


def stop(run: JobRun, now: float) -> tuple[JobRun, tuple[RunTask, ...]]:
    """Stop `run`: the tasks to kill; without live tasks the run is FAILED at once."""
    if run.is_finished:
        return run, ()
    live = run.live_tasks
    if not live:
        return replace(run, stopping=True, status=FAILED, completed_at=now), ()
    return replace(run, stopping=True), live


# --- history -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FinishedRun:
    id: str
    created_at: float
    finished_at: float
    tasks: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobHistory:
    success_count: int = 0
    failure_count: int = 0
    last_success_at: float | None = None
    last_failure_at: float | None = None
    successful_runs: tuple[FinishedRun, ...] = ()  # newest first
    failed_runs: tuple[FinishedRun, ...] = ()


def record_finished(history: JobHistory, run: JobRun, limit: int) -> JobHistory:
    """Count a finished run and keep it among the latest `limit` of its kind."""
    if not run.is_finished:
        raise ValueError(f"run {run.id} has not finished")
    finished_at = run.completed_at if run.completed_at is not None else run.created_at
    entry = FinishedRun(run.id, run.created_at, finished_at, tuple(t.id for t in run.tasks))
    if run.status == SUCCESS:
        return replace(
            history,
            success_count=history.success_count + 1,
            last_success_at=finished_at,
            successful_runs=(entry, *history.successful_runs)[:limit],
        )
    return replace(
        history,
        failure_count=history.failure_count + 1,
        last_failure_at=finished_at,
        failed_runs=(entry, *history.failed_runs)[:limit],
    )


# --- JSON ----------------------------------------------------------------------------------------


def run_json(run: JobRun) -> JSON:
    """A JobRun as dcos-metronome parses it (id, jobId, status, createdAt, completedAt, tasks)."""
    return {
        "id": run.id,
        "jobId": run.job_id,
        "status": run.status,
        "createdAt": format_time(run.created_at),
        "completedAt": format_optional(run.completed_at),
        "tasks": [
            {
                "id": t.id,
                "startedAt": format_time(t.started_at),
                "completedAt": format_optional(t.completed_at),
                "status": t.status,
            }
            for t in run.tasks
        ],
    }


def _finished_json(run: FinishedRun) -> JSON:
    return {
        "id": run.id,
        "createdAt": format_time(run.created_at),
        "finishedAt": format_time(run.finished_at),
        "tasks": list(run.tasks),
    }


def history_summary_json(history: JobHistory) -> JSON:
    return {
        "successCount": history.success_count,
        "failureCount": history.failure_count,
        "lastSuccessAt": format_optional(history.last_success_at),
        "lastFailureAt": format_optional(history.last_failure_at),
    }


def history_json(history: JobHistory) -> JSON:
    return {
        **history_summary_json(history),
        "successfulFinishedRuns": [_finished_json(r) for r in history.successful_runs],
        "failedFinishedRuns": [_finished_json(r) for r in history.failed_runs],
    }


# --- stored forms (seconds as floats; nothing lost) ---------------------------------------------


def run_record(run: JobRun) -> JSON:
    return {
        "id": run.id,
        "jobSpec": job_record(run.job),
        "createdAt": run.created_at,
        "status": run.status,
        "completedAt": run.completed_at,
        "stopping": run.stopping,
        "failures": run.failures,
        "launchAfter": run.launch_after,
        "tasks": [
            {
                "id": t.id,
                "startedAt": t.started_at,
                "status": t.status,
                "completedAt": t.completed_at,
                "agentId": t.agent_id,
            }
            for t in run.tasks
        ],
    }


def run_from_record(record: Mapping[str, Any]) -> JobRun:
    return JobRun(
        id=str(record["id"]),
        job=job_from_record(record["jobSpec"]),
        created_at=float(record["createdAt"]),
        status=str(record["status"]),
        completed_at=record.get("completedAt"),
        stopping=bool(record.get("stopping", False)),
        failures=int(record.get("failures", 0)),
        launch_after=float(record.get("launchAfter", 0.0)),
        tasks=tuple(
            RunTask(
                id=str(t["id"]),
                started_at=float(t["startedAt"]),
                status=str(t["status"]),
                completed_at=t.get("completedAt"),
                agent_id=t.get("agentId"),
            )
            for t in record.get("tasks", [])
        ),
    )


def _finished_record(run: FinishedRun) -> JSON:
    return {
        "id": run.id,
        "createdAt": run.created_at,
        "finishedAt": run.finished_at,
        "tasks": list(run.tasks),
    }


def _finished_from_record(raw: Mapping[str, Any]) -> FinishedRun:
    return FinishedRun(
        str(raw["id"]),
        float(raw["createdAt"]),
        float(raw["finishedAt"]),
        tuple(str(t) for t in raw.get("tasks", [])),
    )


def history_record(history: JobHistory) -> JSON:
    return {
        "successCount": history.success_count,
        "failureCount": history.failure_count,
        "lastSuccessAt": history.last_success_at,
        "lastFailureAt": history.last_failure_at,
        "successfulFinishedRuns": [_finished_record(r) for r in history.successful_runs],
        "failedFinishedRuns": [_finished_record(r) for r in history.failed_runs],
    }


def history_from_record(record: Mapping[str, Any]) -> JobHistory:
    return JobHistory(
        success_count=int(record.get("successCount", 0)),
        failure_count=int(record.get("failureCount", 0)),
        last_success_at=record.get("lastSuccessAt"),
        last_failure_at=record.get("lastFailureAt"),
        successful_runs=tuple(
            _finished_from_record(r) for r in record.get("successfulFinishedRuns", [])
        ),
        failed_runs=tuple(_finished_from_record(r) for r in record.get("failedFinishedRuns", [])),
    )
