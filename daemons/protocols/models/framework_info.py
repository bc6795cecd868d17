"""FrameworkInfo: who a framework is, sent on SUBSCRIBE and UPDATE_FRAMEWORK. Pure.

Defaults are Mesos' (no failover timeout, no checkpointing); `to_json` leaves out what equals its
default and what is unset, so a built FrameworkInfo is as small as a client would send it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from daemons.protocols import JSON
from daemons.protocols import fields as f
from daemons.protocols.ids import id_json, opt_id_value
from daemons.protocols.models.parts import Label, labels_json, read_labels


@dataclass(frozen=True, slots=True, kw_only=True)
class FrameworkInfo:
    user: str
    name: str
    id: str | None = None  # set once the master has assigned one (re-subscription, failover)
    failover_timeout: float = 0.0  # seconds the master waits for a disconnected scheduler
    checkpoint: bool = False
    role: str | None = None  # without MULTI_ROLE (Mesos' default "*")
    roles: tuple[str, ...] = ()  # with MULTI_ROLE
    hostname: str | None = None
    principal: str | None = None
    webui_url: str | None = None
    capabilities: tuple[str, ...] = ()  # capability types: MULTI_ROLE, PARTITION_AWARE, ...
    labels: tuple[Label, ...] = ()
    raw: JSON = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def parse(cls, raw: Any, where: str = "framework_info") -> FrameworkInfo:
        if not isinstance(raw, dict):
            raise f.ProtocolError(f"{where}: not an object", where)
        capabilities = f.objects(raw, "capabilities", where)
        path = f"{where}.capabilities[]"
        return cls(
            user=f.string(raw, "user", where),
            name=f.string(raw, "name", where),
            id=opt_id_value(raw, "id", where),
            failover_timeout=f.opt_number(raw, "failover_timeout", where) or 0.0,
            checkpoint=f.opt_bool(raw, "checkpoint", where) or False,
            role=f.opt_string(raw, "role", where),
            roles=f.strings(raw, "roles", where),
            hostname=f.opt_string(raw, "hostname", where),
            principal=f.opt_string(raw, "principal", where),
            webui_url=f.opt_string(raw, "webui_url", where),
            capabilities=tuple(
                kind for c in capabilities if (kind := f.opt_string(c, "type", path)) is not None
            ),
            labels=read_labels(raw, "labels", where),
            raw=raw,
        )

    def to_json(self) -> JSON:
        out: JSON = {"user": self.user, "name": self.name}
        if self.id is not None:
            out["id"] = id_json(self.id)
        if self.failover_timeout:
            out["failover_timeout"] = self.failover_timeout
        if self.checkpoint:
            out["checkpoint"] = True
        if self.roles:
            out["roles"] = list(self.roles)
        f.put_values(out, self, ("role", "hostname", "principal", "webui_url"))
        if self.capabilities:
            out["capabilities"] = [{"type": c} for c in self.capabilities]
        if self.labels:
            out["labels"] = labels_json(self.labels)
        return out

    def has_capability(self, capability: str) -> bool:
        return capability in self.capabilities

    @property
    def subscribed_roles(self) -> tuple[str, ...]:
        """The roles the framework takes offers for: with MULTI_ROLE its `roles` (each once,
        "*" when none), otherwise its one `role` ("*" when unset)."""
        if "MULTI_ROLE" in self.capabilities:
            return tuple(dict.fromkeys(self.roles)) or ("*",)
        return (self.role or "*",)
