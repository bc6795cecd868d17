"""DiscoveryInfo (what Mesos-DNS and the load balancer read of a task) and the container
messages (ContainerInfo of a task, ContainerStatus of an update). Pure.

Nothing in PyDCOS acts on a ContainerInfo beyond echoing it (there is only the Mesos
containerizer): the model holds its type and hostname, the rest stays in `raw`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from daemons.protocols import JSON
from daemons.protocols import fields as f
from daemons.protocols.ids import id_json, opt_id_value
from daemons.protocols.models.parts import Label, labels_json, read_labels


@dataclass(frozen=True, slots=True, kw_only=True)
class Port:
    number: int
    name: str | None = None
    protocol: str | None = None  # "tcp", "udp"
    visibility: str | None = None
    labels: tuple[Label, ...] = ()  # e.g. VIP_0=/web:80 for the load balancer

    @classmethod
    def parse(cls, raw: JSON, where: str = "port") -> Port:
        return cls(
            number=f.integer(raw, "number", where),
            name=f.opt_string(raw, "name", where),
            protocol=f.opt_string(raw, "protocol", where),
            visibility=f.opt_string(raw, "visibility", where),
            labels=read_labels(raw, "labels", where),
        )

    def to_json(self) -> JSON:
        out: JSON = {"number": self.number}
        f.put_values(out, self, ("name", "protocol", "visibility"))
        if self.labels:
            out["labels"] = labels_json(self.labels)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscoveryInfo:
    visibility: str | None = None  # FRAMEWORK, CLUSTER or EXTERNAL (Mesos requires it)
    name: str | None = None
    environment: str | None = None
    location: str | None = None
    version: str | None = None
    ports: tuple[Port, ...] = ()
    labels: tuple[Label, ...] = ()
    raw: JSON = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def parse(cls, raw: JSON, where: str = "discovery") -> DiscoveryInfo:
        ports = f.opt_obj(raw, "ports", where)
        path = f"{where}.ports.ports"
        return cls(
            visibility=f.opt_string(raw, "visibility", where),
            name=f.opt_string(raw, "name", where),
            environment=f.opt_string(raw, "environment", where),
            location=f.opt_string(raw, "location", where),
            version=f.opt_string(raw, "version", where),
            ports=()
            if ports is None
            else tuple(Port.parse(p, path) for p in f.objects(ports, "ports", f"{where}.ports")),
            labels=read_labels(raw, "labels", where),
            raw=raw,
        )

    def to_json(self) -> JSON:
        out: JSON = {}
        f.put_values(out, self, ("visibility", "name", "environment", "location", "version"))
        if self.ports:
            out["ports"] = {"ports": [p.to_json() for p in self.ports]}
        if self.labels:
            out["labels"] = labels_json(self.labels)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class ContainerInfo:
    type: str | None = None  # "MESOS" or "DOCKER" (Mesos requires it)
    hostname: str | None = None
    raw: JSON = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def parse(cls, raw: JSON, where: str = "container") -> ContainerInfo:
        return cls(
            type=f.opt_string(raw, "type", where),
            hostname=f.opt_string(raw, "hostname", where),
            raw=raw,
        )

    def to_json(self) -> JSON:
        out: JSON = {}
        f.put_values(out, self, ("type", "hostname"))
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class ContainerStatus:
    """`TaskStatus.container_status`: which container runs the task, and its executor's pid."""

    container_id: str | None = None
    executor_pid: int | None = None
    raw: JSON = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def parse(cls, raw: JSON, where: str = "container_status") -> ContainerStatus:
        return cls(
            container_id=opt_id_value(raw, "container_id", where),
            executor_pid=f.opt_int(raw, "executor_pid", where),
            raw=raw,
        )

    def to_json(self) -> JSON:
        out: JSON = {}
        if self.container_id is not None:
            out["container_id"] = id_json(self.container_id)
        f.put_values(out, self, ("executor_pid",))
        return out
