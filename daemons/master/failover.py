"""A new leader's recovery from the registry (Mesos' master failover): the decisions.

On election the leader reads the registry: admitted agents become *recovered* — expected back
within `agent_reregister_timeout` — unreachable and gone ones stay in the registry's view so that
reconciliation answers for their tasks, active frameworks are known again (disconnected, their
failover timeout counting from the election) and removed ones may never re-subscribe.

While an agent is recovered, reconciliation gives no answer for its tasks (it may still come
back with them). When the timeout fires, the agents still missing are marked unreachable through
the removal rate limit — unless more of them are missing than `recovery_agent_removal_limit`
allows, in which case the master fails over instead (a mass event is more likely a network
problem on this master's side than the loss of most of the cluster).

Pure: each decision is a value that `leadership.py` applies to the `Master`. It may import the
records (`model`, `registry`, `recorded`); not the `Master`, threads or the clock (`now` comes
in).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from daemons.master.model import Framework, with_id
from daemons.master.recorded import framework_info
from daemons.master.registry import ACTIVE, ADMITTED, Entry, RegistryState


@dataclass(frozen=True)
class Recovery:
    """What a new leader takes in from the registry when it is elected."""

    recovered: dict[str, Entry]  # admitted agents, expected back by `deadline`
    deadline: float
    frameworks: tuple[Framework, ...]  # active ones, known again and disconnected
    removed_frameworks: frozenset[str]  # they may never re-subscribe


def recovery(state: RegistryState, now: float, reregister_timeout: float) -> Recovery:
    """The registry read at election time `now`, as the new leader's starting point."""
    frameworks: list[Framework] = []
    removed: set[str] = set()
    for framework_id, entry in state.frameworks.items():
        if entry.state != ACTIVE:
            removed.add(framework_id)
            continue
        frameworks.append(
            Framework(
                framework_id=framework_id,
                info=with_id(framework_info(entry.info, "registry"), "id", framework_id),
                registered_time=entry.time,
                recovered=True,
                disconnected_at=now,  # the failover timeout counts from the election
            )
        )
    return Recovery(
        recovered=state.agents_in(ADMITTED),
        deadline=now + reregister_timeout,
        frameworks=tuple(frameworks),
        removed_frameworks=frozenset(removed),
    )


@dataclass(frozen=True)
class WindowEnd:
    """The re-register window has closed with `missing` agents still away. They are marked
    unreachable (through the removal rate limit), unless `too_many` says to fail over."""

    missing: dict[str, Entry]
    too_many: bool


def close_window(
    recovered: Mapping[str, Entry],
    recovered_total: int,
    deadline: float,
    now: float,
    removal_limit: float,
) -> WindowEnd | None:
    """None while the window is open or nobody is missing. `removal_limit` is the fraction of
    the `recovered_total` agents known at election that may be missing without a failover."""
    if not recovered or now < deadline:
        return None
    missing = dict(recovered)
    too_many = bool(recovered_total) and len(missing) / recovered_total > removal_limit
    return WindowEnd(missing, too_many)
