"""A small typed client for the Mesos v1 scheduler and executor HTTP APIs.

PyDCOS' Marathon and Metronome are frameworks built on it, and users can write their own:

    client = SchedulerClient("zk://127.0.0.1:2181/mesos", {"user": "root", "name": "demo"})
    client.start()
    for event in client.events():
        if isinstance(event, Offers): ...

The package owns the calls and events of both APIs (`calls`, `events`, `executor_events`,
`tasks`), the HTTP plumbing (`transport`: one RecordIO stream plus a keep-alive call session),
leader detection (`leader`) and the two clients (`scheduler`, `executor`) on a shared reconnect
loop (`subscription`); and, for the DNS daemons, the master follower: the leading master's
state kept from its operator events (`master_view`, pure; `operator_subscription`;
`master_follower`, which reads `/master/state` with requests and imports `daemons.kit.zk`
itself: it is not re-exported here). The messages in calls and events are the typed models of
`daemons.protocols.models` (`TaskStatus`, `Offer`, `TaskInfo`, `FrameworkInfo`, ...; the ones
frameworks use are re-exported here).

Its modules import each other directly, never this package (no import circle through it). It
must not import Flask or any daemon's code: from `daemons` it uses only the pure
`daemons.protocols` layer, and the ZooKeeper adapter `daemons.kit.zk`, which `leader` imports
lazily for `zk://` masters only (it drags in kazoo). It reads no environment variables:
executors pass `ExecutorSettings.from_env(os.environ)` in from their entry point.
"""

import daemons.mesos_client.calls as calls
from daemons.mesos_client.errors import (
    CallRejected,
    EventParseError,
    MasterUnavailable,
    MesosClientError,
    NotSubscribed,
    Redirected,
    SubscriptionEnded,
)
from daemons.mesos_client.events import (
    Error,
    Event,
    Failure,
    Heartbeat,
    InverseOffers,
    Message,
    Offer,
    Offers,
    Rescind,
    RescindInverseOffer,
    Subscribed,
    TaskStatus,
    UnknownEvent,
    Update,
    UpdateOperationStatus,
    parse_event,
)
from daemons.mesos_client.executor import ExecutorClient
from daemons.mesos_client.executor_events import ExecutorEvent, parse_executor_event
from daemons.mesos_client.executor_settings import ExecutorSettings, parse_duration
from daemons.mesos_client.leader import (
    MasterDetector,
    StaticMaster,
    ZooKeeperMaster,
    detector_for,
)
from daemons.mesos_client.scheduler import SchedulerClient
from daemons.mesos_client.subscription import Backoff
from daemons.mesos_client.tasks import command_task, task_resources
from daemons.mesos_client.transport import Endpoint
from daemons.protocols.models import ExecutorInfo, FrameworkInfo, TaskInfo
from daemons.protocols.states import TERMINAL_STATES

__all__ = [
    "TERMINAL_STATES",
    "Backoff",
    "CallRejected",
    "Endpoint",
    "Error",
    "Event",
    "EventParseError",
    "ExecutorClient",
    "ExecutorEvent",
    "ExecutorInfo",
    "ExecutorSettings",
    "Failure",
    "FrameworkInfo",
    "Heartbeat",
    "InverseOffers",
    "MasterDetector",
    "MasterUnavailable",
    "MesosClientError",
    "Message",
    "NotSubscribed",
    "Offer",
    "Offers",
    "Redirected",
    "Rescind",
    "RescindInverseOffer",
    "SchedulerClient",
    "StaticMaster",
    "Subscribed",
    "SubscriptionEnded",
    "TaskInfo",
    "TaskStatus",
    "UnknownEvent",
    "Update",
    "UpdateOperationStatus",
    "ZooKeeperMaster",
    "calls",
    "command_task",
    "detector_for",
    "parse_duration",
    "parse_event",
    "parse_executor_event",
    "task_resources",
]
