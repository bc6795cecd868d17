"""The HTTP API's bodies, dcos-net's shapes. Pure.

`GET /v1/vips`: one entry per VIP declaration, `vip` its name (`<label>.<framework>.l4lb.
thisdcos.directory:<port>`) or its `<ip>:<port>`, with every backend (weight 0 too: dcos-net
lists what the agents publish), sorted; the ETag is a hash of the body.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from daemons.kit.l4lb.table import VipTable

ZONE = "l4lb.thisdcos.directory"


def vips(table: VipTable) -> list[dict[str, Any]]:
    entries = []
    for vip in table.vips.values():
        for key in vip.names:
            name = f"{key.vip}.{ZONE}" if key.named else key.vip
            entries.append(
                {
                    "vip": f"{name}:{key.port}",
                    "protocol": key.protocol,
                    "backend": [{"ip": b.ip, "port": b.port} for b in vip.backends],
                }
            )
    return sorted(entries, key=lambda e: (e["vip"], e["protocol"]))


def etag(body: object) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha1(text, usedforsecurity=False).hexdigest()
