"""Metronome's state in ZooKeeper (kazoo). The adapter: every write returns only once ZooKeeper
has it, and kazoo errors become the daemon's errors here.

Layout under the configured path (e.g. `/metronome`), one JSON node per thing:

    jobs/<jobId>                 the JobSpec (stored form, `jobspec.job_record`)
    schedules/<jobId>            {"schedules": [...], "lastTicks": {scheduleId: seconds}}
    runs/<jobId>/<runId>         an active run (`runs.run_record`), deleted when it finishes
    history/<jobId>              counts and the latest finished runs (`runs.history_record`)
    leader/, framework-id        owned by daemons.frameworks.daemon

Writes that change several nodes are one ZooKeeper transaction (create a job with its schedules,
delete a job with its runs, finish a run and count it in the history, start a scheduled run and
move the schedule's cursor). Every update names the version it read, so a second writer (another
instance that believes it leads) loses with `ConcurrentChange` instead of overwriting.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from kazoo.exceptions import (
    BadVersionError,
    KazooException,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    RolledBackError,
)
from kazoo.handlers.threading import KazooTimeoutError

from daemons.kit.zk import StoreUnavailable
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


class _Tx:
    """A transaction whose failure is translated like a single call."""

    def __init__(self, client: Any) -> None:
        self.tx = client.transaction()

    def commit(self) -> list[Any]:
        results: list[Any] = self.tx.commit()
        for result in results:
            if isinstance(result, Exception) and not isinstance(result, RolledBackError):
                raise result
        return results


class JobStore:
    def __init__(self, client: Any, path: str) -> None:
        self.client = client
        self.path = path.rstrip("/") or "/"

    def _node(self, *parts: str) -> str:
        return "/".join((self.path if self.path != "/" else "", *parts))

    def _call(self, what: str, action: Callable[[], T], *, creates_job: bool = False) -> T:
        try:
            return action()
        except NodeExistsError:
            raise (JobExists() if creates_job else ConcurrentChange(what)) from None
        except (BadVersionError, NoNodeError, NotEmptyError):
            raise ConcurrentChange(what) from None
        except (KazooException, KazooTimeoutError) as err:
            raise StoreUnavailable(f"ZooKeeper: {err.__class__.__name__} ({what})") from None

    # --- reading ------------------------------------------------------------------------------

    def ensure_layout(self) -> None:
        def make() -> None:
            for folder in FOLDERS:
                self.client.ensure_path(self._node(folder))

        self._call("layout", make)

    def _read(self, node: str) -> tuple[Any, int]:
        data, stat = self.client.get(node)
        return json.loads(data), int(stat.version)

    def load(self) -> Snapshot:
        """Everything, as the leader keeps it in memory."""
        self.ensure_layout()
        return self._call("load", self._load)

    def _load(self) -> Snapshot:
        snap = Snapshot()
        for job_id in self.client.get_children(self._node("jobs")):
            record, version = self._read(self._node("jobs", job_id))
            snap.jobs[job_id] = Versioned(job_from_record(record), version)
            record, version = self._read(self._node("schedules", job_id))
            snap.schedules[job_id] = Versioned(s.schedules_from_record(record), version)
            record, version = self._read(self._node("history", job_id))
            snap.history[job_id] = Versioned(r.history_from_record(record), version)
            snap.runs[job_id] = {}
            for run_id in self.client.get_children(self._node("runs", job_id)):
                record, version = self._read(self._node("runs", job_id, run_id))
                snap.runs[job_id][run_id] = Versioned(r.run_from_record(record), version)
        return snap

    # --- jobs ---------------------------------------------------------------------------------

    def create_job(
        self, job: JobSpec, job_data: bytes, schedules: s.JobSchedules
    ) -> tuple[int, int, int]:
        """Job, schedules, empty history and runs folder at once; JobExists if it exists.
        Returns the versions of the job, schedules and history nodes (all 0)."""

        def create() -> tuple[int, int, int]:
            tx = _Tx(self.client)
            tx.tx.create(self._node("jobs", job.id), job_data)
            tx.tx.create(self._node("schedules", job.id), encode(s.schedules_record(schedules)))
            tx.tx.create(self._node("history", job.id), encode(r.history_record(r.JobHistory())))
            tx.tx.create(self._node("runs", job.id), b"")
            tx.commit()
            return 0, 0, 0

        return self._call(f"job {job.id}", create, creates_job=True)

    def update_job(
        self,
        job: JobSpec,
        job_data: bytes,
        version: int,
        schedules: Versioned[s.JobSchedules] | None = None,
    ) -> tuple[int, int | None]:
        """Replace the job (and its schedules, when given) if nobody changed them since."""

        def update() -> tuple[int, int | None]:
            tx = _Tx(self.client)
            tx.tx.set_data(self._node("jobs", job.id), job_data, version)
            if schedules is not None:
                tx.tx.set_data(
                    self._node("schedules", job.id),
                    encode(s.schedules_record(schedules.value)),
                    schedules.version,
                )
            results = tx.commit()
            return int(results[0].version), (
                int(results[1].version) if schedules is not None else None
            )

        return self._call(f"job {job.id}", update)

    def delete_job(
        self,
        job_id: str,
        job_version: int,
        schedules_version: int,
        history_version: int,
        run_versions: Iterable[tuple[str, int]],
    ) -> None:
        def delete() -> None:
            tx = _Tx(self.client)
            for run_id, version in run_versions:
                tx.tx.delete(self._node("runs", job_id, run_id), version)
            tx.tx.delete(self._node("runs", job_id))
            tx.tx.delete(self._node("schedules", job_id), schedules_version)
            tx.tx.delete(self._node("history", job_id), history_version)
            tx.tx.delete(self._node("jobs", job_id), job_version)
            tx.commit()

        self._call(f"job {job_id}", delete)

    # --- schedules ----------------------------------------------------------------------------

    def set_schedules(self, job_id: str, state: s.JobSchedules, version: int) -> int:
        def put() -> int:
            stat = self.client.set(
                self._node("schedules", job_id), encode(s.schedules_record(state)), version
            )
            return int(stat.version)

        return self._call(f"schedules of {job_id}", put)

    # --- runs ---------------------------------------------------------------------------------

    def create_run(
        self, run: r.JobRun, schedules: Versioned[s.JobSchedules] | None = None
    ) -> tuple[int, int | None]:
        """Store a new run; a scheduled one together with its schedule's new cursor."""

        def create() -> tuple[int, int | None]:
            tx = _Tx(self.client)
            tx.tx.create(self._node("runs", run.job_id, run.id), encode(r.run_record(run)))
            if schedules is not None:
                tx.tx.set_data(
                    self._node("schedules", run.job_id),
                    encode(s.schedules_record(schedules.value)),
                    schedules.version,
                )
            results = tx.commit()
            return 0, int(results[1].version) if schedules is not None else None

        return self._call(f"run {run.id} of {run.job_id}", create)

    def update_run(self, run: r.JobRun, version: int) -> int:
        def put() -> int:
            stat = self.client.set(
                self._node("runs", run.job_id, run.id), encode(r.run_record(run)), version
            )
            return int(stat.version)

        return self._call(f"run {run.id} of {run.job_id}", put)

    def finish_run(
        self, run: r.JobRun, run_version: int, history: r.JobHistory, history_version: int
    ) -> int:
        """Remove the finished run and store the history that counts it, at once."""

        def finish() -> int:
            tx = _Tx(self.client)
            tx.tx.delete(self._node("runs", run.job_id, run.id), run_version)
            tx.tx.set_data(
                self._node("history", run.job_id),
                encode(r.history_record(history)),
                history_version,
            )
            results = tx.commit()
            return int(results[1].version)

        return self._call(f"run {run.id} of {run.job_id}", finish)
