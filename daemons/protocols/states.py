"""Task states (Mesos' TaskState) and the sets the master, agent and clients reason with."""

from __future__ import annotations

# A terminal state never changes: the task is done, and its resources are free.
TERMINAL_STATES = frozenset(
    {
        "TASK_FINISHED",
        "TASK_FAILED",
        "TASK_KILLED",
        "TASK_ERROR",
        "TASK_DROPPED",
        "TASK_GONE",
        "TASK_GONE_BY_OPERATOR",
        # Not terminal for a PARTITION_AWARE framework (the task may come back), but Mesos tells
        # frameworks without that capability to treat it as final, and releases its resources.
        "TASK_LOST",
    }
)
# States a framework without PARTITION_AWARE never sees: the master sends TASK_LOST instead.
PARTITION_AWARE_STATES = frozenset(
    {"TASK_DROPPED", "TASK_UNREACHABLE", "TASK_GONE", "TASK_GONE_BY_OPERATOR", "TASK_UNKNOWN"}
)
# Every state, in the order Mesos declares them (the order metrics and state JSON list them).
ALL_TASK_STATES = (
    "TASK_STAGING",
    "TASK_STARTING",
    "TASK_RUNNING",
    "TASK_KILLING",
    "TASK_FINISHED",
    "TASK_KILLED",
    "TASK_FAILED",
    "TASK_LOST",
    "TASK_ERROR",
    "TASK_DROPPED",
    "TASK_UNREACHABLE",
    "TASK_GONE",
    "TASK_GONE_BY_OPERATOR",
    "TASK_UNKNOWN",
)
TASK_STATES = frozenset(ALL_TASK_STATES)


def is_terminal(state: str) -> bool:
    return state in TERMINAL_STATES
