"""JobSpec (`/v1/jobs` bodies): parsing with every problem collected, and the JSON we emit. Pure.

We run shell commands only: container images, artifacts (fetching), volumes, secrets and GPUs
are refused with a message naming the field instead of being accepted and ignored. The JSON
we emit leaves out optional fields that are unset or empty, so dcos-metronome (protobuf
`json_format.Parse`, which rejects unknown keys) parses every job we send.
`taskKillGracePeriodSeconds` is accepted and used when killing, but not echoed (the client
does not know the key).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from daemons.metronome import validation as v
from daemons.metronome.schedule import Schedule, read_schedule
from daemons.protocols import JSON

OPERATORS = ("IS", "EQ", "LIKE", "UNLIKE")
RESTART_POLICIES = ("NEVER", "ON_FAILURE")
DEFAULT_MAX_LAUNCH_DELAY = 3600
MIN_CPUS = 0.01
MIN_MEM = 32.0

JOB_KEYS = frozenset({"id", "description", "labels", "run", "schedules", "dependencies"})
RUN_KEYS = frozenset(
    {
        "cpus",
        "mem",
        "disk",
        "gpus",
        "cmd",
        "args",
        "user",
        "env",
        "placement",
        "artifacts",
        "maxLaunchDelay",
        "docker",
        "ucr",
        "volumes",
        "restart",
        "taskKillGracePeriodSeconds",
        "secrets",
        "networks",
    }
)
UNSUPPORTED = {
    "artifacts": "artifacts are not supported: commands must be fetch-free",
    "volumes": "volumes are not supported",
    "secrets": "secrets are not supported",
}


@dataclass(frozen=True)
class Constraint:
    attribute: str  # "hostname" or an agent attribute
    operator: str  # IS | EQ (equal) | LIKE | UNLIKE (full-match regular expression)
    value: str


@dataclass(frozen=True)
class RestartSpec:
    policy: str = "NEVER"  # NEVER | ON_FAILURE
    # ON_FAILURE: relaunch only while the run is younger than this; None = without limit.
    active_deadline_seconds: int | None = None


@dataclass(frozen=True)
class RunSpec:
    cpus: float
    mem: float
    disk: float = 0.0
    cmd: str | None = None
    args: tuple[str, ...] = ()
    user: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    constraints: tuple[Constraint, ...] = ()
    max_launch_delay: int = DEFAULT_MAX_LAUNCH_DELAY
    restart: RestartSpec = RestartSpec()
    task_kill_grace_period_seconds: float | None = None


@dataclass(frozen=True)
class JobSpec:
    id: str
    run: RunSpec
    description: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class JobDocument:
    """A parsed request body: the job, and its schedules when the body had a `schedules` key."""

    job: JobSpec
    schedules: tuple[Schedule, ...] | None = None


# --- parsing -------------------------------------------------------------------------------------


def _constraint(raw: Any, path: str, p: v.Problems) -> Constraint | None:
    if not isinstance(raw, dict):
        p.add(path, "must be an object")
        return None
    v.reject_unknown(raw, frozenset({"attribute", "operator", "value"}), path, p)
    attribute = v.string(raw, "attribute", path, p, required=True, non_empty=True)
    operator = v.string(raw, "operator", path, p, required=True)
    if operator is not None and operator not in OPERATORS:
        p.add(
            v.child(path, "operator"),
            f"unknown operator {operator!r} (expected one of {', '.join(OPERATORS)})",
        )
        operator = None
    value = v.string(raw, "value", path, p, required=True)
    if value is not None and operator in ("LIKE", "UNLIKE"):
        try:
            re.compile(value)
        except re.error as err:
            p.add(v.child(path, "value"), f"is not a valid regular expression: {err}")
            return None
    if attribute is None or operator is None or value is None:
        return None
    return Constraint(attribute, operator, value)


def _constraints(run: JSON, path: str, p: v.Problems) -> tuple[Constraint, ...]:
    placement = v.obj(run, "placement", path, p)
    if placement is None:
        return ()
    where = v.child(path, "placement")
    v.reject_unknown(placement, frozenset({"constraints"}), where, p)
    items = v.array(placement, "constraints", where, p)
    found = [_constraint(c, f"{where}/constraints/{i}", p) for i, c in enumerate(items)]
    return tuple(c for c in found if c is not None)


def _env(run: JSON, path: str, p: v.Problems) -> dict[str, str]:
    raw = run.get("env")
    if raw is None:
        return {}
    where = v.child(path, "env")
    if not isinstance(raw, dict):
        p.add(where, "must be an object")
        return {}
    env: dict[str, str] = {}
    for name, value in raw.items():
        if isinstance(value, str):
            env[name] = value
        elif isinstance(value, dict) and "secret" in value:
            p.add(v.child(where, name), "secrets are not supported")
        else:
            p.add(v.child(where, name), "must be a string")
    return env


def _restart(run: JSON, path: str, p: v.Problems) -> RestartSpec:
    raw = v.obj(run, "restart", path, p)
    if raw is None:
        return RestartSpec()
    where = v.child(path, "restart")
    v.reject_unknown(raw, frozenset({"policy", "activeDeadlineSeconds"}), where, p)
    policy = v.string(raw, "policy", where, p, required=True)
    if policy is not None and policy not in RESTART_POLICIES:
        p.add(v.child(where, "policy"), f"must be one of {', '.join(RESTART_POLICIES)}")
        policy = None
    deadline = v.integer(raw, "activeDeadlineSeconds", where, p, minimum=0, optional=True)
    return RestartSpec(policy or "NEVER", deadline)


def _command(run: JSON, path: str, p: v.Problems) -> tuple[str | None, tuple[str, ...]]:
    cmd = v.string(run, "cmd", path, p, non_empty=True)
    args: list[str] = []
    for i, arg in enumerate(v.array(run, "args", path, p)):
        if isinstance(arg, str):
            args.append(arg)
        else:
            p.add(f"{path}/args/{i}", "must be a string")
    if run.get("cmd") is None and not run.get("args"):
        p.add(path, "one of cmd or args is required")
    return cmd, tuple(args)


def _refuse_unsupported(run: JSON, path: str, p: v.Problems) -> None:
    for key in ("docker", "ucr"):
        if run.get(key) not in (None, {}):
            p.add(v.child(path, key), "container images are not supported")
    for key, message in UNSUPPORTED.items():
        if run.get(key):
            p.add(v.child(path, key), message)
    gpus = run.get("gpus")
    if gpus is not None and (not v.is_number(gpus) or gpus < 0):
        p.add(v.child(path, "gpus"), "must be a number of at least 0")
    elif gpus:
        p.add(v.child(path, "gpus"), "gpus are not supported")
    networks = v.array(run, "networks", path, p)
    if any(not isinstance(n, dict) or n.get("mode", "host") != "host" for n in networks):
        p.add(v.child(path, "networks"), "only host networking is supported")


def _run(raw: JSON, p: v.Problems) -> RunSpec | None:
    run = v.obj(raw, "run", "", p, required=True)
    if run is None:
        return None
    path = "/run"
    v.reject_unknown(run, RUN_KEYS, path, p)
    cpus = v.number(run, "cpus", path, p, minimum=MIN_CPUS)
    mem = v.number(run, "mem", path, p, minimum=MIN_MEM)
    disk = v.number(run, "disk", path, p, default=0.0, minimum=0.0)
    cmd, args = _command(run, path, p)
    user = v.string(run, "user", path, p, non_empty=True)
    env = _env(run, path, p)
    constraints = _constraints(run, path, p)
    delay = v.integer(run, "maxLaunchDelay", path, p, default=DEFAULT_MAX_LAUNCH_DELAY, minimum=1)
    restart = _restart(run, path, p)
    grace = v.number(run, "taskKillGracePeriodSeconds", path, p, minimum=0.0, optional=True)
    _refuse_unsupported(run, path, p)
    if cpus is None or mem is None:
        return None
    return RunSpec(
        cpus=cpus,
        mem=mem,
        disk=disk or 0.0,
        cmd=cmd,
        args=args,
        user=user,
        env=env,
        constraints=constraints,
        max_launch_delay=delay or DEFAULT_MAX_LAUNCH_DELAY,
        restart=restart,
        task_kill_grace_period_seconds=grace,
    )


def _schedules(raw: JSON, p: v.Problems) -> tuple[Schedule, ...] | None:
    if "schedules" not in raw or raw["schedules"] is None:
        return None
    items = v.array(raw, "schedules", "", p)
    if len(items) > 1:
        p.add("/schedules", "at most one schedule is supported")
    found = [read_schedule(s, f"/schedules/{i}", p) for i, s in enumerate(items)]
    return tuple(s for s in found if s is not None)


def parse_job(raw: Any, *, path_id: str | None = None) -> JobDocument:
    """A JobSpec document, or `Invalid` listing every problem. With `path_id` (PUT), a
    missing `id` is taken from the URL and a different one is refused."""
    p = v.Problems()
    if not isinstance(raw, dict):
        raise v.Invalid([{"path": "/", "errors": ["must be a JSON object"]}])
    v.reject_unknown(raw, JOB_KEYS, "", p)
    if path_id is not None:
        if raw.get("id") is None:
            raw = {**raw, "id": path_id}
        elif raw.get("id") != path_id:
            p.add("/id", f"must be {path_id!r}, the id in the URL")
    job_id = v.identifier(raw, "id", "", p)
    description = v.string(raw, "description", "", p)
    labels = v.string_map(raw, "labels", "", p)
    if v.array(raw, "dependencies", "", p):
        p.add("/dependencies", "dependencies are not supported")
    run = _run(raw, p)
    schedules = _schedules(raw, p)
    p.raise_if_any()
    assert job_id is not None and run is not None
    return JobDocument(JobSpec(job_id, run, description, labels), schedules)


# --- JSON ----------------------------------------------------------------------------------------


def _number(value: float) -> float | int:
    """1.0 -> 1: what a user wrote as an integer comes back as one."""
    return int(value) if float(value).is_integer() else value


def _run_json(run: RunSpec) -> JSON:
    out: JSON = {"cpus": _number(run.cpus), "mem": _number(run.mem), "disk": _number(run.disk)}
    if run.cmd is not None:
        out["cmd"] = run.cmd
    if run.args:
        out["args"] = list(run.args)
    if run.user is not None:
        out["user"] = run.user
    if run.env:
        out["env"] = dict(run.env)
    if run.constraints:
        out["placement"] = {
            "constraints": [
                {"attribute": c.attribute, "operator": c.operator, "value": c.value}
                for c in run.constraints
            ]
        }
    out["maxLaunchDelay"] = run.max_launch_delay
    restart: JSON = {"policy": run.restart.policy}
    if run.restart.active_deadline_seconds is not None:
        restart["activeDeadlineSeconds"] = run.restart.active_deadline_seconds
    out["restart"] = restart
    return out


def job_json(job: JobSpec) -> JSON:
    """The JobSpec as the API answers it (no empty optional fields, no unknown keys)."""
    out: JSON = {"id": job.id}
    if job.description is not None:
        out["description"] = job.description
    if job.labels:
        out["labels"] = dict(job.labels)
    out["run"] = _run_json(job.run)
    return out


def job_record(job: JobSpec) -> JSON:
    """The stored form: the wire form plus what the client must not see."""
    out = job_json(job)
    if job.run.task_kill_grace_period_seconds is not None:
        out["run"]["taskKillGracePeriodSeconds"] = job.run.task_kill_grace_period_seconds
    return out


def job_from_record(record: Mapping[str, Any]) -> JobSpec:
    return parse_job(dict(record)).job


def encode(document: Any) -> bytes:
    """Compact JSON bytes, the form every node in ZooKeeper holds."""
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def ensure_fits(job: JobSpec, limit: int) -> bytes:
    """The stored bytes of `job`, or 422 when they exceed ZooKeeper's node size (`limit`)."""
    data = encode(job_record(job))
    if len(data) > limit:
        raise v.Invalid(
            [
                {
                    "path": "/",
                    "errors": [
                        f"the job is {len(data)} bytes when stored; a ZooKeeper node holds at"
                        f" most {limit}"
                    ],
                }
            ]
        )
    return data
