"""A pymesos framework for the end-to-end tests: launches the TaskInfos a test queues, records
every callback, and is driven from the test thread with bounded waits.

    scheduler = RecordingScheduler()
    with running_driver(scheduler, cluster.master_address) as driver:
        scheduler.launch(driver, [command_task("t1", "echo hi")])
        scheduler.wait_state("t1", "TASK_FINISHED")

pymesos runs its callbacks on its own I/O thread; an exception there makes it call
`_thread.interrupt_main()`, which would end the whole pytest session with a KeyboardInterrupt.
So callbacks here never raise (errors are recorded and fail the waiting test instead), and the
driver's crash path is redirected to `CRASHES` (see `_record_crash`).
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pymesos.process
from pymesos import MesosSchedulerDriver, Scheduler

JSON = dict[str, Any]
log = logging.getLogger(__name__)

# Driver threads that died (pymesos' `Thread abort:` path): the tests check this list instead of
# receiving a KeyboardInterrupt in the main thread.
CRASHES: list[str] = []


class _NoInterrupt:
    @staticmethod
    def interrupt_main() -> None:
        _record_crash()


def _record_crash() -> None:
    CRASHES.append(f"pymesos driver thread {threading.current_thread().name} aborted")


pymesos.process.thread = _NoInterrupt  # type: ignore[attr-defined]


def scalar(name: str, value: float) -> JSON:
    return {"name": name, "type": "SCALAR", "scalar": {"value": value}}


def command_task(task_id: str, command: str, cpus: float = 0.1, mem: float = 32.0) -> JSON:
    """A TaskInfo for the built-in command executor (agent_id is filled in from the offer)."""
    return {
        "name": task_id,
        "task_id": {"value": task_id},
        "resources": [scalar("cpus", cpus), scalar("mem", mem)],
        "command": {"value": command},
    }


def executor_task(task_id: str, executor: JSON, cpus: float = 0.1, mem: float = 32.0) -> JSON:
    """A TaskInfo run by the custom executor `executor` (an ExecutorInfo)."""
    return {
        "name": task_id,
        "task_id": {"value": task_id},
        "resources": [scalar("cpus", cpus), scalar("mem", mem)],
        "executor": executor,
    }


class RecordingScheduler(Scheduler):  # type: ignore[misc]
    """Puts queued tasks into the next offers (per agent if asked), declines the rest."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.framework_id: str | None = None
        self.registrations = 0  # registered + reregistered callbacks
        self.updates: list[JSON] = []
        self.messages: list[tuple[str, str, str]] = []  # (executor_id, agent_id, base64 data)
        self.errors: list[str] = []
        self.offers_seen = 0
        self._any: list[JSON] = []  # tasks for any agent
        self._by_agent: dict[str, list[JSON]] = {}

    # --- from the test thread ---------------------------------------------------------------

    def launch(self, driver: Any, tasks: list[JSON], agent_id: str | None = None) -> None:
        """Queue `tasks` for the next offer (of `agent_id` if given) and ask for offers."""
        with self.cond:
            if agent_id is None:
                self._any.extend(tasks)
            else:
                self._by_agent.setdefault(agent_id, []).extend(tasks)
        driver.reviveOffers()

    def wait_for(
        self,
        predicate: Callable[[], Any],
        timeout: float = 30.0,
        what: str = "",
        errors_expected: bool = False,
    ) -> Any:
        """Wait until `predicate()` is truthy; fails early on a driver crash or (unless
        `errors_expected`) on an ERROR event or a failed call."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                self._check_health(errors_expected)
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"timed out after {timeout:.0f}s waiting for {what or predicate}; "
                        f"updates so far: {self.summary()}"
                    )
                self.cond.wait(min(left, 0.5))

    def wait_registered(self, count: int = 1, timeout: float = 30.0) -> str:
        self.wait_for(lambda: self.registrations >= count, timeout, "SUBSCRIBED")
        assert self.framework_id is not None
        return self.framework_id

    def updates_of(self, task_id: str) -> list[JSON]:
        with self.cond:
            return [u for u in self.updates if u["task_id"]["value"] == task_id]

    def states(self, task_id: str) -> list[str]:
        return [u["state"] for u in self.updates_of(task_id)]

    def wait_state(self, task_id: str, state: str, timeout: float = 30.0) -> JSON:
        """The first update of `task_id` in `state` (counting those already received)."""

        def found() -> JSON | None:
            return next((u for u in self.updates_of(task_id) if u["state"] == state), None)

        status: JSON = self.wait_for(found, timeout, f"{task_id} {state}")
        return status

    def wait_update(self, predicate: Callable[[JSON], bool], timeout: float = 30.0) -> JSON:
        def found() -> JSON | None:
            with self.cond:
                return next((u for u in self.updates if predicate(u)), None)

        status: JSON = self.wait_for(found, timeout, "a matching update")
        return status

    def summary(self) -> str:
        return ", ".join(
            f"{u['task_id']['value']}:{u['state']}:{u.get('reason', '')}" for u in self.updates
        )

    def _check_health(self, errors_expected: bool = False) -> None:
        assert not CRASHES, CRASHES
        assert errors_expected or not self.errors, self.errors

    # --- pymesos callbacks (I/O thread; never raise) ----------------------------------------

    def registered(self, driver: Any, framework_id: JSON, master_info: JSON) -> None:
        with self.cond:
            self.framework_id = framework_id["value"]
            self.registrations += 1
            self.cond.notify_all()

    def reregistered(self, driver: Any, master_info: JSON) -> None:
        with self.cond:
            self.framework_id = driver.framework_id
            self.registrations += 1
            self.cond.notify_all()

    def resourceOffers(self, driver: Any, offers: list[JSON]) -> None:
        for offer in offers:
            agent_id = offer["agent_id"]["value"]
            with self.cond:
                self.offers_seen += 1
                tasks = self._by_agent.pop(agent_id, []) + self._any
                self._any = []
            try:
                if tasks:
                    infos = [dict(t, agent_id={"value": agent_id}) for t in tasks]
                    driver.launchTasks(offer["id"], infos)
                else:
                    driver.declineOffer(offer["id"], {"refuse_seconds": 1.0})
            except Exception as err:  # recorded: the waiting test fails with it
                log.exception("offer handling failed")
                with self.cond:
                    self.errors.append(f"offer {offer['id']['value']}: {err!r}")
                    self.cond.notify_all()

    def statusUpdate(self, driver: Any, status: JSON) -> None:
        with self.cond:
            self.updates.append(dict(status))
            self.cond.notify_all()

    def frameworkMessage(self, driver: Any, executor_id: JSON, agent_id: JSON, data: str) -> None:
        with self.cond:
            self.messages.append((executor_id["value"], agent_id["value"], data))
            self.cond.notify_all()

    def error(self, driver: Any, message: str) -> None:
        with self.cond:
            self.errors.append(f"ERROR event: {message}")
            self.cond.notify_all()


def start_driver(
    scheduler: RecordingScheduler,
    master: str,
    *,
    name: str = "pydcos-e2e",
    failover_timeout: float | None = None,
    framework_id: str | None = None,
    user: str | None = None,
    wait: bool = True,
) -> Any:
    """Start a driver against `master` (`127.0.0.1:PORT`) and wait until it is subscribed
    (unless not `wait`)."""
    framework: JSON = {"user": user or getpass.getuser(), "name": name, "checkpoint": True}
    if failover_timeout is not None:
        framework["failover_timeout"] = failover_timeout
    if framework_id is not None:
        framework["id"] = {"value": framework_id}
    driver = MesosSchedulerDriver(scheduler, framework, master)
    before = scheduler.registrations
    driver.start()
    if not wait:
        return driver
    try:
        scheduler.wait_registered(before + 1)
    except BaseException:
        stop_driver(driver)
        raise
    return driver


def stop_driver(driver: Any, failover: bool = False, timeout: float = 20.0) -> None:
    """Stop (TEARDOWN unless `failover`) and wait for the driver's thread; idempotent."""
    driver.stop(failover=failover)
    # Process.join() has no timeout; its thread is the one to wait for.
    thread = driver._io_thread
    if thread is not None:
        thread.join(timeout)
        assert not thread.is_alive(), "pymesos driver thread did not stop"
        driver._io_thread = None


@contextlib.contextmanager
def running_driver(scheduler: RecordingScheduler, master: str, **framework: Any) -> Iterator[Any]:
    """`start_driver` ... `stop_driver` (TEARDOWN), also when the test fails."""
    driver = start_driver(scheduler, master, **framework)
    try:
        yield driver
    finally:
        stop_driver(driver)
