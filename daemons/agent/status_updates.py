"""The status-update manager: one ordered stream of updates per task, delivered at least once.

Pure: no I/O, no clock. The caller passes `now`, and a `persist` callback that writes a stream's
snapshot durably (it runs *before* the change is visible, so an update is checkpointed before the
agent acknowledges it to the executor, and an ACK is checkpointed before the next update goes out).
If `persist` raises, nothing changes. The callback given to the constructor is the default; a
call may pass its own (the agent refuses an executor's update it cannot checkpoint, but keeps
its own updates in memory).

Per task (Mesos' TaskStatusUpdateStream):
- only the head update is in flight; it is sent at once, then again after `initial`, `2*initial`,
  ... capped at `maximum` seconds, until the master's ACKNOWLEDGE for its uuid arrives;
- an update whose uuid was seen before is a duplicate and is dropped;
- an ACKNOWLEDGE for anything but the head's uuid is ignored (duplicate or unexpected);
- once a terminal update is acknowledged the stream is terminated and rejects later updates.

Updates are TaskStatus values with a uuid; their `raw` is what is checkpointed and sent
(protocol.py). A snapshot is JSON (`task.updates`, checkpoint.py): the pending statuses as sent,
the uuids seen as base64.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from daemons.protocols import JSON
from daemons.protocols import fields as f
from daemons.protocols.models import TaskStatus
from daemons.protocols.states import is_terminal

_SEEN_LIMIT = 512  # uuids remembered per task for duplicate detection


@dataclass
class TaskStream:
    framework_id: str
    task_id: str
    pending: list[TaskStatus] = field(default_factory=list)  # oldest first; [0] is in flight
    seen: list[bytes] = field(default_factory=list)  # uuids
    terminated: bool = False
    latest_state: str | None = None  # of the last update accepted (acknowledged or not)
    next_send: float | None = None
    backoff: float = 0.0

    def snapshot(self) -> JSON:
        return {
            "framework_id": self.framework_id,
            "task_id": self.task_id,
            "pending": [status.raw for status in self.pending],
            "seen": [f.b64(uuid) for uuid in self.seen],
            "terminated": self.terminated,
            "latest_state": self.latest_state,
        }

    @staticmethod
    def from_snapshot(data: Any, where: str = "task.updates") -> TaskStream:
        """A stream from its snapshot; ProtocolError naming the field when it is not one."""
        if not isinstance(data, dict):
            raise f.ProtocolError(f"{where}: not an object", where)
        pending = f.objects(data, "pending", where)
        seen = f.strings(data, "seen", where)
        try:
            uuids = [binascii.a2b_base64(text) for text in seen]
        except binascii.Error:
            raise f.fail(where, "seen", "must be a list of base64 uuids") from None
        return TaskStream(
            framework_id=f.string(data, "framework_id", where),
            task_id=f.string(data, "task_id", where),
            pending=[TaskStatus.parse(raw, f"{where}.pending[]") for raw in pending],
            seen=uuids,
            terminated=bool(f.opt_bool(data, "terminated", where)),
            latest_state=f.opt_string(data, "latest_state", where),
        )


Persist = Callable[[TaskStream], None]


def _nothing(_: TaskStream) -> None:
    return None


class StatusUpdateManager:
    def __init__(self, initial: float, maximum: float, persist: Persist = _nothing) -> None:
        self.initial = initial
        self.maximum = maximum
        self.persist = persist
        self._streams: dict[tuple[str, str], TaskStream] = {}

    def update(
        self, framework_id: str, status: TaskStatus, now: float, persist: Persist | None = None
    ) -> bool:
        """Queue an update (it must carry a uuid); False when it is a duplicate or the stream is
        terminated."""
        task_id, uuid = status.task_id, status.uuid
        if uuid is None:
            raise ValueError(f"an update of task {task_id} without a uuid cannot be acknowledged")
        stream = self._streams.get((framework_id, task_id)) or TaskStream(framework_id, task_id)
        if uuid in stream.seen or stream.terminated:
            return False
        candidate = TaskStream(
            framework_id,
            task_id,
            pending=[*stream.pending, status],
            seen=[*stream.seen, uuid][-_SEEN_LIMIT:],
            terminated=False,
            latest_state=status.state,
            next_send=stream.next_send,
            backoff=stream.backoff,
        )
        (persist or self.persist)(candidate)
        if not stream.pending:
            candidate.next_send, candidate.backoff = now, self.initial
        self._streams[(framework_id, task_id)] = candidate
        return True

    def acknowledge(
        self,
        framework_id: str,
        task_id: str,
        uuid: bytes,
        now: float,
        persist: Persist | None = None,
    ) -> TaskStatus | None:
        """Drop the head if `uuid` is its uuid; returns the acknowledged status, else None."""
        stream = self._streams.get((framework_id, task_id))
        if stream is None or not stream.pending or stream.pending[0].uuid != uuid:
            return None
        acked = stream.pending[0]
        rest = stream.pending[1:]
        candidate = TaskStream(
            framework_id,
            task_id,
            pending=rest,
            seen=stream.seen,
            terminated=is_terminal(acked.state),
            latest_state=stream.latest_state,
            next_send=now if rest else None,
            backoff=self.initial,
        )
        (persist or self.persist)(candidate)
        self._streams[(framework_id, task_id)] = candidate
        return acked

    def due(self, now: float) -> list[tuple[str, TaskStatus]]:
        """Heads whose (re)send time has come; schedules each one's next retry."""
        out: list[tuple[str, TaskStatus]] = []
        for stream in self._streams.values():
            if stream.pending and stream.next_send is not None and stream.next_send <= now:
                out.append((stream.framework_id, stream.pending[0]))
                stream.next_send = now + stream.backoff
                stream.backoff = min(stream.backoff * 2, self.maximum)
        return out

    def next_deadline(self) -> float | None:
        times = [s.next_send for s in self._streams.values() if s.pending and s.next_send]
        return min(times, default=None)

    def resume(self, now: float) -> None:
        """After (re)subscribing: send every head now, with the backoff reset."""
        for stream in self._streams.values():
            if stream.pending:
                stream.next_send, stream.backoff = now, self.initial

    def recover(self, stream: TaskStream, now: float) -> None:
        """Adopt a checkpointed stream (after a restart); its head goes out on `resume`."""
        stream.next_send = now if stream.pending else None
        stream.backoff = self.initial
        self._streams[(stream.framework_id, stream.task_id)] = stream

    def get(self, framework_id: str, task_id: str) -> TaskStream | None:
        return self._streams.get((framework_id, task_id))

    def forget(self, framework_id: str, task_id: str) -> None:
        self._streams.pop((framework_id, task_id), None)

    def cleanup(self, framework_id: str) -> None:
        """A removed framework's updates can never be acknowledged: drop them."""
        for key in [k for k in self._streams if k[0] == framework_id]:
            del self._streams[key]

    def pending(self) -> Iterator[tuple[str, TaskStatus]]:
        for stream in self._streams.values():
            for status in stream.pending:
                yield stream.framework_id, status
