"""Metronome's error tree: every error carries its HTTP status and the body Metronome sends.

Rooted in `daemons.common.errors.ApiError`; `app.create_app` registers one handler that renders
`MetronomeError.body()`. Bodies follow reference §5.1: 404s name what was not found, 422 lists
`details` (`[{"path": "/run/cpus", "errors": ["..."]}]`).
"""

from __future__ import annotations

from typing import Any

from daemons.common.errors import ApiError

JSON = dict[str, Any]


class MetronomeError(ApiError):
    def body(self) -> JSON:
        return {"message": self.message}


class InvalidObject(MetronomeError):
    """422: the document is not a valid JobSpec/Schedule; `details` lists every problem (the
    cores raise `validation.Invalid`; the app renders it as this)."""

    status = 422

    def __init__(self, details: list[JSON]) -> None:
        super().__init__("Object is not valid")
        self.details = details

    def body(self) -> JSON:
        return {"message": self.message, "details": self.details}


class JobNotFound(MetronomeError):
    status = 404

    def __init__(self, job_id: str) -> None:
        super().__init__("Job not found")
        self.job_id = job_id

    def body(self) -> JSON:
        return {"id": self.job_id, "message": self.message}


class ScheduleNotFound(MetronomeError):
    status = 404

    def __init__(self, schedule_id: str) -> None:
        super().__init__("Schedule not found")
        self.schedule_id = schedule_id

    def body(self) -> JSON:
        return {"id": self.schedule_id, "message": self.message}


class RunNotFound(MetronomeError):
    status = 404

    def __init__(self, job_id: str, run_id: str) -> None:
        super().__init__("Job Run not found")
        self.job_id = job_id
        self.run_id = run_id

    def body(self) -> JSON:
        return {"jobSpec": self.job_id, "id": self.run_id, "message": self.message}


class Conflict(MetronomeError):
    status = 409


class JobExists(Conflict):
    def __init__(self) -> None:
        super().__init__("Job with this id already exists")


class ScheduleExists(Conflict):
    def __init__(self) -> None:
        super().__init__("Schedule with this id already exists")


class TooManySchedules(Conflict):
    def __init__(self) -> None:
        super().__init__("requirement failed: Only one schedule supported at the moment")


class ActiveRunsExist(Conflict):
    def __init__(self) -> None:
        super().__init__("There are active job runs. Override with stopCurrentJobRuns=true")


class ConcurrentChange(Conflict):
    """A versioned ZooKeeper write lost: someone else changed the node (another leader)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} was changed concurrently; try again")


class NotReady(MetronomeError):
    status = 503

    def __init__(self) -> None:
        super().__init__("Metronome is not the leader or has not loaded its state yet")
