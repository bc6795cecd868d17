"""Metronome's state in ZooKeeper, written through the kit's fenced store: every write returns
only once ZooKeeper has it, and ZooKeeper's refusals become the daemon's errors here.

Layout under the configured path (e.g. `/metronome`), one JSON node per thing:

    epoch                        taken by every new leader on `load` (daemons/kit/store.py)
    jobs/<jobId>                 the JobSpec (stored form, `jobspec.job_record`)
    schedules/<jobId>            {"schedules": [...], "lastTicks": {scheduleId: seconds}}
    runs/<jobId>/<runId>         an active run (`runs.run_record`), deleted when it finishes
    history/<jobId>              counts and the latest finished runs (`runs.history_record`)
    leader/, framework-id        owned by daemons.frameworks.daemon

Every write is one fenced ZooKeeper transaction: once a newer leader has loaded the state, an
older one (paused, cut off, not yet told) writes nothing more (`Fenced`) and steps down
(`on_fenced`). Writes that change several nodes are one transaction too (create a job with its
schedules, delete a job with its runs, finish a run and count it in the history, start a
scheduled run and move the schedule's cursor). Every update names the version it read, so a
write over a change this leader has not seen loses with `ConcurrentChange` instead of
overwriting it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from daemons.kit import store as fenced
from daemons.metronome import runs as r
from daemons.metronome import schedule as s
from daemons.metronome.errors import ConcurrentChange, JobExists
from daemons.metronome.jobspec import JobSpec, encode, job_from_record

log = logging.getLogger(__name__)

T = TypeVar("T")
FOLDERS = ("jobs", "schedules", "runs", "history")


@dataclass(frozen=True)
class Versioned(Generic[T]):
    value: T
    version: int


@dataclass
class Snapshot:
    jobs: dict[str, Versioned[JobSpec]] = field(default_factory=dict)
    schedules: dict[str, Versioned[s.JobSchedules]] = field(default_factory=dict)
    runs: dict[str, dict[str, Versioned[r.JobRun]]] = field(default_factory=dict)
    history: dict[str, Versioned[r.JobHistory]] = field(default_factory=dict)


class JobStore:
    def __init__(
        self, client: Any, path: str, on_fenced: Callable[[str], None] | None = None
    ) -> None:
        self.zk = fenced.FencedZkStore(client, path, on_fenced=on_fenced)
        self.path = self.zk.path

    def _node(self, *parts: str) -> str:
        return self.zk.node(*parts)

    def _commit(
        self, what: str, writes: list[fenced.Write], *, creates_job: bool = False
    ) -> list[int | None]:
        try:
            return self.zk.commit(writes)
        except fenced.Refused as refused:
            if refused.reason == fenced.NODE_EXISTS:
                raise (JobExists() if creates_job else ConcurrentChange(what)) from None
            if refused.reason in (fenced.BAD_VERSION, fenced.NO_NODE, fenced.NOT_EMPTY):
                raise ConcurrentChange(what) from None
            raise

    # --- reading ------------------------------------------------------------------------------

    def load(self) -> Snapshot:
        """Take the epoch (fencing every earlier leader), then read everything, as the leader
        keeps it in memory."""
        self.zk.take_epoch()
        self.zk.ensure(*(self._node(folder) for folder in FOLDERS))
        snap = Snapshot()
        job_ids = self.zk.children(self._node("jobs"))
        nodes = self.zk.read_all(
            self._node(folder, job_id)
            for job_id in job_ids
            for folder in FOLDERS
            if folder != "runs"
        )

        def record(*parts: str) -> tuple[Any, int]:
            found = nodes.get(self._node(*parts))
            if found is None:
                raise ConcurrentChange(f"{'/'.join(parts)} (gone while loading)")
            return json.loads(found[0]), found[1]

        for job_id in job_ids:
            data, version = record("jobs", job_id)
            snap.jobs[job_id] = Versioned(job_from_record(data), version)
            data, version = record("schedules", job_id)
            snap.schedules[job_id] = Versioned(s.schedules_from_record(data), version)
            data, version = record("history", job_id)
            snap.history[job_id] = Versioned(r.history_from_record(data), version)
            run_nodes = [
                self._node("runs", job_id, run_id)
                for run_id in self.zk.children(self._node("runs", job_id))
            ]
            snap.runs[job_id] = {
                node.rsplit("/", 1)[1]: Versioned(r.run_from_record(json.loads(raw)), version)
                for node, (raw, version) in self.zk.read_all(run_nodes).items()
            }
        return snap

    # --- jobs ---------------------------------------------------------------------------------

    def create_job(
        self, job: JobSpec, job_data: bytes, schedules: s.JobSchedules
    ) -> tuple[int, int, int]:
        """Job, schedules, empty history and runs folder at once; JobExists if it exists.
        Returns the versions of the job, schedules and history nodes (all 0)."""
        writes: list[fenced.Write] = [
            fenced.Create(self._node("jobs", job.id), job_data),
            fenced.Create(self._node("schedules", job.id), encode(s.schedules_record(schedules))),
            fenced.Create(self._node("history", job.id), encode(r.history_record(r.JobHistory()))),
            fenced.Create(self._node("runs", job.id), b""),
        ]
        self._commit(f"job {job.id}", writes, creates_job=True)
        return 0, 0, 0

    def update_job(
        self,
        job: JobSpec,
        job_data: bytes,
        version: int,
        schedules: Versioned[s.JobSchedules] | None = None,
    ) -> tuple[int, int | None]:
        """Replace the job (and its schedules, when given) if nobody changed them since."""
        writes: list[fenced.Write] = [fenced.SetData(self._node("jobs", job.id), job_data, version)]
        if schedules is not None:
            data = encode(s.schedules_record(schedules.value))
            writes.append(fenced.SetData(self._node("schedules", job.id), data, schedules.version))
        versions = self._commit(f"job {job.id}", writes)
        return _version(versions[0]), (_version(versions[1]) if schedules is not None else None)

    def delete_job(
        self,
        job_id: str,
        job_version: int,
        schedules_version: int,
        history_version: int,
        run_versions: Iterable[tuple[str, int]],
    ) -> None:
        writes: list[fenced.Write] = [
            fenced.Delete(self._node("runs", job_id, run_id), version)
            for run_id, version in run_versions
        ]
        writes += [
            fenced.Delete(self._node("runs", job_id)),
            fenced.Delete(self._node("schedules", job_id), schedules_version),
            fenced.Delete(self._node("history", job_id), history_version),
            fenced.Delete(self._node("jobs", job_id), job_version),
        ]
        self._commit(f"job {job_id}", writes)

    # --- schedules ----------------------------------------------------------------------------

    def set_schedules(self, job_id: str, state: s.JobSchedules, version: int) -> int:
        data = encode(s.schedules_record(state))
        write = fenced.SetData(self._node("schedules", job_id), data, version)
        return _version(self._commit(f"schedules of {job_id}", [write])[0])

    # --- runs ---------------------------------------------------------------------------------

    def create_run(
        self, run: r.JobRun, schedules: Versioned[s.JobSchedules] | None = None
    ) -> tuple[int, int | None]:
        """Store a new run; a scheduled one together with its schedule's new cursor."""
        writes: list[fenced.Write] = [
            fenced.Create(self._node("runs", run.job_id, run.id), encode(r.run_record(run)))
        ]
        if schedules is not None:
            data = encode(s.schedules_record(schedules.value))
            writes.append(
                fenced.SetData(self._node("schedules", run.job_id), data, schedules.version)
            )
        versions = self._commit(f"run {run.id} of {run.job_id}", writes)
        return 0, _version(versions[1]) if schedules is not None else None

    def update_run(self, run: r.JobRun, version: int) -> int:
        data = encode(r.run_record(run))
        write = fenced.SetData(self._node("runs", run.job_id, run.id), data, version)
        return _version(self._commit(f"run {run.id} of {run.job_id}", [write])[0])

    def finish_run(
        self, run: r.JobRun, run_version: int, history: r.JobHistory, history_version: int
    ) -> int:
        """Remove the finished run and store the history that counts it, at once."""
        data = encode(r.history_record(history))
        writes: list[fenced.Write] = [
            fenced.Delete(self._node("runs", run.job_id, run.id), run_version),
            fenced.SetData(self._node("history", run.job_id), data, history_version),
        ]
        versions = self._commit(f"run {run.id} of {run.job_id}", writes)
        return _version(versions[1])


def _version(written: int | None) -> int:
    """The version a node has after a write that sets it (SetData or Create)."""
    assert written is not None, "only a delete or a check answers no version"
    return written
