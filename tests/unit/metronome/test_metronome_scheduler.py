"""The framework side: what Metronome sends the master for the offers it gets."""

from __future__ import annotations

from typing import Any

from daemons.mesos_client.events import Offer, Offers
from daemons.metronome import runs as r
from daemons.metronome.jobspec import JobDocument, JobSpec, RunSpec
from daemons.metronome.metronome import Metronome
from daemons.metronome.scheduler import JobScheduler
from daemons.metronome.store import Snapshot
from daemons.protocols.resources import Resources

T0 = 1_468_587_780.0


class MemoryStore:
    """JobStore's writes in memory: every one succeeds."""

    def load(self) -> Snapshot:
        return Snapshot()

    def create_job(self, job: JobSpec, data: bytes, schedules: Any) -> tuple[int, int, int]:
        return 0, 0, 0

    def create_run(self, run: r.JobRun, schedules: Any = None) -> tuple[int, int | None]:
        return 0, None if schedules is None else schedules.version + 1

    def update_run(self, run: r.JobRun, version: int) -> int:
        return version + 1


class Master:
    """The scheduler client: records the calls; offers are never suppressed."""

    is_subscribed = True

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: self.calls.append((name, args, kwargs))


def offer(oid: str, cpus: float = 4.0) -> Offer:
    return Offer(
        id=oid,
        framework_id="f",
        agent_id=f"agent-{oid}",
        hostname=f"h-{oid}",
        resources={"*": Resources.of(scalars={"cpus": cpus, "mem": 4096, "disk": 1000})},
    )


def test_a_launch_asks_the_master_to_hold_nothing_of_the_offers_rest_back() -> None:
    # Without a filter the master holds the agent's unused rest back for its default 5 s: runs
    # queued meanwhile (a backoff ends, a manual run) would not see that agent for as long.
    metronome = Metronome(clock=lambda: T0, run_suffix=lambda: "AAAAA")
    metronome.load(MemoryStore())  # type: ignore[arg-type]
    master = Master()
    scheduler = JobScheduler(
        metronome,
        lambda: master,  # type: ignore[arg-type,return-value]
        clock=lambda: T0,
        task_suffix=lambda: "t",
    )
    metronome.create_job(JobDocument(JobSpec("nightly", RunSpec(cpus=1, mem=32, cmd="true"))))
    metronome.start_run("nightly")
    scheduler.handle(Offers((offer("o1"),)))
    launches = [(args, kwargs) for name, args, kwargs in master.calls if name == "launch"]
    assert [(args[0], len(args[1])) for args, _ in launches] == [(["o1"], 1)]
    assert launches[0][1] == {"refuse_seconds": 0.0}
