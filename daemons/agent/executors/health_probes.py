"""Running a task's health check: the probes (HTTP, TCP, COMMAND) and the checker the command
executor drives from its main loop; the decisions are health_checks.py's.

The executor's main thread owns the checker: it asks `deadlines()`, calls `on_timers(now)`, hands
over the exit of a COMMAND probe from its reaper (`on_exit`) and what an HTTP or TCP probe thread
posted to its inbox (`on_result`); each returns the Transition to act on, or None. Why not one
checker thread: the executor may be pid 1 and reaps every child with waitpid(-1), so a thread
waiting for its own probe process would race it (and subprocess reads a lost race as exit 0).
HTTP and TCP probes block, so each runs in a short thread that posts ("health", seq, error).

Probes go to 127.0.0.1 (::1 for IPv6), as Mesos': the command executor and its task share one
network namespace (containers get the host's network), and a COMMAND probe runs in the executor's
sandbox and mount namespace, which are the task's. Standard library only (see command_executor).
"""

from __future__ import annotations

import _thread
import http.client
import os
import socket

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only; `signal` is typed, _signal not
    import signal as _signal
    from collections.abc import Callable
    from typing import Any
else:
    import _signal

if TYPE_CHECKING or __package__:  # imported as part of daemons.agent.executors (tests, mypy)
    from .health_checks import (
        HealthCheck,
        HealthState,
        InvalidHealthCheck,
        Transition,
        command_argv,
        command_environment,
        first_probe_at,
        http_healthy,
        next_probe_at,
        observe,
        parse_health_check,
        program,
    )
else:  # run by the executor, whose directory is on sys.path
    from health_checks import (
        HealthCheck,
        HealthState,
        InvalidHealthCheck,
        Transition,
        command_argv,
        command_environment,
        first_probe_at,
        http_healthy,
        next_probe_at,
        observe,
        parse_health_check,
        program,
    )

USER_AGENT = "pydcos-health-check"


def probe_http(check: HealthCheck, timeout: float | None) -> str:
    """GET the check's URL on loopback: empty when it answers 200-399, else what went wrong.
    HTTPS certificates are not verified (Mesos runs `curl -k`); redirects are not followed,
    a 3xx being healthy anyway."""
    url = f"{check.scheme}://{check.host}:{check.port}{check.path}"
    conn: http.client.HTTPConnection
    if check.scheme == "https":
        import ssl

        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        conn = http.client.HTTPSConnection(check.host, check.port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(check.host, check.port, timeout=timeout)
    try:
        conn.request("GET", check.path, headers={"User-Agent": USER_AGENT})
        status = conn.getresponse().status
    except (OSError, http.client.HTTPException) as err:
        return f"GET {url} failed: {err or type(err).__name__}"
    finally:
        conn.close()
    return "" if http_healthy(status) else f"GET {url} answered {status}"


def probe_tcp(check: HealthCheck, timeout: float | None) -> str:
    """Empty when a TCP connection to the check's port on loopback opens, else why not."""
    try:
        with socket.create_connection((check.host, check.port), timeout=timeout):
            return ""
    except OSError as err:
        return f"connect to {check.host}:{check.port} failed: {err}"


def spawn_probe(
    argv: list[str], env: dict[str, str], check: HealthCheck, sigdefaults: tuple[int, ...]
) -> int:
    """A COMMAND probe as Mesos runs it -- stdin /dev/null, stdout to the executor's stderr --, in a
    session of its own (its process group is what a timeout kills), with the task's default signal
    dispositions (`sigdefaults`, the executor's)."""
    actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0), (os.POSIX_SPAWN_DUP2, 2, 1)]
    return os.posix_spawnp(
        program(check), argv, env, file_actions=actions, setsid=True, setsigdef=sigdefaults
    )


def exit_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"the command was killed by signal {os.WTERMSIG(status)}"
    return f"the command exited with status {os.WEXITSTATUS(status)}"


class HealthChecker:
    """One task's health check, probing one at a time. Not thread-safe: main thread only."""

    def __init__(
        self,
        check: HealthCheck,
        task_env: dict[str, str],
        started_at: float,
        post: Callable[[tuple[str, int, str]], None],
        sigdefaults: tuple[int, ...],
        log: Callable[[str], None],
    ) -> None:
        self.check = check
        self.task_env = task_env  # what COMMAND probes run in, plus the check's own variables
        self.started_at = started_at
        self.post = post  # into the executor's inbox, from a probe thread
        self.sigdefaults = sigdefaults
        self.log = log
        self.state = HealthState()
        self.next_at: float | None = first_probe_at(check, started_at)  # None: probing/stopped
        self.deadline: float | None = None  # of the probe in flight, if it has a timeout
        self.seq = 0  # the probe in flight, or the last one; results of older ones are dropped
        self.in_flight = False
        self.pid: int | None = None  # a COMMAND probe not reaped yet
        self.stopped = False

    def deadlines(self) -> list[float]:
        return [t for t in (self.next_at, self.deadline) if t is not None]

    def on_timers(self, now: float) -> Transition | None:
        if self.deadline is not None and now >= self.deadline:
            self.kill_probe()  # reaped later by the executor; on_exit then ignores it
            return self.finish(f"the probe timed out after {self.check.timeout:g}s", now)
        if self.next_at is not None and now >= self.next_at:
            return self.start(now)
        return None

    def start(self, now: float) -> Transition | None:
        self.next_at, self.in_flight, self.seq = None, True, self.seq + 1
        if self.check.timeout is not None:
            self.deadline = now + self.check.timeout
        if self.check.kind != "COMMAND":
            _thread.start_new_thread(self.probe_thread, (self.seq,))
            return None
        env = command_environment(self.task_env, self.check)
        try:
            self.pid = spawn_probe(command_argv(self.check), env, self.check, self.sigdefaults)
        except OSError as err:
            return self.finish(f"cannot run the command: {err}", now)
        return None

    def probe_thread(self, seq: int) -> None:
        # Signals are for the main thread: delivered here, they would not wake its loop.
        _signal.pthread_sigmask(
            _signal.SIG_BLOCK, {_signal.SIGTERM, _signal.SIGINT, _signal.SIGCHLD}
        )
        probe = probe_http if self.check.kind == "HTTP" else probe_tcp
        try:
            error = probe(self.check, self.check.timeout)
        except Exception as err:  # a result must come back, or the checker would wait forever
            error = f"the probe failed: {err!r}"
        self.post(("health", seq, error))

    def on_result(self, seq: int, error: str, now: float) -> Transition | None:
        """What a probe thread posted; late results (timed out, stopped) are dropped."""
        if seq != self.seq or not self.in_flight:
            return None
        return self.finish(error, now)

    def owns(self, pid: int) -> bool:
        return pid == self.pid

    def on_exit(self, pid: int, status: int, now: float) -> Transition | None:
        """A COMMAND probe was reaped: exit 0 is healthy."""
        if pid != self.pid:
            return None
        self.pid = None
        if not self.in_flight:
            return None  # killed at its timeout (already counted) or by stop()
        return self.finish("" if status == 0 else exit_text(status), now)

    def finish(self, error: str, now: float) -> Transition | None:
        self.in_flight, self.deadline = False, None
        if self.stopped:
            return None
        self.next_at = next_probe_at(self.check, now)
        before = self.state
        self.state, transition = observe(self.check, before, not error, now, self.started_at)
        if error and self.state.failures > before.failures:
            self.log(f"{self.check.kind} health check failed {self.state.failures} times: {error}")
        elif error:
            self.log(f"{self.check.kind} health check failed in the grace period: {error}")
        return transition

    def stop(self) -> None:
        """No more probes or transitions; a COMMAND probe in flight is killed."""
        self.stopped, self.next_at, self.deadline, self.in_flight = True, None, None, False
        self.kill_probe()

    def kill_probe(self) -> None:
        """SIGKILL a COMMAND probe's process group. Only an unreaped pid is signalled (`self.pid`
        is cleared when it is reaped), so the pid cannot have been reused."""
        try:
            if self.pid is not None:
                os.killpg(self.pid, _signal.SIGKILL)
        except ProcessLookupError:
            return


def start_checker(
    raw: Any,
    task_env: dict[str, str],
    now: float,
    post: Callable[[tuple[str, int, str]], None],
    sigdefaults: tuple[int, ...],
    log: Callable[[str], None],
) -> HealthChecker | None:
    """The checker of a task's TaskInfo.health_check, started `now`; None for a check Mesos'
    validation would refuse (logged: the task runs unchecked, as in Mesos)."""
    try:
        check = parse_health_check(raw)
    except InvalidHealthCheck as err:
        log(f"not health checking the task: {err}")
        return None
    return HealthChecker(check, task_env, now, post, sigdefaults, log)
