"""Builders for Marathon unit tests: offers as the master sends them."""

from __future__ import annotations

import itertools

from daemons.mesos_client.events import Offer, parse_offer

_offer_ids = itertools.count(1)


def offer(host: str = "h1", agent: str = "a1", cpus: float = 4, mem: float = 4096) -> Offer:
    """An offer of unreserved cpus, mem, 1000 MB of disk and ports 31000-31100 (a new id each)."""
    return parse_offer(
        {
            "id": {"value": f"o{next(_offer_ids)}"},
            "framework_id": {"value": "f"},
            "agent_id": {"value": agent},
            "hostname": host,
            "resources": [
                {"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus}},
                {"name": "mem", "type": "SCALAR", "scalar": {"value": mem}},
                {"name": "disk", "type": "SCALAR", "scalar": {"value": 1000}},
                {
                    "name": "ports",
                    "type": "RANGES",
                    "ranges": {"range": [{"begin": 31000, "end": 31100}]},
                },
            ],
        }
    )
