"""AgentInfo: an agent as it registers with the master. Pure.

Built by the agent (SUBSCRIBE of docs/agent-protocol.md), parsed by the master, sent to
executors in SUBSCRIBED. `resources` is the agent's total, keyed by reservation role.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from daemons.protocols import JSON
from daemons.protocols import fields as f
from daemons.protocols.ids import id_json, opt_id_value
from daemons.protocols.models.parts import (
    AttributeValue,
    DomainInfo,
    attributes_json,
    read_attributes,
    read_resources,
    resources_json,
)
from daemons.protocols.resources import Resources

DEFAULT_AGENT_PORT = 5051


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentInfo:
    hostname: str
    port: int = DEFAULT_AGENT_PORT
    id: str | None = None  # none before the master first admitted the agent
    resources: Mapping[str, Resources] = field(default_factory=dict)
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    domain: DomainInfo | None = None
    raw: JSON = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def parse(cls, raw: Any, where: str = "agent_info") -> AgentInfo:
        if not isinstance(raw, dict):
            raise f.ProtocolError(f"{where}: not an object", where)
        port = f.opt_int(raw, "port", where)
        if port is not None and not 0 < port < 65536:
            raise f.fail(where, "port", "must be a port number (1-65535)")
        resources, _ = read_resources(raw, "resources", where)
        return cls(
            hostname=f.string(raw, "hostname", where),
            port=DEFAULT_AGENT_PORT if port is None else port,
            id=opt_id_value(raw, "id", where),
            resources=resources,
            attributes=read_attributes(raw, "attributes", where),
            domain=f.opt_message(raw, "domain", where, DomainInfo.parse),
            raw=raw,
        )

    def to_json(self) -> JSON:
        out: JSON = {
            "hostname": self.hostname,
            "port": self.port,
            "resources": resources_json(self.resources, None),
            "attributes": attributes_json(self.attributes),
        }
        if self.id is not None:
            out["id"] = id_json(self.id)
        f.put_messages(out, self, ("domain",))
        return out
