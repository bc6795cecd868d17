"""The framework side: Mesos scheduler events into the run state machine, launches and kills out.

- OFFERS: runs that wait (oldest first) are placed by `placement.plan`; each launch is recorded
  in ZooKeeper before the ACCEPT leaves (a launch that never happens then shows up as a failed
  task through reconciliation; the reverse order could leave a task nobody knows). Unused
  offers are declined; with nothing waiting, offers are suppressed until a run is queued
  (revive).
- UPDATE: into `Metronome.task_update`; a live task that belongs to no active run (its job was
  deleted, or it was launched just before a crash) is killed.
- After every (re)subscription: explicit reconciliation of the tasks we know, then implicit
  reconciliation of all, and kills of stopped runs' tasks are sent again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from daemons.mesos_client.calls import LEFTOVER_REFUSE_SECONDS
from daemons.mesos_client.errors import MesosClientError
from daemons.mesos_client.events import Event, Offer, Offers, Update
from daemons.mesos_client.scheduler import SchedulerClient
from daemons.metronome import placement
from daemons.metronome import runs as r
from daemons.metronome.metronome import Metronome
from daemons.protocols import JSON
from daemons.protocols.tasks import command_task

log = logging.getLogger(__name__)

# Offers declined while runs wait come back after this long; with nothing waiting, we suppress.
DECLINE_WHILE_WAITING = 1.0
DECLINE_IDLE = 120.0


def task_info(run: r.JobRun, task_id: str, offer: Offer, role: str) -> JSON:
    spec = run.job.run
    if spec.args:
        command, shell, arguments = spec.cmd or spec.args[0], False, spec.args
    else:
        command, shell, arguments = spec.cmd or "", True, ()
    return command_task(
        f"{run.job_id}.{run.id}",
        task_id,
        offer.agent_id,
        spec.cpus,
        spec.mem,
        command,
        disk=spec.disk,
        role=role,
        allocation_role=offer.allocation_role,
        shell=shell,
        arguments=arguments,
        environment=spec.env,
        user=spec.user,
        labels={"METRONOME_JOB_ID": run.job_id, "METRONOME_RUN_ID": run.id},
    )


class JobScheduler:
    def __init__(
        self,
        metronome: Metronome,
        client: Callable[[], SchedulerClient | None],
        *,
        clock: Callable[[], float],
        task_suffix: Callable[[], str],
        role: str = "*",
    ) -> None:
        self.metronome = metronome
        self.client = client
        self.clock = clock
        self.task_suffix = task_suffix
        self.role = role
        # Whether the master holds our offers back; None = not known (after a subscription:
        # another process may have suppressed them, or declined them for a long time).
        self._suppressed: bool | None = None
        self._lock = threading.Lock()

    # --- events ---------------------------------------------------------------------------------

    def handle(self, event: Event) -> None:
        try:
            if isinstance(event, Offers):
                self._offers(event.offers)
            elif isinstance(event, Update):
                status = event.status
                if self.metronome.task_update(status.task_id, status.state, status.agent_id):
                    log.warning("killing orphan task=%s state=%s", status.task_id, status.state)
                    self.kill(status.task_id, status.agent_id, None)
        except MesosClientError as err:
            log.warning("scheduler call failed event=%s error=%s", type(event).__name__, err)

    def subscribed(self, framework_id: str) -> None:
        """After every (re)subscription. A previous leader may have suppressed offers or declined
        them for long: the next revive is sent whatever we believe."""
        log.info("subscribed framework=%s", framework_id)
        with self._lock:
            self._suppressed = None
        self.reconcile()
        for order in self.metronome.stopping_tasks():
            self.kill(order.task_id, order.agent_id, order.grace_seconds)
        self.revive()

    def reconcile(self) -> None:
        """Explicit reconciliation of the live tasks we know, then implicit of all (answers for
        unknown live tasks make us kill them as orphans)."""
        client = self.client()
        if client is None or not client.is_subscribed:
            return
        known = self.metronome.known_tasks(self.clock())
        try:
            if known:
                client.reconcile(known)
            client.reconcile()
        except MesosClientError as err:
            log.warning("reconciliation failed error=%s", err)
            return
        log.info("reconciling tasks=%d", len(known))

    def _offers(self, offers: tuple[Offer, ...]) -> None:
        client = self.client()
        if client is None:
            return
        now = self.clock()
        plans = placement.plan(offers, self.metronome.waiting(now))
        used = set()
        for plan in plans:
            tasks = []
            for run in plan.runs:
                task_id = r.task_id_for(run, self.task_suffix())
                if self.metronome.launching(run.job_id, run.id, task_id, plan.offer.agent_id):
                    tasks.append(task_info(run, task_id, plan.offer, self.role))
                    log.info("launching job=%s run=%s task=%s", run.job_id, run.id, task_id)
            if tasks:
                client.launch([plan.offer.id], tasks, refuse_seconds=LEFTOVER_REFUSE_SECONDS)
                used.add(plan.offer.id)
        unused = [o.id for o in offers if o.id not in used]
        queued = self.metronome.queue()
        if unused:
            refuse = DECLINE_WHILE_WAITING if queued else DECLINE_IDLE
            client.decline(unused, refuse_seconds=refuse)
        if not queued:
            self._suppress(client)

    # --- offers on and off ----------------------------------------------------------------------

    def _suppress(self, client: SchedulerClient) -> None:
        with self._lock:
            if self._suppressed is True:
                return
            self._suppressed = True
        client.suppress()
        log.info("suppressing offers: no run waits")

    def revive(self) -> None:
        """Ask for offers when some run waits (called when runs are queued, and every second)."""
        client = self.client()
        if client is None or not client.is_subscribed or not self.metronome.queue():
            return
        with self._lock:
            if self._suppressed is False:
                return
            self._suppressed = False
        try:
            client.revive()
            log.info("reviving offers: runs wait")
        except MesosClientError as err:
            with self._lock:
                self._suppressed = None
            log.warning("revive failed error=%s", err)

    def kill(self, task_id: str, agent_id: str | None, grace: float | None) -> None:
        client = self.client()
        if client is None:
            return
        try:
            client.kill(task_id, agent_id, grace_period_seconds=grace)
        except MesosClientError as err:
            # Reconciliation after the next subscription finds the task again and the kill is
            # repeated (stopped runs, orphans).
            log.warning("kill failed task=%s error=%s", task_id, err)
