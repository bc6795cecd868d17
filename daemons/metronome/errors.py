"""Metronome's errors: the kit's tree with the bodies Metronome sends (`body()`, rendered by
the kit's one handler). 404s name what was not found; a 422 (`validation.Invalid`, raised by the
cores) lists `details` (`[{"path": "/run/cpus", "errors": ["..."]}]`).
"""

from __future__ import annotations

from daemons.kit.errors import Conflict, NotFound, ServiceUnavailable
from daemons.protocols import JSON


class JobNotFound(NotFound):
    def __init__(self, job_id: str) -> None:
        super().__init__("Job not found")
        self.job_id = job_id

    def body(self) -> JSON:
        return {"id": self.job_id, "message": self.message}


class ScheduleNotFound(NotFound):
    def __init__(self, schedule_id: str) -> None:
        super().__init__("Schedule not found")
        self.schedule_id = schedule_id

    def body(self) -> JSON:
        return {"id": self.schedule_id, "message": self.message}


class RunNotFound(NotFound):
    def __init__(self, job_id: str, run_id: str) -> None:
        super().__init__("Job Run not found")
        self.job_id = job_id
        self.run_id = run_id

    def body(self) -> JSON:
        return {"jobSpec": self.job_id, "id": self.run_id, "message": self.message}


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


class NotReady(ServiceUnavailable):
    def __init__(self) -> None:
        super().__init__("Metronome is not the leader or has not loaded its state yet")
