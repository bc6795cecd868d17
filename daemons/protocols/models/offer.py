"""Offer: resources of one agent offered to one framework. Pure.

Built by the master, parsed by schedulers (`daemons.mesos_client`). `resources` is keyed by
reservation role ("*" = unreserved); `allocation_role` is the role the offer was made to, set
for MULTI_ROLE frameworks only (as `allocation_info` on the offer and on each resource).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from daemons.protocols import JSON
from daemons.protocols import fields as f
from daemons.protocols.ids import id_json, id_value, id_values
from daemons.protocols.models.parts import (
    URL,
    AttributeValue,
    DomainInfo,
    attributes_json,
    read_attributes,
    read_resources,
    resources_json,
)
from daemons.protocols.resources import Resources


@dataclass(frozen=True, slots=True, kw_only=True)
class Offer:
    id: str
    framework_id: str
    agent_id: str
    hostname: str
    resources: Mapping[str, Resources]  # reservation role -> quantities
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    allocation_role: str | None = None
    url: URL | None = None  # the agent's own address
    executor_ids: tuple[str, ...] = ()  # executors of this framework already on the agent
    domain: DomainInfo | None = None  # the agent's fault domain
    raw: JSON = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def parse(cls, raw: Any, where: str = "offer") -> Offer:
        if not isinstance(raw, dict):
            raise f.ProtocolError(f"{where}: not an object", where)
        resources, _ = read_resources(raw, "resources", where)
        allocation = f.opt_obj(raw, "allocation_info", where)
        return cls(
            id=id_value(raw, "id", where),
            framework_id=id_value(raw, "framework_id", where),
            agent_id=id_value(raw, "agent_id", where),
            hostname=f.string(raw, "hostname", where),
            resources=resources,
            attributes=read_attributes(raw, "attributes", where),
            allocation_role=None
            if allocation is None
            else f.opt_string(allocation, "role", f"{where}.allocation_info"),
            url=f.opt_message(raw, "url", where, URL.parse),
            executor_ids=id_values(raw, "executor_ids", where),
            domain=f.opt_message(raw, "domain", where, DomainInfo.parse),
            raw=raw,
        )

    def to_json(self) -> JSON:
        out: JSON = {
            "id": id_json(self.id),
            "framework_id": id_json(self.framework_id),
            "agent_id": id_json(self.agent_id),
            "hostname": self.hostname,
        }
        f.put_messages(out, self, ("url", "domain"))
        out["resources"] = resources_json(self.resources, self.allocation_role)
        out["attributes"] = attributes_json(self.attributes)
        out["executor_ids"] = [id_json(e) for e in self.executor_ids]
        if self.allocation_role is not None:
            out["allocation_info"] = {"role": self.allocation_role}
        return out
