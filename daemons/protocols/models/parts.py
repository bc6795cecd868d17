"""Small pieces several models share: labels, attributes, resources, fault domains, URLs. Pure.

Each piece has a reader (`read_*`, raising `ProtocolError` with the field's path) and a writer
(`*_json`) that the models' `parse` and `to_json` call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from daemons.protocols import JSON
from daemons.protocols import fields as f
from daemons.protocols.fields import ProtocolError
from daemons.protocols.resources import Range, Resources, by_role_to_v1, from_v1

# --- labels ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Label:
    key: str
    value: str | None = None


def read_labels(parent: Mapping[str, Any], key: str, where: str) -> tuple[Label, ...]:
    """A `Labels` message (`{"labels": [{"key", "value"}]}`): () when absent."""
    holder = f.opt_obj(parent, key, where)
    if holder is None:
        return ()
    path = f"{where}.{key}"
    return tuple(
        Label(f.string(item, "key", path), f.opt_string(item, "value", path))
        for item in f.objects(holder, "labels", path)
    )


def labels_json(labels: tuple[Label, ...]) -> JSON:
    return {
        "labels": [
            {"key": label.key} if label.value is None else {"key": label.key, "value": label.value}
            for label in labels
        ]
    }


def labels_from(mapping: Mapping[str, str]) -> tuple[Label, ...]:
    """Labels from a dict, in key order (a deterministic wire form)."""
    return tuple(Label(k, v) for k, v in sorted(mapping.items()))


# --- attributes (AgentInfo.attributes, Offer.attributes) ---------------------------------------

# TEXT -> str, SCALAR -> float, RANGES -> ((begin, end), ...), SET -> frozenset of items.
AttributeValue = str | float | tuple[Range, ...] | frozenset[str]


def read_attributes(parent: Mapping[str, Any], key: str, where: str) -> dict[str, AttributeValue]:
    """Attribute name -> value; an attribute without a `type` is TEXT (Mesos' default)."""
    path = f"{where}.{key}"
    return dict(_attribute(raw, path) for raw in f.objects(parent, key, where))


def _attribute(raw: JSON, where: str) -> tuple[str, AttributeValue]:
    name = f.string(raw, "name", where)
    kind = raw.get("type", "TEXT")
    if kind == "SCALAR":
        value = f.opt_number(f.obj(raw, "scalar", where), "value", where)
        return name, 0.0 if value is None else value
    if kind == "RANGES":
        ranges = f.objects(f.obj(raw, "ranges", where), "range", where)
        return name, tuple(
            (int(f.opt_number(r, "begin", where) or 0), int(f.opt_number(r, "end", where) or 0))
            for r in ranges
        )
    if kind == "SET":
        return name, frozenset(str(i) for i in f.opt_list(f.obj(raw, "set", where), "item", where))
    return name, f.string(f.obj(raw, "text", where), "value", where)


def attributes_json(attributes: Mapping[str, AttributeValue]) -> list[JSON]:
    out: list[JSON] = []
    for name, value in attributes.items():
        if isinstance(value, str):
            out.append({"name": name, "type": "TEXT", "text": {"value": value}})
        elif isinstance(value, (int, float)):
            out.append({"name": name, "type": "SCALAR", "scalar": {"value": float(value)}})
        elif isinstance(value, tuple):
            ranges = [{"begin": b, "end": e} for b, e in value]
            out.append({"name": name, "type": "RANGES", "ranges": {"range": ranges}})
        else:
            out.append({"name": name, "type": "SET", "set": {"item": sorted(value)}})
    return out


# --- resources ---------------------------------------------------------------------------------


def read_resources(
    parent: Mapping[str, Any], key: str, where: str
) -> tuple[dict[str, Resources], str | None]:
    """A `Resource` list as reservation role -> quantities ("*" = unreserved), and the role it
    was allocated to (`allocation_info.role` of its first resource that has one; Mesos gives all
    resources of one task, executor or offer the same)."""
    items = parent.get(key)
    if items is None:
        return {}, None
    try:
        by_role = from_v1(items)
    except ValueError as err:
        raise ProtocolError(f"{where}: field {key!r}: {err}", f"{where}.{key}") from None
    for item in items:
        allocation = item.get("allocation_info")
        if isinstance(allocation, dict):
            role = allocation.get("role")
            if isinstance(role, str):
                return by_role, role
    return by_role, None


def resources_json(by_role: Mapping[str, Resources], allocation_role: str | None) -> list[JSON]:
    return by_role_to_v1(by_role, allocation_role)


# --- where things are --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DomainInfo:
    """`DomainInfo.fault_domain`: the region and zone of an agent (REGION_AWARE frameworks)."""

    region: str
    zone: str

    @classmethod
    def parse(cls, raw: JSON, where: str = "domain") -> DomainInfo | None:
        """None for a domain without a fault domain (the only kind Mesos has)."""
        fault = f.opt_obj(raw, "fault_domain", where)
        if fault is None:
            return None
        path = f"{where}.fault_domain"
        return cls(
            region=f.string(f.obj(fault, "region", path), "name", f"{path}.region"),
            zone=f.string(f.obj(fault, "zone", path), "name", f"{path}.zone"),
        )

    def to_json(self) -> JSON:
        return {"fault_domain": {"region": {"name": self.region}, "zone": {"name": self.zone}}}


@dataclass(frozen=True, slots=True)
class Address:
    port: int
    hostname: str | None = None
    ip: str | None = None

    @classmethod
    def parse(cls, raw: JSON, where: str = "address") -> Address:
        return cls(
            port=f.integer(raw, "port", where),
            hostname=f.opt_string(raw, "hostname", where),
            ip=f.opt_string(raw, "ip", where),
        )

    def to_json(self) -> JSON:
        out: JSON = {}
        f.put_values(out, self, ("hostname", "ip"))
        out["port"] = self.port
        return out


@dataclass(frozen=True, slots=True)
class URL:
    """Where an agent serves (`Offer.url`): `http://<address>/slave(1)`."""

    scheme: str
    address: Address
    path: str | None = None

    @classmethod
    def parse(cls, raw: JSON, where: str = "url") -> URL:
        return cls(
            scheme=f.string(raw, "scheme", where),
            address=Address.parse(f.obj(raw, "address", where), f"{where}.address"),
            path=f.opt_string(raw, "path", where),
        )

    def to_json(self) -> JSON:
        out: JSON = {"scheme": self.scheme, "address": self.address.to_json()}
        f.put_values(out, self, ("path",))
        return out
