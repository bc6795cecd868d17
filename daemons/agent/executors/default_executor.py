"""The built-in default executor: runs the task groups of one executor (Mesos LAUNCH_GROUP).

It is the command executor's agent link (subscription, reliable updates, re-subscription,
shutdown) with a table of tasks instead of a single one. Each task of a LAUNCH_GROUP gets its own
sandbox `<executor sandbox>/tasks/<task_id>/` (its cwd and MESOS_SANDBOX, with its stdout and
stderr), its own session and process group, and its own updates: TASK_STARTING, TASK_RUNNING, then
TASK_FINISHED (exit 0), TASK_FAILED or TASK_KILLED.

Mesos' default executor policy: a task that fails or is killed takes the rest of its group with it
(they are killed: TASK_KILLED); a task that finishes leaves the others alone. Groups are
independent: a later LAUNCH_GROUP to the same executor adds a group of its own. The executor
exits 0 once every task is terminal and every update acknowledged. A LAUNCH (single task) is
answered TASK_FAILED: the default executor runs task groups only.

Standard library only, like the command executor (`python3 -I -S default.py`); it needs
subprocess for a per-task working directory, which posix_spawn cannot set on Python 3.11.
"""

from __future__ import annotations

import binascii
import os
import subprocess
import sys
import time

from daemons.protocols.states import TERMINAL_STATES

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal as _signal

    from daemons.protocols import JSON
else:
    import _signal

if TYPE_CHECKING or __package__:  # imported as part of daemons.agent.executors (tests, mypy)
    from . import command_executor as base
else:  # run through default.py, which put this directory on sys.path
    import command_executor as base

# The containerizer's modes for the executor's own sandbox and output files.
SANDBOX_MODE = 0o750
OUTPUT_MODE = 0o640
OUTPUT_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC | os.O_NOFOLLOW
# A task ending in one of these ends its group (Mesos' default restart policy).
UNSUCCESSFUL = ("TASK_FAILED", "TASK_KILLED")


class GroupTask:
    """One task: its TaskInfo, its group, its process and where its kill stands."""

    def __init__(self, info: JSON, group: int) -> None:
        self.info = info
        self.group = group  # tasks of one LAUNCH_GROUP share the number
        self.proc: subprocess.Popen[bytes] | None = None  # None before start and once reaped
        self.state = "TASK_STAGING"  # the latest state reported
        self.acked = False  # some update of the task was acknowledged
        self.killing = False
        self.kill_at: float | None = None  # SIGKILL after the SIGTERM's grace period
        self.killed_because = ""

    @property
    def task_id(self) -> str:
        return str(self.info["task_id"]["value"])

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES


# --- pure parts ------------------------------------------------------------------------------


def task_sandbox(sandbox: str, task_id: str) -> str:
    """`<executor sandbox>/tasks/<task_id>` (Mesos' layout for a DEFAULT executor's tasks)."""
    return os.path.join(sandbox, "tasks", task_id)


def task_process_environment(base_env: dict[str, str], task: JSON, sandbox: str) -> dict[str, str]:
    """The executor's environment, MESOS_SANDBOX/MESOS_TASK_ID of the task, then its own."""
    env = dict(base_env)
    env["MESOS_SANDBOX"] = sandbox
    env["MESOS_TASK_ID"] = str(task["task_id"]["value"])
    return base.task_environment(env, task.get("command", {}))


def outcome(status: int, killing: bool) -> str:
    """A task's terminal state from its wait status: a task being killed ends TASK_KILLED."""
    if killing:
        return "TASK_KILLED"
    return "TASK_FINISHED" if status == 0 else "TASK_FAILED"


def group_to_kill(tasks: list[GroupTask], ended: GroupTask) -> list[GroupTask]:
    """What an ended task takes with it: nothing if it finished, else the live rest of its group."""
    if ended.state not in UNSUCCESSFUL:
        return []
    return [t for t in tasks if t.group == ended.group and t is not ended and not t.terminal]


# --- the executor ------------------------------------------------------------------------------


class DefaultExecutor(base.Executor):
    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(env)
        self.sandbox = env.get("MESOS_SANDBOX") or env.get("MESOS_DIRECTORY") or os.getcwd()
        self.tasks: dict[str, GroupTask] = {}
        self.groups = 0

    # --- hooks of the agent link ----------------------------------------------------------------

    def deadlines(self) -> list[float]:
        kills = [t.kill_at for t in self.tasks.values() if t.kill_at is not None]
        return [*super().deadlines(), *kills]

    def unacknowledged_tasks(self) -> list[JSON]:
        return [t.info for t in self.tasks.values() if not t.acked]

    def on_event(self, event: JSON) -> None:
        kind = event.get("type")
        body = event.get(str(kind).lower(), {})
        if kind == "LAUNCH_GROUP":
            self.launch_group(body.get("task_group", {}).get("tasks", []))
        elif kind == "KILL":
            task = self.tasks.get(str(body.get("task_id", {}).get("value")))
            if task is None:
                base.log(f"KILL for unknown task {body.get('task_id', {}).get('value')}")
            elif not task.terminal:
                self.kill_task(task, base.kill_grace(body, task.info))
        elif kind == "ACKNOWLEDGED":
            task = self.tasks.get(str(body.get("task_id", {}).get("value")))
            if task is not None and binascii.a2b_base64(body.get("uuid", "")) in self.unacked:
                task.acked = True
            super().on_event(event)
            self.exit_when_done()
        else:
            super().on_event(event)

    def on_timers(self, now: float) -> None:
        for task in self.tasks.values():
            if task.kill_at is not None and now >= task.kill_at:
                task.kill_at = None
                self.signal_group(task, _signal.SIGKILL)
        super().on_timers(now)

    # --- tasks ----------------------------------------------------------------------------------

    def report(self, task: GroupTask, state: str, message: str = "", reason: str = "") -> None:
        task.state = state
        self.update(task.info["task_id"], state, message, reason)

    def launch(self, task: JSON) -> None:
        message = "The default executor runs task groups (LAUNCH_GROUP) only, not LAUNCH"
        self.update(task["task_id"], "TASK_FAILED", message)

    def launch_group(self, infos: list[JSON]) -> None:
        self.groups += 1
        members: list[GroupTask] = []
        for info in infos:
            task_id = str(info.get("task_id", {}).get("value", ""))
            if not task_id or task_id in self.tasks:
                base.log(f"ignored a task of LAUNCH_GROUP (no id, or known): {task_id!r}")
                continue
            self.tasks[task_id] = GroupTask(info, self.groups)
            members.append(self.tasks[task_id])
        if self.shutdown_by is not None:
            for task in members:
                self.report(task, "TASK_FAILED", "The executor is shutting down")
            return
        for task in members:
            self.report(task, "TASK_STARTING")
        for task in members:
            self.start(task)
        for task in members:
            if task.proc is not None:
                self.report(task, "TASK_RUNNING")
        for task in members:
            if task.state == "TASK_FAILED":
                self.kill_group(task)

    def start(self, task: GroupTask) -> None:
        """Spawn the task's command in its sandbox, in a session of its own."""
        command = task.info.get("command", {})
        directory = task_sandbox(self.sandbox, task.task_id)
        fds: list[int] = []
        try:
            os.makedirs(directory, SANDBOX_MODE, exist_ok=True)
            for name in ("stdout", "stderr"):
                fds.append(os.open(os.path.join(directory, name), OUTPUT_FLAGS, OUTPUT_MODE))
            # Mesos: without a shell, `value` is the program and `arguments` its whole argv.
            program = None if command.get("shell", True) else command.get("value")
            task.proc = subprocess.Popen(
                base.command_argv(command),
                executable=program,
                cwd=directory,
                env=task_process_environment(dict(os.environ), task.info, directory),
                stdin=subprocess.DEVNULL,
                stdout=fds[0],
                stderr=fds[1],
                start_new_session=True,
            )
        except (OSError, ValueError, KeyError, IndexError, subprocess.SubprocessError) as err:
            message = f"Failed to launch the command: {err}"
            self.report(task, "TASK_FAILED", message, "REASON_CONTAINER_LAUNCH_FAILED")
        finally:
            for fd in fds:
                os.close(fd)

    def kill_task(self, task: GroupTask, grace: float, because: str = "") -> None:
        """SIGTERM the task's process group now, SIGKILL after `grace` (a later kill may only
        shorten it)."""
        if task.proc is None:
            return
        if not task.killing:
            task.killing, task.killed_because = True, because
            if self.killing_state:
                self.report(task, "TASK_KILLING")
            self.signal_group(task, _signal.SIGTERM)
        deadline = time.monotonic() + grace
        task.kill_at = deadline if task.kill_at is None else min(task.kill_at, deadline)

    def kill_group(self, ended: GroupTask) -> None:
        because = f"task {ended.task_id} of its group ended {ended.state}"
        for task in group_to_kill(list(self.tasks.values()), ended):
            self.kill_task(task, base.kill_grace({}, task.info), because)

    def signal_group(self, task: GroupTask, signum: int) -> None:
        try:
            if task.proc is not None:
                os.killpg(task.proc.pid, signum)
        except ProcessLookupError:
            return

    def running(self) -> list[GroupTask]:
        return [t for t in self.tasks.values() if t.proc is not None]

    def ended(self, task: GroupTask, status: int) -> None:
        assert task.proc is not None
        task.proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        task.proc, task.kill_at = None, None
        message = base.exit_message(status)
        if task.killed_because:
            message = f"{message} (killed: {task.killed_because})"
        self.report(task, outcome(status, task.killing), message)
        if self.shutdown_by is None:
            self.kill_group(task)
        elif self.lost_since is not None and not self.running():
            self.exit_code = 0  # shutting down with nobody to tell

    def exit_when_done(self) -> None:
        if self.tasks and not self.unacked and all(t.terminal for t in self.tasks.values()):
            self.exit_code = 0

    # --- overrides of the single-task parts -----------------------------------------------------

    def shutdown(self, why: str) -> None:
        if self.shutdown_by is None:
            base.log(f"shutting down: {why}")
            self.shutdown_by = time.monotonic() + self.shutdown_grace
        running = self.running()
        for task in running:
            self.kill_task(task, min(base.kill_grace({}, task.info), self.shutdown_grace))
        if not running and (not self.unacked or self.lost_since is not None):
            self.exit_code = 0  # nothing runs, and nothing is left to tell (or nobody to tell)

    def kill_now(self) -> None:
        """SIGKILL every task's process group and reap them: nothing outlives us."""
        for task in self.running():
            assert task.proc is not None
            self.signal_group(task, _signal.SIGKILL)
            _, status = os.waitpid(task.proc.pid, 0)
            task.proc.returncode = os.waitstatus_to_exitcode(status)
            task.proc = None

    def reap(self) -> None:
        """We may be pid 1: collect every exited child, the tasks among them."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            for task in self.running():
                if task.proc is not None and task.proc.pid == pid:
                    self.ended(task, status)
                    break


def main() -> int:
    base.PROGRAM = "default-executor"
    return base.main(DefaultExecutor)


if __name__ == "__main__":
    sys.exit(main())
