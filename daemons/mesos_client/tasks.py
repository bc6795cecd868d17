"""The TaskInfo builders of the protocols layer, where frameworks written with this client have
always found them (`from daemons.mesos_client import command_task`)."""

from __future__ import annotations

from daemons.protocols.tasks import command_task, task_resources

__all__ = ["command_task", "task_resources"]
