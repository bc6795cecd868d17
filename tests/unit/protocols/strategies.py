"""Hypothesis strategies for the protocols layer's models: any value `to_json` can write.

Values are drawn as they come out of `parse`: resources keyed by role are non-empty and rounded
as Mesos rounds them, durations are whole nanoseconds, an allocation role goes with resources.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from daemons.protocols.models import (
    URL,
    Address,
    AgentInfo,
    CommandInfo,
    CommandURI,
    ContainerInfo,
    ContainerStatus,
    DiscoveryInfo,
    DomainInfo,
    EnvironmentVariable,
    ExecutorInfo,
    FrameworkInfo,
    HealthCheck,
    HTTPCheck,
    KillPolicy,
    Label,
    Offer,
    Port,
    Task,
    TaskInfo,
    TaskStatus,
    TCPCheck,
)
from daemons.protocols.resources import Resources

text = st.text(max_size=12)
opt_text = st.none() | text
ids = st.text(min_size=1, max_size=40)
finite = st.floats(allow_nan=False, allow_infinity=False)
seconds = st.integers(0, 10**15).map(lambda ns: ns / 1e9)  # whole nanoseconds
opt_bool = st.none() | st.booleans()
roles = st.sampled_from(["*", "web", "slave_public", "a/b"])
labels = st.lists(st.builds(Label, text, opt_text), max_size=3).map(tuple)

quantities = st.integers(1, 10**9).map(lambda n: n / 1000)  # Mesos keeps 3 decimals
port_ranges = st.lists(
    st.tuples(st.integers(1, 65535), st.integers(0, 100)).map(lambda r: (r[0], r[0] + r[1])),
    min_size=1,
    max_size=3,
)
resource_values = st.builds(
    Resources.of,
    st.dictionaries(st.sampled_from(["cpus", "mem", "disk", "gpus"]), quantities, max_size=4),
    st.dictionaries(st.just("ports"), port_ranges, max_size=1),
    st.dictionaries(st.just("disks"), st.frozensets(ids, min_size=1, max_size=3), max_size=1),
).filter(lambda r: not r.is_empty())
by_role = st.dictionaries(roles, resource_values, max_size=3)

attribute_values = st.one_of(
    text,
    finite,
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)), max_size=3).map(tuple),
    st.frozensets(text, max_size=3),
)
attributes = st.dictionaries(ids, attribute_values, max_size=4)


@st.composite
def allocated(draw: st.DrawFn) -> dict[str, Any]:
    """`resources` and the `allocation_role` that can only come with some."""
    resources = draw(by_role)
    role = draw(st.none() | roles) if resources else None
    return {"resources": resources, "allocation_role": role}


commands = st.builds(
    CommandInfo,
    value=opt_text,
    shell=st.booleans(),
    arguments=st.lists(text, max_size=3).map(tuple),
    environment=st.lists(
        st.builds(EnvironmentVariable, text, opt_text, st.sampled_from(["VALUE", "SECRET", ""])),
        max_size=3,
    ).map(tuple),
    uris=st.lists(
        st.builds(CommandURI, text, opt_bool, opt_bool, opt_bool, opt_text), max_size=2
    ).map(tuple),
    user=opt_text,
)
health_checks = st.builds(
    HealthCheck,
    type=st.none() | st.sampled_from(["COMMAND", "HTTP", "TCP"]),
    delay_seconds=finite,
    interval_seconds=finite,
    timeout_seconds=finite,
    consecutive_failures=st.integers(0, 100),
    grace_period_seconds=finite,
    command=st.none() | commands,
    http=st.none()
    | st.builds(
        HTTPCheck,
        port=st.integers(1, 65535),
        scheme=opt_text,
        path=opt_text,
        statuses=st.lists(st.integers(100, 599), max_size=3).map(tuple),
        protocol=opt_text,
    ),
    tcp=st.none() | st.builds(TCPCheck, port=st.integers(1, 65535), protocol=opt_text),
)
kill_policies = st.builds(KillPolicy, grace_period=st.none() | seconds)
ports = st.builds(
    Port,
    number=st.integers(0, 65535),
    name=opt_text,
    protocol=opt_text,
    visibility=opt_text,
    labels=labels,
)
discoveries = st.builds(
    DiscoveryInfo,
    visibility=opt_text,
    name=opt_text,
    environment=opt_text,
    location=opt_text,
    version=opt_text,
    ports=st.lists(ports, max_size=3).map(tuple),
    labels=labels,
)
containers = st.builds(ContainerInfo, type=opt_text, hostname=opt_text)


@st.composite
def executor_infos(draw: st.DrawFn) -> ExecutorInfo:
    return ExecutorInfo(
        executor_id=draw(ids),
        framework_id=draw(st.none() | ids),
        type=draw(st.none() | st.sampled_from(["DEFAULT", "CUSTOM"])),
        name=draw(opt_text),
        source=draw(opt_text),
        command=draw(st.none() | commands),
        container=draw(st.none() | containers),
        discovery=draw(st.none() | discoveries),
        labels=draw(labels),
        shutdown_grace_period=draw(st.none() | seconds),
        data=draw(st.none() | st.binary(max_size=20)),
        **draw(allocated()),
    )


@st.composite
def task_infos(draw: st.DrawFn) -> TaskInfo:
    return TaskInfo(
        task_id=draw(ids),
        name=draw(text),
        agent_id=draw(st.none() | ids),
        command=draw(st.none() | commands),
        executor=draw(st.none() | executor_infos()),
        container=draw(st.none() | containers),
        health_check=draw(st.none() | health_checks),
        kill_policy=draw(st.none() | kill_policies),
        discovery=draw(st.none() | discoveries),
        labels=draw(labels),
        data=draw(st.none() | st.binary(max_size=20)),
        **draw(allocated()),
    )


task_statuses = st.builds(
    TaskStatus,
    task_id=ids,
    state=st.sampled_from(["TASK_RUNNING", "TASK_FINISHED", "TASK_LOST", "TASK_SOMETHING_NEW"]),
    reason=opt_text,
    message=opt_text,
    source=opt_text,
    agent_id=st.none() | ids,
    executor_id=st.none() | ids,
    uuid=st.none() | st.binary(min_size=16, max_size=16),
    healthy=opt_bool,
    timestamp=st.none() | finite,
    data=st.none() | st.binary(max_size=20),
    labels=labels,
    container_status=st.none()
    | st.builds(
        ContainerStatus,
        container_id=st.none() | text,
        executor_pid=st.none() | st.integers(1, 2**22),
    ),
)
domains = st.builds(DomainInfo, text, text)
offers = st.builds(
    Offer,
    id=ids,
    framework_id=ids,
    agent_id=ids,
    hostname=text,
    resources=by_role,
    attributes=attributes,
    allocation_role=st.none() | roles,
    url=st.none()
    | st.builds(URL, text, st.builds(Address, st.integers(0, 65535), opt_text, opt_text), opt_text),
    executor_ids=st.lists(ids, max_size=3).map(tuple),
    domain=st.none() | domains,
)
framework_infos = st.builds(
    FrameworkInfo,
    user=text,
    name=text,
    id=st.none() | ids,
    failover_timeout=st.floats(0, 1e9),
    checkpoint=st.booleans(),
    role=st.none() | roles,
    roles=st.lists(roles, max_size=3).map(tuple),
    hostname=opt_text,
    principal=opt_text,
    webui_url=opt_text,
    capabilities=st.lists(
        st.sampled_from(["MULTI_ROLE", "PARTITION_AWARE", "TASK_KILLING_STATE"]), max_size=3
    ).map(tuple),
    labels=labels,
)
agent_infos = st.builds(
    AgentInfo,
    hostname=text,
    port=st.integers(1, 65535),
    id=st.none() | ids,
    resources=by_role,
    attributes=attributes,
    domain=st.none() | domains,
)


@st.composite
def tasks(draw: st.DrawFn) -> Task:
    return Task(
        task_id=draw(ids),
        framework_id=draw(ids),
        state=draw(st.sampled_from(["TASK_STAGING", "TASK_RUNNING", "TASK_KILLED"])),
        name=draw(text),
        agent_id=draw(st.none() | ids),
        executor_id=draw(st.none() | ids),
        statuses=tuple(draw(st.lists(task_statuses, max_size=3))),
        labels=draw(labels),
        discovery=draw(st.none() | discoveries),
        container=draw(st.none() | containers),
        health_check=draw(st.none() | health_checks),
        kill_policy=draw(st.none() | kill_policies),
        user=draw(opt_text),
        **draw(allocated()),
    )
