"""Marathon's JSON views of the leader's state: apps with their counts, tasks, groups,
deployments and the launch queue. Only keys marathon-python 0.13.0 accepts (it builds its
models with `cls(**json)`: an unknown key is a TypeError in the user's program).
Callers hold the state's lock.
"""

from __future__ import annotations

from collections.abc import Iterable

from daemons.marathon import appjson, backoff, deployment, groups, health, planning
from daemons.marathon.marathon import Marathon, OfferStats
from daemons.marathon.model import AppDefinition, Instance
from daemons.marathon.timestamps import marathon_ts
from daemons.protocols import JSON
from daemons.protocols.models import AttributeValue, Offer

# Marathon's embed names: `apps.tasks` on the list, `app.tasks` on one app; clients mix them.
EMBEDS = ("tasks", "counts", "deployments", "readiness", "lastTaskFailure", "failures", "taskStats")


def embeds(values: Iterable[str]) -> frozenset[str]:
    out = set()
    for value in values:
        for prefix in ("apps.", "app.", "group.apps.", "group."):
            if value.startswith(prefix):
                out.add(value[len(prefix) :])
                break
    return frozenset(out)


def task_json(m: Marathon, inst: Instance) -> JSON:
    app = m.apps.get(inst.app_id)
    results = []
    if app is not None:
        for check, result in zip(app.health_checks, inst.health, strict=False):
            del check
            results.append(health.result_json(result, inst.task_id, inst.task_id, marathon_ts))
    return {
        "appId": inst.app_id,
        "healthCheckResults": results,
        "host": inst.host,
        "id": inst.task_id,
        "ipAddresses": [],
        "ports": list(inst.ports),
        "servicePorts": list(inst.service_ports),
        "slaveId": inst.agent_id,
        "stagedAt": marathon_ts(inst.staged_at),
        "startedAt": marathon_ts(inst.started_at) if inst.started_at is not None else None,
        "state": inst.state,
        "version": marathon_ts(inst.version),
        "localVolumes": [],
        "role": app.role if app is not None else "*",
    }


def counts(m: Marathon, app: AppDefinition) -> JSON:
    insts = m.instances_of(app.id)
    running = [i for i in insts if i.state == "TASK_RUNNING"]
    return {
        "tasksStaged": sum(1 for i in insts if i.state in ("TASK_STAGING", "TASK_STARTING")),
        "tasksRunning": len(running),
        "tasksHealthy": sum(1 for i in running if i.healthy is True),
        "tasksUnhealthy": sum(1 for i in running if i.healthy is False),
    }


def app_view(m: Marathon, app: AppDefinition, embed: frozenset[str], *, single: bool) -> JSON:
    """Counts and deployments always; tasks and lastTaskFailure always on a single app (as
    Marathon does), on the list when embedded."""
    extra: JSON = dict(counts(m, app))
    extra["deployments"] = [{"id": d} for d in m.deployments_of(app.id)]
    if single or "tasks" in embed:
        extra["tasks"] = [task_json(m, i) for i in m.instances_of(app.id)]
    if (single or "lastTaskFailure" in embed) and app.id in m.last_failures:
        extra["lastTaskFailure"] = m.last_failures[app.id]
    return appjson.app_json(app, extra=extra)


def group_view(m: Marathon, group_id: str, embed: frozenset[str]) -> JSON:
    return groups.group_json(
        group_id,
        m.apps,
        frozenset(m.explicit_groups),
        version=m.root_version,
        app_view=lambda a: app_view(m, a, embed, single=False),
    )


def deployments_view(m: Marathon) -> list[JSON]:
    return [deployment.deployment_json(p, ts=marathon_ts) for p in m.deployments.values()]


def queue_view(m: Marathon, *, last_unused_offers: bool) -> JSON:
    """Apps waiting for launches: those below their target count (or in a step that launches)."""
    now = m.now()
    queue = planning.plan(m.state(), now).queue  # the plan of this moment, not applied
    items = []
    for app_id, count in sorted(queue.items()):
        app = m.apps.get(app_id)
        if app is None:
            continue
        delay = m.delays.get(app_id)
        current = delay is not None and backoff.is_current(delay, app)
        stats = m.offer_stats.get(app_id)
        item: JSON = {
            "app": app_view(m, app, frozenset(), single=False),
            "count": count,
            "delay": backoff.queue_delay_json(delay if current else None, now),
            "since": marathon_ts(app.version),
            "processedOffersSummary": {
                "processedOffersCount": stats.processed if stats else 0,
                "unusedOffersCount": stats.unused if stats else 0,
                "lastUnusedOfferAt": marathon_ts(stats.last_unused_at)
                if stats and stats.last_unused_at
                else None,
                "lastUsedOfferAt": marathon_ts(stats.last_used_at)
                if stats and stats.last_used_at
                else None,
                "rejectSummaryLastOffers": [
                    {"reason": r, "declined": n, "processed": stats.processed}
                    for r, n in sorted(stats.reasons.items())
                ]
                if stats
                else [],
                "rejectSummaryLaunchAttempt": [],
            },
        }
        if last_unused_offers:
            item["lastUnusedOffers"] = unused_offers_json(stats)
        items.append(item)
    return {"queue": items}


def unused_offers_json(stats: OfferStats | None) -> list[JSON]:
    """`lastUnusedOffers`: each agent's last offer the app could not use, newest first, in
    Marathon's UnusedOffer shape (`{offer: {id, agentId, hostname, resources, attributes},
    timestamp, reason: [NoOfferMatchReason…]}`)."""
    if stats is None:
        return []
    found = sorted(stats.last_unused.values(), key=lambda entry: -entry[2])
    return [
        {"offer": offer_json(offer), "timestamp": marathon_ts(at), "reason": list(reasons)}
        for offer, reasons, at in found
    ]


def offer_json(offer: Offer) -> JSON:
    """Marathon's Offer (RAML): resources by name and role, attributes by name."""
    resources: list[JSON] = []
    for role, res in sorted(offer.resources.items()):
        for name, value in sorted(res.scalars.items()):
            resources.append({"name": name, "role": role, "scalar": value})
        for name, ranges in sorted(res.ranges.items()):
            spans = [{"begin": b, "end": e} for b, e in ranges]
            resources.append({"name": name, "role": role, "ranges": spans})
        for name, items in sorted(res.sets.items()):
            resources.append({"name": name, "role": role, "set": sorted(items)})
    return {
        "id": offer.id,
        "agentId": offer.agent_id,
        "hostname": offer.hostname,
        "resources": resources,
        "attributes": [attribute_json(k, v) for k, v in sorted(offer.attributes.items())],
    }


def attribute_json(name: str, value: AttributeValue) -> JSON:
    if isinstance(value, str):
        return {"name": name, "text": value}
    if isinstance(value, float | int):
        return {"name": name, "scalar": value}
    if isinstance(value, frozenset):
        return {"name": name, "set": sorted(value)}
    return {"name": name, "ranges": [{"begin": b, "end": e} for b, e in value]}
