#!/usr/bin/env python3
"""A tiny Mesos framework on PyDCOS' client: run N command tasks `sleep S`, print every update.

    .venv/bin/python examples/sleep_framework.py --master 127.0.0.1:5050 --tasks 3 --sleep 2
    .venv/bin/python examples/sleep_framework.py --master zk://127.0.0.1:2181/mesos

It packs as many pending tasks into each offer as its cpus/mem allow, declines the rest,
suppresses offers once everything is launched, and exits when every task reached a terminal
state, tearing the framework down. Exit status: 0 when all tasks finished (TASK_FINISHED), 1 when
some ended otherwise, 2 on timeout or when the master refused or dropped the framework.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
import time
from pathlib import Path

try:
    import daemons.mesos_client  # noqa: F401
except ImportError:  # run from a checkout that is not pip-installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemons.mesos_client import (
    Error,
    FrameworkInfo,
    MesosClientError,
    Offer,
    Offers,
    SchedulerClient,
    Subscribed,
    SubscriptionEnded,
    TaskInfo,
    TaskStatus,
    Update,
)
from daemons.protocols.models import CommandInfo
from daemons.protocols.resources import UNRESERVED, Resources


class SleepTasks:
    """Which tasks still need launching, and the last state of each. No I/O."""

    def __init__(self, count: int, seconds: float, cpus: float, mem: float, prefix: str) -> None:
        self.seconds, self.cpus, self.mem = seconds, cpus, mem
        self.pending = [f"{prefix}-{i}" for i in range(1, count + 1)]
        self.states: dict[str, str] = dict.fromkeys(self.pending, "PENDING")
        self.terminal: set[str] = set()

    def plan(self, offer: Offer, roles: tuple[str, ...]) -> list[TaskInfo]:
        """TaskInfos for as many pending tasks as fit into the offer's resources of `roles`."""
        need = Resources.of({"cpus": self.cpus, "mem": self.mem})
        tasks: list[TaskInfo] = []
        for role in roles:
            available = offer.resources.get(role, Resources())
            while self.pending and available.contains(need):
                task_id = self.pending.pop(0)
                available = available - need
                self.states[task_id] = "LAUNCHING"
                tasks.append(
                    TaskInfo(
                        task_id=task_id,
                        name=task_id,
                        agent_id=offer.agent_id,
                        resources={role: need},
                        allocation_role=offer.allocation_role,
                        command=CommandInfo(value=f"sleep {self.seconds:g}"),
                    )
                )
        return tasks

    def requeue(self, tasks: list[TaskInfo]) -> None:
        """Launch these again later (their ACCEPT never reached the master)."""
        for task in tasks:
            self.pending.append(task.task_id)
            self.states[task.task_id] = "PENDING"

    def record(self, status: TaskStatus) -> None:
        if status.task_id not in self.states:
            return
        self.states[status.task_id] = status.state
        if status.is_terminal:
            self.terminal.add(status.task_id)

    @property
    def done(self) -> bool:
        return len(self.terminal) == len(self.states)

    @property
    def all_finished(self) -> bool:
        return all(state == "TASK_FINISHED" for state in self.states.values())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--master", default="127.0.0.1:5050", help="host:port or zk://.../mesos")
    parser.add_argument("--tasks", type=int, default=3, help="how many tasks (default 3)")
    parser.add_argument("--sleep", type=float, default=2.0, help="seconds each task sleeps")
    parser.add_argument("--cpus", type=float, default=0.1, help="cpus per task")
    parser.add_argument("--mem", type=float, default=32.0, help="mem per task, MB")
    parser.add_argument("--name", default="sleep-framework", help="framework name")
    parser.add_argument("--role", default=None, help="framework role (default: *)")
    parser.add_argument("--timeout", type=float, default=120.0, help="give up after seconds")
    parser.add_argument("-v", "--verbose", action="store_true", help="log the client's doings")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    framework = FrameworkInfo(
        user=getpass.getuser(), name=args.name, failover_timeout=60.0, role=args.role or None
    )
    roles = (args.role, UNRESERVED) if args.role and args.role != UNRESERVED else (UNRESERVED,)
    work = SleepTasks(args.tasks, args.sleep, args.cpus, args.mem, args.name)
    client = SchedulerClient(args.master, framework)
    client.start()
    deadline = time.monotonic() + args.timeout
    try:
        while not work.done:
            left = deadline - time.monotonic()
            if left <= 0:
                print(f"timed out; states: {work.states}", flush=True)
                return 2
            event = client.next_event(timeout=min(1.0, left))
            if isinstance(event, Subscribed):
                print(f"subscribed framework_id={event.framework_id}", flush=True)
            elif isinstance(event, Offers):
                handle_offers(client, work, event.offers, roles)
            elif isinstance(event, Update):
                status = event.status
                work.record(status)
                detail = " ".join(filter(None, [status.reason, status.message]))
                print(f"update task={status.task_id} state={status.state} {detail}", flush=True)
            elif isinstance(event, Error):
                print(f"error from master: {event.message}", flush=True)
    except SubscriptionEnded as err:
        print(f"framework ended: {err}", flush=True)
        return 2
    except KeyboardInterrupt:
        return 2
    finally:
        client.close(teardown=True)
    print(f"all {len(work.states)} tasks done: {sorted(set(work.states.values()))}", flush=True)
    return 0 if work.all_finished else 1


def handle_offers(
    client: SchedulerClient, work: SleepTasks, offers: tuple[Offer, ...], roles: tuple[str, ...]
) -> None:
    for offer in offers:
        tasks = work.plan(offer, roles)
        try:
            if tasks:
                print(f"launching {[t.task_id for t in tasks]} on {offer.hostname}")
                client.launch([offer.id], tasks, refuse_seconds=5)
            else:
                client.decline([offer.id], refuse_seconds=60 if not work.pending else 5)
        except MesosClientError as err:
            # The offer will be rescinded or offered again; the tasks wait for the next one.
            print(f"call failed for offer {offer.id}: {err}", flush=True)
            work.requeue(tasks)
    if not work.pending:
        try:
            client.suppress()
        except MesosClientError as err:
            print(f"suppress failed: {err}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
