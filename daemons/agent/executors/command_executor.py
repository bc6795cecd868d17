"""The built-in command executor: runs one task's CommandInfo and reports it to the agent.

Speaks the Mesos v1 executor HTTP API to `MESOS_AGENT_ENDPOINT`: SUBSCRIBE opens a
chunked RecordIO event stream; UPDATE calls go on a second keep-alive connection. Every update is
kept until ACKNOWLEDGED; when the stream breaks it re-subscribes with backoff for up to
MESOS_RECOVERY_TIMEOUT (checkpointing frameworks only, as Mesos does), listing what is still
unacknowledged, and resends it. It exits 0 once its task's terminal update is acknowledged.

It runs once per task (`python3 -I -S command.py`, usually as pid 1 of the container), so it
imports, of the project, only what it shares with the agent and costs nothing to import (the
task states and the RecordIO framing of `daemons.protocols`), and, of the standard library, C
modules where the Python ones would import re, enum and functools (signal, threading, queue,
base64: ~5 ms).
"""

from __future__ import annotations

import _queue
import _thread
import binascii
import os
import sys
import time

from daemons.protocols.recordio import Decoder
from daemons.protocols.states import TERMINAL_STATES

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~3 ms to import: annotations only; `signal` is typed, _signal not
    import signal as _signal
    from typing import Any

    from daemons.protocols import JSON

    from .health_checks import Transition
    from .health_probes import HealthChecker
else:
    import _signal

if TYPE_CHECKING or __package__:  # imported as part of daemons.agent.executors (tests, mypy)
    from .executor_wire import Connection, loads
else:  # run through command.py, which put this directory on sys.path
    from executor_wire import Connection, loads

DEFAULT_KILL_GRACE = 3.0
# Longest suffix first (dicts keep order), so that "5mins" is minutes, not nanoseconds.
_UNITS = {"weeks": 604800.0, "days": 86400.0, "mins": 60.0, "secs": 1.0, "hrs": 3600.0}
_UNITS.update({"ms": 1e-3, "us": 1e-6, "ns": 1e-9})
# Dispositions the task must not inherit: Python ignores SIGPIPE/SIGXFSZ; ours have handlers.
_DEFAULTS = tuple(
    _signal.__dict__[n] for n in ("SIGPIPE", "SIGXFSZ", "SIGTERM", "SIGINT", "SIGCHLD")
)


def parse_duration(text: str) -> float:
    """Mesos duration text ("5secs", "250ms", "1.5hrs") -> seconds."""
    text = text.strip()
    for unit, seconds in _UNITS.items():
        if text.endswith(unit) and text[: -len(unit)]:
            return float(text[: -len(unit)]) * seconds
    raise ValueError(f"not a Mesos duration: {text!r}")


def env_duration(env: dict[str, str], name: str, default: float) -> float:
    try:
        return parse_duration(env[name])
    except (KeyError, ValueError):
        return default


def command_argv(command: JSON) -> list[str]:
    """CommandInfo -> argv: shell (default) runs `/bin/sh -c value`; otherwise value is the
    executable and `arguments` the whole argv (argv[0] included), as in Mesos."""
    if command.get("shell", True):
        return ["/bin/sh", "-c", command.get("value", "")]
    return list(command.get("arguments") or [command["value"]])


def task_environment(base: dict[str, str], command: JSON) -> dict[str, str]:
    env = dict(base)
    for variable in command.get("environment", {}).get("variables", []):
        if variable.get("type", "VALUE") == "VALUE" and "value" in variable:
            env[variable["name"]] = variable["value"]
    return env


def exit_message(status: int) -> str:
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        return f"Command terminated with signal {_signal.strsignal(signum) or signum}"
    return f"Command exited with status {os.WEXITSTATUS(status)}"


def kill_grace(kill: JSON, task: JSON | None) -> float:
    """KILL's kill_policy, else the task's, else 3 s."""
    for source in (kill, task or {}):
        nanos = source.get("kill_policy", {}).get("grace_period", {}).get("nanoseconds")
        if nanos is not None:
            return max(0.0, int(nanos) / 1e9)
    return DEFAULT_KILL_GRACE


PROGRAM = "command-executor"  # what log lines start with (the default executor sets its own)


def log(message: str) -> None:
    sys.stderr.write(f"{time.strftime('%H:%M:%S')} {PROGRAM}: {message}\n")
    sys.stderr.flush()


class Executor:
    """One task, one agent. Events, signals and the end of the stream arrive in `inbox` and are
    handled on the main thread; the reader thread only decodes records and enqueues them."""

    def __init__(self, env: dict[str, str]) -> None:
        self.endpoint = env["MESOS_AGENT_ENDPOINT"]
        self.ids = {
            "executor_id": {"value": env["MESOS_EXECUTOR_ID"]},
            "framework_id": {"value": env["MESOS_FRAMEWORK_ID"]},
        }
        self.checkpoint = env.get("MESOS_CHECKPOINT") == "1"
        self.killing_state = env.get("MESOS_TASK_KILLING_STATE") == "1"
        self.recovery_timeout = env_duration(env, "MESOS_RECOVERY_TIMEOUT", 900.0)
        self.shutdown_grace = env_duration(env, "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", 5.0)
        self.backoff_max = env_duration(env, "MESOS_SUBSCRIPTION_BACKOFF_MAX", 2.0)
        self.inbox: _queue.SimpleQueue[tuple[Any, ...]] = _queue.SimpleQueue()
        self.task: JSON | None = None
        self.task_acked = False  # some update of the task was acknowledged
        self.pid: int | None = None  # the task's process, leader of its own session
        self.killing = False
        self.health: HealthChecker | None = None  # the task's health check, while it runs
        self.killed_unhealthy = False  # the health check asked for the kill
        self.kill_at: float | None = None  # SIGKILL after the SIGTERM's grace period
        self.unacked: dict[bytes, JSON] = {}  # uuid -> Call.Update, oldest first
        self.unsent: set[bytes] = set()  # unacked and not yet answered 202
        self.terminal_uuid: bytes | None = None
        self.agent_id: JSON | None = None
        self.calls: Connection | None = None
        self.generation = 0  # of the current stream; events of older ones are dropped
        self.lost_since: float | None = time.monotonic()  # None while subscribed
        self.retry_at: float | None = None
        self.backoff = 0.1
        self.shutdown_by: float | None = None
        self.exit_code: int | None = None

    def run(self) -> int:
        for signum in (_signal.SIGTERM, _signal.SIGINT, _signal.SIGCHLD):
            _signal.signal(signum, lambda signum, _frame: self.inbox.put(("signal", signum)))
        self.subscribe()
        while self.exit_code is None:
            now = time.monotonic()
            timers = self.deadlines()
            if self.lost_since is not None:
                timers.append(self.lost_since + self.recovery_timeout)
            try:
                item = self.inbox.get(timeout=max(0.0, min([now + 1.0, *timers]) - now))
            except _queue.Empty:
                item = ("tick", self.generation)
            if item[0] == "event" and item[1] == self.generation:
                self.on_event(item[2])
            elif item[0] == "closed" and item[1] == self.generation:
                self.on_disconnected(item[2])
            elif item[0] == "signal" and item[1] != _signal.SIGCHLD:
                self.shutdown(f"signal {_signal.strsignal(item[1])}")
            elif item[0] == "health" and self.health is not None:
                self.on_health(self.health.on_result(item[1], item[2], time.monotonic()))
            self.reap()
            self.on_timers(time.monotonic())
        return self.exit_code

    def deadlines(self) -> list[float]:
        """When the loop must wake up next (besides the recovery timeout)."""
        timers = [t for t in (self.kill_at, self.retry_at, self.shutdown_by) if t is not None]
        return timers + self.health.deadlines() if self.health is not None else timers

    def on_timers(self, now: float) -> None:
        if self.kill_at is not None and now >= self.kill_at:
            self.kill_at = None
            self.signal_task(_signal.SIGKILL)
        if self.health is not None:
            self.on_health(self.health.on_timers(now))
        if self.retry_at is not None and now >= self.retry_at:
            self.retry_at = None
            self.subscribe()
        for uuid in list(self.unsent):  # answered other than 202 or not at all: try again
            self.send(uuid)
        if self.lost_since is not None and now >= self.lost_since + self.recovery_timeout:
            log(f"no agent for {self.recovery_timeout:.0f}s (recovery timeout): killing the task")
            self.kill_now()
            self.exit_code = 1
        if self.shutdown_by is not None and now >= self.shutdown_by:
            self.kill_now()
            self.exit_code = 0

    # --- the agent link ----------------------------------------------------------------------

    def subscribe(self) -> None:
        self.generation += 1
        subscribe = {
            "unacknowledged_tasks": self.unacknowledged_tasks(),
            "unacknowledged_updates": list(self.unacked.values()),
        }
        stream = None
        try:
            stream = Connection(self.endpoint, timeout=10.0)
            code, headers = stream.post({"type": "SUBSCRIBE", **self.ids, "subscribe": subscribe})
            if code != 200:
                raise ConnectionError(f"SUBSCRIBE answered {code}: {stream.body(headers)[:200]!r}")
            stream.sock.settimeout(None)
        except (OSError, ValueError) as err:
            if stream is not None:
                stream.sock.close()
            delay = self.backoff * (0.5 + os.urandom(1)[0] / 510)  # jitter: 50-100 %
            log(f"subscribe failed ({err}); retrying in {delay:.2f}s")
            self.retry_at = time.monotonic() + delay
            self.backoff = min(2 * self.backoff, self.backoff_max)
            return
        _thread.start_new_thread(self.read_stream, (stream, self.generation))

    def unacknowledged_tasks(self) -> list[JSON]:
        """Tasks none of whose updates the agent has acknowledged (SUBSCRIBE lists them)."""
        return [self.task] if self.task and not self.task_acked else []

    def read_stream(self, stream: Connection, generation: int) -> None:
        """Reader thread: records into the inbox, then the reason the stream ended."""
        _signal.pthread_sigmask(
            _signal.SIG_BLOCK, {_signal.SIGTERM, _signal.SIGINT, _signal.SIGCHLD}
        )
        decoder, reason = Decoder(), "the agent closed the stream"
        try:
            for chunk in stream.chunks():
                for record in decoder.decode(chunk):
                    self.inbox.put(("event", generation, loads(record.decode("utf-8"))))
        except (OSError, ValueError) as err:
            reason = str(err)
        stream.sock.close()
        self.inbox.put(("closed", generation, reason))

    def on_disconnected(self, reason: str) -> None:
        log(f"disconnected from the agent: {reason}")
        if self.calls is not None:  # it went to the same agent: a new one gets a new connection
            self.calls.sock.close()
            self.calls = None
        self.lost_since = self.lost_since or time.monotonic()
        if not self.checkpoint:  # the agent will not recover us: Mesos executors stop too
            self.shutdown("disconnected, and the framework does not checkpoint")
        else:
            self.backoff, self.retry_at = 0.1, time.monotonic()

    def send(self, uuid: bytes) -> None:
        self.unsent.add(uuid)
        if self.lost_since is not None:
            return  # resent after the next SUBSCRIBED
        try:
            self.calls = self.calls or Connection(self.endpoint, timeout=10.0)
            code, headers = self.calls.post(
                {"type": "UPDATE", **self.ids, "update": self.unacked[uuid]}
            )
            body = self.calls.body(headers)
            if headers.get("connection", "").lower() == "close":
                self.calls.sock.close()
                self.calls = None
        except (OSError, ValueError) as err:
            log(f"UPDATE failed ({err}); will resend")
            if self.calls is not None:
                self.calls.sock.close()
            self.calls = None
            return
        if code == 202:
            self.unsent.discard(uuid)
        else:
            log(f"UPDATE answered {code}: {body[:200]!r}")

    def update(
        self,
        task_id: JSON,
        state: str,
        message: str = "",
        reason: str = "",
        healthy: bool | None = None,
    ) -> None:
        uuid = os.urandom(16)
        status: JSON = {"task_id": task_id, "state": state, "source": "SOURCE_EXECUTOR"}
        status["uuid"] = binascii.b2a_base64(uuid, newline=False).decode("ascii")
        status["timestamp"], status["executor_id"] = time.time(), self.ids["executor_id"]
        extra = {"message": message, "reason": reason, "agent_id": self.agent_id}
        status.update((key, value) for key, value in extra.items() if value)
        if healthy is not None:
            status["healthy"] = healthy
        self.unacked[uuid] = {"status": status}
        if state in TERMINAL_STATES and self.task is not None and task_id == self.task["task_id"]:
            self.terminal_uuid = uuid
        health = "" if healthy is None else f" healthy={str(healthy).lower()}"
        log(f"{state} task={task_id.get('value')}{health} {message}".rstrip())
        self.send(uuid)

    # --- events and the task -------------------------------------------------------------------

    def on_event(self, event: JSON) -> None:
        kind = event.get("type")
        body = event.get(str(kind).lower(), {})
        if kind == "SUBSCRIBED":
            self.lost_since, self.backoff = None, 0.1
            self.agent_id = body.get("agent_info", {}).get("id") or self.agent_id
            log(f"subscribed to the agent at {self.endpoint}")
            for uuid in list(self.unacked):
                self.send(uuid)
        elif kind == "LAUNCH":
            self.launch(body["task"])
        elif kind == "KILL":
            self.kill(body.get("task_id", {}), kill_grace(body, self.task))
        elif kind == "ACKNOWLEDGED":
            uuid = binascii.a2b_base64(body.get("uuid", ""))
            if self.unacked.pop(uuid, None) is not None:
                self.unsent.discard(uuid)
                self.task_acked = True
            if uuid == self.terminal_uuid:
                self.exit_code = 0
        elif kind == "SHUTDOWN":
            self.shutdown("the agent asked for a shutdown")
        elif kind == "ERROR":
            log(f"agent error: {body.get('message', '')}")
        elif kind not in ("HEARTBEAT", "MESSAGE"):  # which ask nothing of a command executor
            log(f"ignored a {kind} event")

    def launch(self, task: JSON) -> None:
        if self.task is not None or self.shutdown_by is not None:
            self.update(task["task_id"], "TASK_FAILED", "A command executor runs a single task")
            return
        self.task = task
        self.update(task["task_id"], "TASK_STARTING")
        command = task.get("command", {})
        argv, env = command_argv(command), task_environment(dict(os.environ), command)
        try:  # a session of its own: KILL signals the task's whole process group
            self.pid = os.posix_spawnp(argv[0], argv, env, setsid=True, setsigdef=_DEFAULTS)
        except (OSError, IndexError) as err:
            message = f"Failed to launch the command: {err}"
            self.update(task["task_id"], "TASK_FAILED", message, "REASON_COMMAND_EXECUTOR_FAILED")
            return
        self.update(task["task_id"], "TASK_RUNNING")
        if "health_check" in task:
            self.start_health_check(task["health_check"], env)

    # --- the task's health check (health_checks.py, health_probes.py) ---------------------------

    def start_health_check(self, raw: JSON, env: dict[str, str]) -> None:
        """Probe the task from now on. Loaded only here: most tasks have no health check, and
        dataclasses, http.client and socket would add ~20 ms to every executor's start."""
        if TYPE_CHECKING or __package__:
            from .health_probes import start_checker
        else:
            from health_probes import start_checker
        self.health = start_checker(raw, env, time.monotonic(), self.inbox.put, _DEFAULTS, log)

    def on_health(self, transition: Transition | None) -> None:
        """Mesos' `taskHealthUpdated`: TASK_RUNNING with the new `healthy`, then maybe the kill
        (with the task's kill policy, as a KILL without one)."""
        if transition is None or self.task is None or self.pid is None or self.killing:
            return
        task_id = self.task["task_id"]
        reason = "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED"
        self.update(task_id, "TASK_RUNNING", reason=reason, healthy=transition.healthy)
        if transition.kill:
            self.killed_unhealthy = True
            self.kill(task_id, kill_grace({}, self.task))

    def kill(self, task_id: JSON, grace: float) -> None:
        if self.task is None or task_id != self.task["task_id"]:
            log(f"KILL for unknown task {task_id.get('value')}")
        elif self.pid is None:
            if self.terminal_uuid is None:
                self.update(task_id, "TASK_KILLED", "Killed before it started")
        else:
            if not self.killing:
                self.killing = True
                self.stop_health_check()
                if self.killing_state:
                    self.update(task_id, "TASK_KILLING")
                self.signal_task(_signal.SIGTERM)
            deadline = time.monotonic() + grace  # a second KILL may only shorten the grace
            self.kill_at = deadline if self.kill_at is None else min(self.kill_at, deadline)

    def shutdown(self, why: str) -> None:
        if self.shutdown_by is None:
            log(f"shutting down: {why}")
            self.shutdown_by = time.monotonic() + self.shutdown_grace
        if self.task is not None and self.pid is not None:
            self.kill(self.task["task_id"], min(kill_grace({}, self.task), self.shutdown_grace))
        elif self.terminal_uuid is None or self.lost_since is not None:
            self.exit_code = 0  # nothing ran, or nobody is left to tell

    def stop_health_check(self) -> None:
        if self.health is not None:
            self.health.stop()

    def kill_now(self) -> None:
        """SIGKILL the task's process group and reap the task: nothing outlives us."""
        self.stop_health_check()
        if (pid := self.pid) is not None:
            self.signal_task(_signal.SIGKILL)
            os.waitpid(pid, 0)
            self.pid = None

    def signal_task(self, signum: int) -> None:
        try:
            if self.pid is not None:
                os.killpg(self.pid, signum)
        except ProcessLookupError:
            return

    def reap(self) -> None:
        """We may be pid 1: collect every exited child, the task among them."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.health is not None and self.health.owns(pid):
                self.on_health(self.health.on_exit(pid, status, time.monotonic()))
            elif pid == self.pid and self.task is not None:
                self.pid, self.kill_at = None, None
                self.stop_health_check()
                state = "TASK_FINISHED" if status == 0 else "TASK_FAILED"
                state = "TASK_KILLED" if self.killing else state
                if self.killed_unhealthy:  # as Mesos: TASK_KILLED, healthy false, no reason
                    message = f"{exit_message(status)} (killed: health check failed)"
                    self.update(self.task["task_id"], state, message, healthy=False)
                else:
                    self.update(self.task["task_id"], state, exit_message(status))
                if self.shutdown_by is not None and self.lost_since is not None:
                    self.exit_code = 0


def main(executor_class: type[Executor] = Executor) -> int:
    env = dict(os.environ)
    needed = ("MESOS_AGENT_ENDPOINT", "MESOS_FRAMEWORK_ID", "MESOS_EXECUTOR_ID")
    if missing := [name for name in needed if not env.get(name)]:
        log(f"missing environment: {', '.join(missing)}")
        return 2
    sandbox = env.get("MESOS_SANDBOX") or env.get("MESOS_DIRECTORY")
    if sandbox and os.path.isdir(sandbox):
        os.chdir(sandbox)
    return executor_class(env).run()


if __name__ == "__main__":
    sys.exit(main())
