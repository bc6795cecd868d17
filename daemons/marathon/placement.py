"""One round of offers against a plan's launches (Marathon's offer matcher). Pure.

Offers are taken in the order they came, apps by id: an app gets instances from an offer while
it still wants launches now (`Plan.launch`) and the offer has room for fewer than
`max_per_offer` tasks; the first instance that does not fit ends that app's turn on that offer
(`offers.match` says why, for the queue's summary). An offer that launches nothing is declined:
for `short_refuse` seconds while some app still waits (its resources may suit it once another
offer changes the picture), for `refuse_seconds` otherwise.

Constraints see every instance of the app where it runs (the agent as last offered), the ones
placed earlier in the round included. Task ids come from `new_id` (the caller's randomness);
new instances are TASK_STAGING from `now`, stamped with the app's config version (scaling keeps
it, so it never makes a running instance look old to a rolling restart).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from daemons.marathon import constraints, offers, pathid
from daemons.marathon.model import AppDefinition, Instance
from daemons.marathon.planning import Decline, Launch, OfferUse, Plan, State
from daemons.marathon.timestamps import marathon_ts
from daemons.protocols import JSON
from daemons.protocols.models import AttributeValue, Offer

# A declined offer comes back after this long while some app still waits for resources.
SHORT_REFUSE = 5.0

Agents = Mapping[str, tuple[str, Mapping[str, AttributeValue]]]


def place(
    plan: Plan,
    state: State,
    incoming: Sequence[Offer],
    *,
    now: float,
    new_id: Callable[[], str],
    max_per_offer: int,
    refuse_seconds: float,
    short_refuse: float = SHORT_REFUSE,
) -> Plan:
    """`plan` with an answer for every offer of `incoming` and the attempts made."""
    budget = plan.launch
    agents: dict[str, tuple[str, Mapping[str, AttributeValue]]] = dict(state.agents)
    for offer in incoming:
        agents[offer.agent_id] = (offer.hostname, dict(offer.attributes))
    # Where each constrained app's instances run, built once per round and extended as the
    # round places more (an app without constraints has nothing to look at).
    constrained = {
        app_id for app_id in budget if app_id in state.apps and state.apps[app_id].constraints
    }
    placed: dict[str, list[constraints.Placement]] = {app_id: [] for app_id in constrained}
    for inst in state.instances.values():
        if inst.app_id in constrained:
            placed[inst.app_id].extend(_placements([inst], agents))
    answers: list[Launch | Decline] = []
    uses: list[OfferUse] = []
    for offer in incoming:
        available = offer.resources
        here = constraints.Placement(offer.hostname, dict(offer.attributes))
        tasks: list[JSON] = []
        new: list[Instance] = []
        for app_id in sorted(budget):
            app = state.apps.get(app_id)
            if app is None:
                continue
            while budget[app_id] > 0 and len(tasks) < max_per_offer:
                task_id = f"{pathid.task_id_prefix(app_id)}.{new_id()}"
                found = offers.match(
                    app,
                    offer,
                    placed.get(app_id, ()),
                    task_id=task_id,
                    available=available,
                    version_label=marathon_ts(app.version),
                )
                if isinstance(found, offers.NoMatch):
                    uses.append(OfferUse(app_id, found.reasons, offer))
                    break
                uses.append(OfferUse(app_id))
                available = offers.subtract(available, found.consumed)
                tasks.append(found.task_info)
                new.append(_instance(app, task_id, offer, found.host_ports, now))
                if app_id in placed:
                    placed[app_id].append(here)
                budget[app_id] -= 1
        if tasks:
            answers.append(Launch(offer.id, tuple(new), tuple(tasks)))
        else:
            refuse = short_refuse if any(budget.values()) else refuse_seconds
            answers.append(Decline(offer.id, refuse))
    return dataclasses.replace(plan, answers=tuple(answers), offer_uses=tuple(uses))


def _placements(instances: Sequence[Instance], agents: Agents) -> list[constraints.Placement]:
    """Where each instance runs: its agent as last offered, or its own host if never seen."""
    out = []
    for inst in instances:
        host, attributes = agents.get(inst.agent_id, (inst.host, {}))
        out.append(constraints.Placement(host, attributes))
    return out


def _instance(
    app: AppDefinition, task_id: str, offer: Offer, host_ports: tuple[int, ...], now: float
) -> Instance:
    return Instance(
        task_id=task_id,
        app_id=app.id,
        version=app.last_config_change_at,
        agent_id=offer.agent_id,
        host=offer.hostname,
        ports=host_ports,
        service_ports=tuple(p.port for p in app.port_definitions),
        state="TASK_STAGING",
        staged_at=now,
    )
