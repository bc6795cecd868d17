"""What the state view keeps of each task (`daemons.mesos_client.master_view`): every field a
consumer reads (Mesos-DNS's records, the DNS proxy's task names, the VIP table), the strings
that repeat from task to task as one object, and of the statuses those a consumer reads."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from daemons.kit.l4lb.table import _weight
from daemons.mesos_client.master_view import MasterState, _read_statuses, task_json
from daemons.mesos_dns.families import _status_ips
from dnsproxy.tasks import container_ips

JSON = dict[str, Any]
FRAMEWORK = "8b3f6a0e-4f0c-4a8e-9d5e-2c1f7a9b3d10-0000"
AGENT = "8b3f6a0e-4f0c-4a8e-9d5e-2c1f7a9b3d10-S0"


def network(ip: str) -> JSON:
    return {"network_infos": [{"ip_addresses": [{"ip_address": ip, "protocol": "IPv4"}]}]}


def state_task(n: int) -> JSON:
    """A task as `/master/state` renders it, with fields no consumer reads."""
    return {
        "id": f"web.{n:08x}-0000-4000-8000-000000000000",
        "name": "web",
        "framework_id": FRAMEWORK,
        "slave_id": AGENT,
        "executor_id": "",
        "role": "*",
        "state": "TASK_RUNNING",
        "resources": {"cpus": 0.1, "mem": 32.0, "ports": "[31000-31001]"},
        "discovery": {
            "name": "web",
            "visibility": "FRAMEWORK",
            "ports": {
                "ports": [
                    {
                        "number": 80,
                        "protocol": "tcp",
                        "labels": {"labels": [{"key": "VIP_0", "value": "/web:80"}]},
                    }
                ]
            },
        },
        "labels": [{"key": "VIP_PORT0", "value": "10.1.1.1:80"}],
        "statuses": [
            {"state": "TASK_STAGING", "timestamp": 1.0, "source": "SOURCE_MASTER"},
            {
                "state": "TASK_RUNNING",
                "timestamp": 3.0,
                "container_status": network("9.0.0.1"),
                "labels": [{"key": "k", "value": "v"}],
                "uuid": "x",
            },
            {"state": "TASK_RUNNING", "timestamp": 2.0, "container_status": network("9.0.0.2")},
            {
                "state": "TASK_RUNNING",
                "timestamp": 4.0,
                "healthy": False,
                "container_status": network("9.0.0.3"),
            },
        ],
    }


def state_of(*tasks: JSON) -> JSON:
    return {
        "leader": "master@10.0.4.11:5050",
        "slaves": [{"id": AGENT, "pid": "slave(1)@10.0.6.21:5051", "hostname": "a1"}],
        "frameworks": [{"id": FRAMEWORK, "name": "marathon", "tasks": list(tasks)}],
    }


def test_a_task_keeps_what_consumers_read_and_only_that() -> None:
    read = state_task(1)
    task = MasterState(state_of(copy.deepcopy(read))).snapshot()["frameworks"][0]["tasks"][0]
    assert set(task) == {
        "id", "name", "framework_id", "slave_id", "state", "resources", "discovery", "labels",
        "statuses",
    }  # fmt: skip
    assert task["resources"] == {"ports": "[31000-31001]"}
    assert task["discovery"] == read["discovery"] and task["labels"] == read["labels"]
    # The latest status (unhealthy, Minuteman's weight 0) is also the latest running one.
    assert task["statuses"] == [
        {"state": "TASK_RUNNING", "timestamp": 4.0, "healthy": False,
         "container_status": network("9.0.0.3")},
    ]  # fmt: skip


def test_repeated_strings_are_one_object() -> None:
    state = copy.deepcopy(state_of(state_task(1), state_task(2)))
    # As parsed from JSON: equal values, distinct objects.
    for task in state["frameworks"][0]["tasks"]:
        task["framework_id"] = "".join(list(FRAMEWORK))
        task["slave_id"] = "".join(list(AGENT))
        task["state"] = "".join(list("TASK_RUNNING"))
    one, two = MasterState(state).snapshot()["frameworks"][0]["tasks"]
    for key in ("framework_id", "slave_id", "state", "name"):
        assert one[key] is two[key], key
    assert (
        one["discovery"]["ports"]["ports"][0]["protocol"]
        is two["discovery"]["ports"]["ports"][0]["protocol"]
    )
    assert one["id"] != two["id"]


def test_a_v1_task_keeps_the_statuses_read_too() -> None:
    v1 = {
        "task_id": {"value": "t"},
        "framework_id": {"value": FRAMEWORK},
        "agent_id": {"value": AGENT},
        "name": "t",
        "state": "TASK_RUNNING",
        "statuses": [
            {"state": "TASK_STAGING", "timestamp": 1.0},
            {"state": "TASK_RUNNING", "timestamp": 2.0},
            {"state": "TASK_RUNNING", "timestamp": 2.0, "healthy": True},
        ],
    }
    assert task_json(v1)["statuses"] == [{"state": "TASK_RUNNING", "timestamp": 2.0}]


STATES = st.sampled_from(["TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING"])


@st.composite
def statuses(draw: st.DrawFn) -> list[JSON]:
    out = []
    for n in range(draw(st.integers(0, 6))):
        status: JSON = {"state": draw(STATES), "container_status": network(f"9.0.0.{n}")}
        if draw(st.booleans()):
            status["timestamp"] = float(draw(st.integers(0, 3)))  # ties are common
        if draw(st.booleans()):
            status["healthy"] = draw(st.booleans())
        status["labels"] = [{"key": "MesosContainerizer.NetworkSettings.IPAddress",
                             "value": f"8.0.0.{n}"}]  # fmt: skip
        out.append(status)
    return out


@given(statuses(), st.lists(st.tuples(STATES, st.integers(0, 4)), max_size=3))
def test_what_consumers_pick_of_the_statuses_is_the_same(
    listed: list[JSON], later: list[tuple[str, int]]
) -> None:
    """Whatever the statuses and the ones appended later (as `TASK_UPDATED` does), each
    consumer's pick is the same of the kept statuses as of them all."""
    kept = _read_statuses(listed)
    for state, timestamp in later:
        status = {"state": state, "timestamp": float(timestamp)}
        listed, kept = [*listed, status], [*kept, status]
    every, slim = {"statuses": listed}, {"statuses": kept}
    assert _weight({**every, "state": "TASK_RUNNING"}) == _weight({**slim, "state": "TASK_RUNNING"})
    assert container_ips(every) == container_ips(slim)
    for source in ("netinfo", "mesos"):
        assert _status_ips(every, source) == _status_ips(slim, source)


def test_a_state_read_again_keeps_the_tasks_that_did_not_change() -> None:
    first = MasterState(copy.deepcopy(state_of(state_task(1), state_task(2))))
    changed = state_task(2)
    changed["statuses"][-1]["healthy"] = True
    again = MasterState(copy.deepcopy(state_of(state_task(1), changed, state_task(3))), first)
    before = first.snapshot()["frameworks"][0]["tasks"]
    after = again.snapshot()["frameworks"][0]["tasks"]
    assert after[0] is before[0]  # the same: the earlier view's dict
    assert after[1] is not before[1] and after[1]["statuses"][-1]["healthy"] is True
    assert after == MasterState(copy.deepcopy(state_of(state_task(1), changed, state_task(3)))) \
        .snapshot()["frameworks"][0]["tasks"]  # fmt: skip
