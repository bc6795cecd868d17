"""The leader's state: jobs, schedules, active runs and history, kept in memory and in ZooKeeper.

Every operation runs under one lock, writes ZooKeeper first and changes memory only after the
write succeeded, so what the API acknowledges is durable and memory never runs ahead of the
store. The clock and the random strings are passed in; side effects on Mesos (kill, revive)
leave through hooks the scheduler sets, called after the lock is released.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from daemons.metronome import runs as r
from daemons.metronome import schedule as s
from daemons.metronome.errors import (
    ActiveRunsExist,
    JobNotFound,
    NotReady,
    RunNotFound,
    ScheduleExists,
    ScheduleNotFound,
    TooManySchedules,
)
from daemons.metronome.jobspec import JobDocument, JobSpec, ensure_fits
from daemons.metronome.store import JobStore, Snapshot, Versioned

log = logging.getLogger(__name__)

Kill = Callable[[str, str | None, float | None], None]


@dataclass(frozen=True)
class KillOrder:
    task_id: str
    agent_id: str | None
    grace_seconds: float | None


class Metronome:
    def __init__(
        self,
        *,
        clock: Callable[[], float],
        run_suffix: Callable[[], str],
        history_limit: int = 20,
        max_node_size: int = 1024 * 1024,
    ) -> None:
        self.clock = clock
        self.run_suffix = run_suffix
        self.history_limit = history_limit
        self.max_node_size = max_node_size
        # Hooks (the scheduler's): kill a task; there are runs waiting for offers.
        self.kill: Kill = lambda task_id, agent_id, grace: None
        self.wake: Callable[[], None] = lambda: None
        self._lock = threading.RLock()
        self._store: JobStore | None = None
        self._state = Snapshot()
        # In memory only: the time each schedule was last looked at (persisted when it fires).
        self._cursors: dict[tuple[str, str], float] = {}

    # --- loading --------------------------------------------------------------------------------

    def load(self, store: JobStore) -> None:
        snapshot = store.load()
        with self._lock:
            self._store = store
            self._state = snapshot
            self._cursors = {}
        log.info(
            "state loaded jobs=%d active_runs=%d",
            len(snapshot.jobs),
            sum(len(v) for v in snapshot.runs.values()),
        )

    @property
    def ready(self) -> bool:
        return self._store is not None

    @contextmanager
    def _locked(self) -> Iterator[JobStore]:
        with self._lock:
            if self._store is None:
                raise NotReady()
            yield self._store

    def has_active_runs(self) -> bool:
        with self._lock:
            return any(self._state.runs.values())

    # --- jobs -----------------------------------------------------------------------------------

    def _job(self, job_id: str) -> Versioned[JobSpec]:
        found = self._state.jobs.get(job_id)
        if found is None:
            raise JobNotFound(job_id)
        return found

    def jobs(self) -> list[JobSpec]:
        with self._locked():
            return [v.value for _, v in sorted(self._state.jobs.items())]

    def job(self, job_id: str) -> JobSpec:
        with self._locked():
            return self._job(job_id).value

    def create_job(self, doc: JobDocument) -> JobSpec:
        job = doc.job
        data = ensure_fits(job, self.max_node_size)
        with self._locked() as store:
            now = self.clock()
            schedules = s.JobSchedules(
                doc.schedules or (), {x.id: now for x in doc.schedules or ()}
            )
            versions = store.create_job(job, data, schedules)
            self._state.jobs[job.id] = Versioned(job, versions[0])
            self._state.schedules[job.id] = Versioned(schedules, versions[1])
            self._state.history[job.id] = Versioned(r.JobHistory(), versions[2])
            self._state.runs[job.id] = {}
        log.info("job created id=%s", job.id)
        return job

    def update_job(self, doc: JobDocument) -> JobSpec:
        """PUT: the job; with `doc.schedules` (v0) its schedules too, in one transaction."""
        job = doc.job
        data = ensure_fits(job, self.max_node_size)
        with self._locked() as store:
            current = self._job(job.id)
            new_schedules: Versioned[s.JobSchedules] | None = None
            if doc.schedules is not None:
                old = self._state.schedules[job.id]
                new_schedules = Versioned(
                    self._replace_schedules(old.value, doc.schedules), old.version
                )
            job_version, schedules_version = store.update_job(
                job, data, current.version, new_schedules
            )
            self._state.jobs[job.id] = Versioned(job, job_version)
            if new_schedules is not None and schedules_version is not None:
                self._state.schedules[job.id] = Versioned(new_schedules.value, schedules_version)
        log.info("job updated id=%s", job.id)
        return job

    def _replace_schedules(
        self, old: s.JobSchedules, new: tuple[s.Schedule, ...]
    ) -> s.JobSchedules:
        now = self.clock()
        ticks = {x.id: old.last_ticks.get(x.id, now) if old.get(x.id) == x else now for x in new}
        return s.JobSchedules(new, ticks)

    def delete_job(self, job_id: str, stop_current_runs: bool) -> JobSpec:
        kills: list[KillOrder] = []
        with self._locked() as store:
            job = self._job(job_id)
            active = self._state.runs.get(job_id, {})
            if active and not stop_current_runs:
                raise ActiveRunsExist()
            for run in active.values():
                kills.extend(self._kill_orders(run.value.live_tasks, run.value))
            store.delete_job(
                job_id,
                job.version,
                self._state.schedules[job_id].version,
                self._state.history[job_id].version,
                [(run_id, v.version) for run_id, v in active.items()],
            )
            del self._state.jobs[job_id], self._state.schedules[job_id]
            del self._state.history[job_id]
            self._state.runs.pop(job_id, None)
            self._cursors = {k: v for k, v in self._cursors.items() if k[0] != job_id}
        self._send_kills(kills)
        log.info("job deleted id=%s stopped_runs=%d", job_id, len(active))
        return job.value

    # --- schedules ------------------------------------------------------------------------------

    def schedules(self, job_id: str) -> tuple[s.Schedule, ...]:
        with self._locked():
            self._job(job_id)
            return self._state.schedules[job_id].value.schedules

    def schedule(self, job_id: str, schedule_id: str) -> s.Schedule:
        found = next((x for x in self.schedules(job_id) if x.id == schedule_id), None)
        if found is None:
            raise ScheduleNotFound(schedule_id)
        return found

    def _put_schedules(self, store: JobStore, job_id: str, state: s.JobSchedules) -> None:
        current = self._state.schedules[job_id]
        version = store.set_schedules(job_id, state, current.version)
        self._state.schedules[job_id] = Versioned(state, version)

    def create_schedule(self, job_id: str, schedule: s.Schedule) -> s.Schedule:
        with self._locked() as store:
            self._job(job_id)
            state = self._state.schedules[job_id].value
            if state.get(schedule.id) is not None:
                raise ScheduleExists()
            if state.schedules:
                raise TooManySchedules()
            ticks = {**state.last_ticks, schedule.id: self.clock()}
            self._put_schedules(store, job_id, s.JobSchedules((*state.schedules, schedule), ticks))
        return schedule

    def update_schedule(self, job_id: str, schedule: s.Schedule) -> s.Schedule:
        with self._locked() as store:
            self._job(job_id)
            state = self._state.schedules[job_id].value
            if state.get(schedule.id) is None:
                raise ScheduleNotFound(schedule.id)
            new = tuple(schedule if x.id == schedule.id else x for x in state.schedules)
            self._put_schedules(store, job_id, self._replace_schedules(state, new))
            self._cursors.pop((job_id, schedule.id), None)
        return schedule

    def delete_schedule(self, job_id: str, schedule_id: str) -> None:
        with self._locked() as store:
            self._job(job_id)
            state = self._state.schedules[job_id].value
            if state.get(schedule_id) is None:
                raise ScheduleNotFound(schedule_id)
            rest = tuple(x for x in state.schedules if x.id != schedule_id)
            ticks = {k: t for k, t in state.last_ticks.items() if k != schedule_id}
            self._put_schedules(store, job_id, s.JobSchedules(rest, ticks))
            self._cursors.pop((job_id, schedule_id), None)

    def tick(self, now: float) -> list[r.JobRun]:
        """Start the runs whose schedule ticks are due at `now`; the runs started."""
        started: list[r.JobRun] = []
        with self._locked() as store:
            for job_id, versioned in list(self._state.schedules.items()):
                for schedule in versioned.value.schedules:
                    run = self._tick_one(store, job_id, schedule, now)
                    if run is not None:
                        started.append(run)
        if started:
            self.wake()
        return started

    def _tick_one(
        self, store: JobStore, job_id: str, schedule: s.Schedule, now: float
    ) -> r.JobRun | None:
        key = (job_id, schedule.id)
        state = self._state.schedules[job_id]
        last = self._cursors.get(key, state.value.last_ticks.get(schedule.id, now))
        fire = s.due(schedule, last, now, len(self._state.runs.get(job_id, {})))
        if not fire:
            self._cursors[key] = max(last, now)
            return None
        ticks = {**state.value.last_ticks, schedule.id: fire[0]}
        moved = Versioned(replace(state.value, last_ticks=ticks), state.version)
        run = r.new_run(self._state.jobs[job_id].value, now, self.run_suffix())
        run_version, schedules_version = store.create_run(run, moved)
        assert schedules_version is not None
        self._state.schedules[job_id] = Versioned(moved.value, schedules_version)
        self._state.runs[job_id][run.id] = Versioned(run, run_version)
        self._cursors[key] = max(last, now)  # only now: a failed write is retried next tick
        log.info("scheduled run started job=%s run=%s schedule=%s", job_id, run.id, schedule.id)
        return run

    # --- runs -----------------------------------------------------------------------------------

    def active_runs(self, job_id: str | None = None) -> list[r.JobRun]:
        with self._locked():
            if job_id is not None:
                self._job(job_id)
                tables = [self._state.runs.get(job_id, {})]
            else:
                tables = list(self._state.runs.values())
            found = [v.value for table in tables for v in table.values()]
        return sorted(found, key=lambda run: (run.created_at, run.id))

    def run(self, job_id: str, run_id: str) -> r.JobRun:
        with self._locked():
            self._job(job_id)
            found = self._state.runs.get(job_id, {}).get(run_id)
            if found is None:
                raise RunNotFound(job_id, run_id)
            return found.value

    def history(self, job_id: str) -> r.JobHistory:
        with self._locked():
            self._job(job_id)
            return self._state.history[job_id].value

    def start_run(self, job_id: str) -> r.JobRun:
        with self._locked() as store:
            job = self._job(job_id).value
            run = r.new_run(job, self.clock(), self.run_suffix())
            version, _ = store.create_run(run)
            self._state.runs[job_id][run.id] = Versioned(run, version)
        log.info("run started job=%s run=%s", job_id, run.id)
        self.wake()
        return run

    def stop_run(self, job_id: str, run_id: str) -> r.JobRun:
        with self._locked() as store:
            self.run(job_id, run_id)
            current = self._state.runs[job_id][run_id]
            stopped, live = r.stop(current.value, self.clock())
            self._save_run(store, current, stopped)
            kills = self._kill_orders(live, stopped)
        self._send_kills(kills)
        log.info("run stopped job=%s run=%s tasks=%d", job_id, run_id, len(kills))
        return stopped

    def _save_run(self, store: JobStore, current: Versioned[r.JobRun], run: r.JobRun) -> None:
        """Persist a changed run: finished runs leave the active set for the history."""
        if run == current.value:
            return
        table = self._state.runs[run.job_id]
        if run.is_finished:
            history = self._state.history[run.job_id]
            counted = r.record_finished(history.value, run, self.history_limit)
            version = store.finish_run(run, current.version, counted, history.version)
            self._state.history[run.job_id] = Versioned(counted, version)
            table.pop(run.id, None)
            log.info("run finished job=%s run=%s status=%s", run.job_id, run.id, run.status)
        else:
            table[run.id] = Versioned(run, store.update_run(run, current.version))

    def _kill_orders(self, tasks: tuple[r.RunTask, ...], run: r.JobRun) -> list[KillOrder]:
        grace = run.job.run.task_kill_grace_period_seconds
        return [KillOrder(t.id, t.agent_id, grace) for t in tasks]

    def _send_kills(self, kills: list[KillOrder]) -> None:
        for order in kills:
            self.kill(order.task_id, order.agent_id, order.grace_seconds)

    # --- what the scheduler asks ----------------------------------------------------------------

    def waiting(self, now: float) -> list[r.JobRun]:
        """Runs to launch now (oldest first)."""
        return [run for run in self.active_runs() if r.wants_launch(run, now)]

    def queue(self) -> dict[str, list[str]]:
        """Job id -> ids of its runs that wait for a launch (the backoff included)."""
        out: dict[str, list[str]] = {}
        for run in self.active_runs():
            if run.status == r.INITIAL and not run.stopping:
                out.setdefault(run.job_id, []).append(run.id)
        return out

    def launching(self, job_id: str, run_id: str, task_id: str, agent_id: str) -> bool:
        """Record a launch before the ACCEPT goes out; False when the run no longer waits."""
        with self._locked() as store:
            now = self.clock()
            current = self._state.runs.get(job_id, {}).get(run_id)
            if current is None or not r.wants_launch(current.value, now):
                return False
            self._save_run(store, current, r.launched(current.value, task_id, agent_id, now))
            return True

    def task_update(self, task_id: str, mesos_state: str, agent_id: str | None) -> bool:
        """Apply a status update; True when the task belongs to no active run but is live (an
        orphan: the caller kills it)."""
        woke = False
        kills: list[KillOrder] = []
        with self._locked() as store:
            found = self._find_task(task_id)
            if found is None:
                return r.task_status(mesos_state) not in r.TERMINAL_TASK_STATUSES
            current = found
            updated = r.task_update(current.value, task_id, mesos_state, self.clock())
            self._save_run(store, current, updated)
            woke = updated.status == r.INITIAL and current.value.status != r.INITIAL
            if updated.stopping and mesos_state in ("TASK_STARTING", "TASK_RUNNING"):
                # A kill sent while the task was still being launched may not have reached
                # its agent: repeat it (killing twice is harmless).
                live = tuple(t for t in updated.live_tasks if t.id == task_id)
                kills = self._kill_orders(live, updated)
        self._send_kills(kills)
        if woke:
            self.wake()
        return False

    def _find_task(self, task_id: str) -> Versioned[r.JobRun] | None:
        for table in self._state.runs.values():
            for versioned in table.values():
                if versioned.value.task(task_id) is not None:
                    return versioned
        return None

    def known_tasks(self, now: float, settle: float = 30.0) -> list[tuple[str, str | None]]:
        """(task id, agent id) of every live task, for explicit reconciliation. Tasks launched
        less than `settle` seconds ago with no update yet are left out: their ACCEPT may still
        be on its way, and the master would answer TASK_UNKNOWN for a task about to run."""
        return [
            (t.id, t.agent_id)
            for run in self.active_runs()
            for t in run.live_tasks
            if t.status != "TASK_STAGING" or now - t.started_at >= settle
        ]

    def stopping_tasks(self) -> list[KillOrder]:
        """Live tasks of stopped runs: killed again after a (re)subscription."""
        out: list[KillOrder] = []
        for run in self.active_runs():
            if run.stopping:
                out.extend(self._kill_orders(run.live_tasks, run))
        return out
