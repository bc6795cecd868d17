"""Ids in Mesos' shapes: framework `<master>-0000`, agent `<master>-S0`, offer `<master>-O0`.

The master id (a UUID) comes in from the entry point, so ids are deterministic in tests.
"""

from __future__ import annotations

import itertools
import socket
import struct
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from daemons.master.config import MasterConfig


def ip_as_uint32(ip: str) -> int:
    """MasterInfo.ip as Mesos writes it: the in_addr bytes read as a little-endian uint32."""
    try:
        packed = socket.inet_aton(ip)
    except OSError:
        return 0
    value: int = struct.unpack("<I", packed)[0]
    return value


class IdGenerator:
    def __init__(self, master_id: str) -> None:
        self.master_id = master_id
        self._frameworks = itertools.count()
        self._agents = itertools.count()
        self._offers = itertools.count()

    def framework_id(self) -> str:
        return f"{self.master_id}-{next(self._frameworks):04d}"

    def agent_id(self) -> str:
        return f"{self.master_id}-S{next(self._agents)}"

    def offer_id(self) -> str:
        return f"{self.master_id}-O{next(self._offers)}"

    def master_info(self, config: MasterConfig, version: str) -> dict[str, Any]:
        hostname = config.advertised_hostname
        return {
            "id": self.master_id,
            "ip": ip_as_uint32(config.ip),
            "port": config.port,
            "pid": f"master@{config.ip}:{config.port}",
            "hostname": hostname,
            "version": version,
            "address": {"hostname": hostname, "ip": config.ip, "port": config.port},
        }
