"""JobSpec parsing: every problem at its exact path with its message; the JSON we emit."""

from __future__ import annotations

import json
from typing import Any

import pytest

from daemons.metronome.jobspec import (
    Constraint,
    RestartSpec,
    ensure_fits,
    job_from_record,
    job_json,
    job_record,
    parse_job,
)
from daemons.metronome.validation import Invalid
from tests.clients import metronome_module

# dcos-metronome's generated protobuf module uses an API protobuf 3.20 marks deprecated.
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated create function")

JSON = dict[str, Any]


def job(**run: Any) -> JSON:
    return {"id": "nightly.backup", "run": {"cpus": 0.1, "mem": 32, "cmd": "true", **run}}


def details(raw: Any, **kwargs: Any) -> dict[str, list[str]]:
    with pytest.raises(Invalid) as info:
        parse_job(raw, **kwargs)
    return {d["path"]: d["errors"] for d in info.value.details}


@pytest.mark.parametrize(
    ("raw", "path", "message"),
    [
        ({"run": job()["run"]}, "/id", "is required"),
        ({**job(), "id": "Upper"}, "/id", "must be lower-case letters"),
        ({**job(), "id": "a..b"}, "/id", "must be lower-case letters"),
        ({**job(), "id": "a/b"}, "/id", "must be lower-case letters"),
        ({**job(), "id": "-a"}, "/id", "must be lower-case letters"),
        ({"id": "x"}, "/run", "is required"),
        ({"id": "x", "run": []}, "/run", "must be an object"),
        (job(cpus=0.001), "/run/cpus", "must be at least 0.01"),
        (job(cpus="1"), "/run/cpus", "must be a number"),
        (job(cpus=True), "/run/cpus", "must be a number"),
        (job(mem=16), "/run/mem", "must be at least 32"),
        (job(disk=-1), "/run/disk", "must be at least 0"),
        (job(cmd=None), "/run", "one of cmd or args is required"),
        (job(cmd=""), "/run/cmd", "must not be empty"),
        (job(args=["a", 1]), "/run/args/1", "must be a string"),
        (job(docker={"image": "busybox"}), "/run/docker", "container images are not supported"),
        (job(ucr={"image": {"id": "x"}}), "/run/ucr", "container images are not supported"),
        (
            job(artifacts=[{"uri": "http://x/y"}]),
            "/run/artifacts",
            "artifacts are not supported: commands must be fetch-free",
        ),
        (
            job(volumes=[{"containerPath": "a", "hostPath": "/b", "mode": "RO"}]),
            "/run/volumes",
            "volumes are not supported",
        ),
        (job(secrets={"s": {"source": "x"}}), "/run/secrets", "secrets are not supported"),
        (job(gpus=1), "/run/gpus", "gpus are not supported"),
        (
            job(networks=[{"mode": "container"}]),
            "/run/networks",
            "only host networking is supported",
        ),
        (job(env={"A": {"secret": "s"}}), "/run/env/A", "secrets are not supported"),
        (job(env={"A": 1}), "/run/env/A", "must be a string"),
        (
            job(restart={"policy": "ALWAYS"}),
            "/run/restart/policy",
            "must be one of NEVER, ON_FAILURE",
        ),
        (job(restart={}), "/run/restart/policy", "is required"),
        (
            job(restart={"policy": "NEVER", "activeDeadlineSeconds": -1}),
            "/run/restart/activeDeadlineSeconds",
            "must be at least 0",
        ),
        (
            job(restart={"policy": "NEVER", "activeDeadlineSeconds": 1.5}),
            "/run/restart/activeDeadlineSeconds",
            "must be an integer",
        ),
        (job(maxLaunchDelay=0), "/run/maxLaunchDelay", "must be at least 1"),
        (
            job(taskKillGracePeriodSeconds=-1),
            "/run/taskKillGracePeriodSeconds",
            "must be at least 0",
        ),
        (
            job(
                placement={
                    "constraints": [{"attribute": "rack", "operator": "GROUP_BY", "value": "a"}]
                }
            ),
            "/run/placement/constraints/0/operator",
            "unknown operator 'GROUP_BY' (expected one of IS, EQ, LIKE, UNLIKE)",
        ),
        (
            job(
                placement={"constraints": [{"attribute": "rack", "operator": "LIKE", "value": "("}]}
            ),
            "/run/placement/constraints/0/value",
            "is not a valid regular expression",
        ),
        (
            job(placement={"constraints": [{"operator": "IS", "value": "a"}]}),
            "/run/placement/constraints/0/attribute",
            "is required",
        ),
        ({**job(), "labels": {"a": 1}}, "/labels/a", "must be a string"),
        (
            {**job(), "dependencies": [{"id": "other"}]},
            "/dependencies",
            "dependencies are not supported",
        ),
        ({**job(), "colour": "red"}, "/colour", "unknown property"),
        (job(colour="red"), "/run/colour", "unknown property"),
        (
            {
                **job(),
                "schedules": [{"id": "a", "cron": "* * * * *"}, {"id": "b", "cron": "* * * * *"}],
            },
            "/schedules",
            "at most one schedule is supported",
        ),
        (
            {**job(), "schedules": [{"id": "a", "cron": "* * *"}]},
            "/schedules/0/cron",
            "must be a cron expression of 5 fields",
        ),
    ],
)
def test_each_problem_has_its_path_and_message(raw: JSON, path: str, message: str) -> None:
    found = details(raw)
    assert path in found, found
    assert any(e.startswith(message) for e in found[path]), found[path]


def test_every_problem_is_reported_at_once() -> None:
    found = details(
        {"id": "BAD", "run": {"cpus": 0, "mem": 1, "docker": {"image": "x"}, "restart": {}}}
    )
    assert set(found) == {
        "/id",
        "/run/cpus",
        "/run/mem",
        "/run",
        "/run/docker",
        "/run/restart/policy",
    }


def test_the_body_must_be_an_object() -> None:
    assert details([1, 2]) == {"/": ["must be a JSON object"]}


def test_put_takes_the_id_from_the_url_and_refuses_another() -> None:
    body = job()
    del body["id"]
    assert parse_job(body, path_id="from.url").job.id == "from.url"
    assert details(job(), path_id="other") == {"/id": ["must be 'other', the id in the URL"]}


def test_defaults_and_values() -> None:
    doc = parse_job(
        job(
            args=["/bin/echo", "hi"],
            env={"A": "1"},
            user="nobody",
            placement={"constraints": [{"attribute": "hostname", "operator": "IS", "value": "h"}]},
            restart={"policy": "ON_FAILURE", "activeDeadlineSeconds": 60},
            taskKillGracePeriodSeconds=3,
            docker={},
            gpus=0,
            artifacts=[],
            networks=[{"mode": "host"}],
        )
    )
    run = doc.job.run
    assert doc.schedules is None
    assert (run.cpus, run.mem, run.disk, run.max_launch_delay) == (0.1, 32.0, 0.0, 3600)
    assert run.args == ("/bin/echo", "hi") and run.cmd == "true"
    assert run.constraints == (Constraint("hostname", "IS", "h"),)
    assert run.restart == RestartSpec("ON_FAILURE", 60)
    assert run.task_kill_grace_period_seconds == 3.0
    assert parse_job(job()).job.run.restart == RestartSpec("NEVER", None)


def test_json_leaves_out_what_is_unset_and_keeps_the_rest() -> None:
    minimal = parse_job(job()).job
    assert job_json(minimal) == {
        "id": "nightly.backup",
        "run": {
            "cpus": 0.1,
            "mem": 32,
            "disk": 0,
            "cmd": "true",
            "maxLaunchDelay": 3600,
            "restart": {"policy": "NEVER"},
        },
    }
    full = parse_job(
        {
            **job(env={"A": "1"}, taskKillGracePeriodSeconds=5),
            "description": "d",
            "labels": {"team": "ops"},
        }
    ).job
    out = job_json(full)
    assert out["description"] == "d" and out["labels"] == {"team": "ops"}
    assert "taskKillGracePeriodSeconds" not in out["run"]  # the client does not know the key
    assert job_record(full)["run"]["taskKillGracePeriodSeconds"] == 5
    assert job_from_record(job_record(full)) == full


def test_dcos_metronome_parses_what_we_emit() -> None:
    metronome_module()
    from google.protobuf.json_format import Parse
    from metronome.models import JobSpec as ProtoJobSpec

    spec = parse_job(
        {
            **job(
                env={"A": "1"},
                args=["a"],
                user="nobody",
                placement={
                    "constraints": [{"attribute": "rack", "operator": "LIKE", "value": "r.*"}]
                },
                restart={"policy": "ON_FAILURE", "activeDeadlineSeconds": 60},
                taskKillGracePeriodSeconds=5,
            ),
            "description": "d",
            "labels": {"a": "b"},
        }
    ).job
    parsed = Parse(json.dumps(job_json(spec)), ProtoJobSpec())
    assert parsed.id == "nightly.backup" and parsed.run.env["A"] == "1"
    assert parsed.run.restart.activeDeadlineSeconds == 60


def test_a_job_too_large_for_zookeeper_is_refused() -> None:
    big = parse_job({**job(), "description": "x" * 2000}).job
    assert len(ensure_fits(big, 4096)) < 4096
    with pytest.raises(Invalid) as info:
        ensure_fits(big, 1024)
    assert info.value.details[0]["path"] == "/"
    assert "a ZooKeeper node holds at most 1024" in info.value.details[0]["errors"][0]
