"""The `l4lb.thisdcos.directory` names: each named VIP's address (dcos-net's l4lb zone). Pure.

`<label>.<framework>.l4lb.thisdcos.directory` A -> the VIP's address, from the same VIP table
Minuteman programs (`daemons.kit.l4lb`): both compute it from the master's state, so the name
always leads to the address the kernel balances. IP VIPs have no name. `dclb.thisdcos.directory`
and the `thisdcos.global` forms are aliases of this zone (`dnsproxy.routing`).
"""

from __future__ import annotations

from daemons.kit.dns import zone
from daemons.kit.l4lb.table import VipTable

APEX = "l4lb.thisdcos.directory"


def vip_records(table: VipTable) -> tuple[zone.Record, ...]:
    names = {
        (f"{key.vip}.{APEX}", str(vip.service.address))
        for vip in table.vips.values()
        for key in vip.names
        if key.named
    }
    return tuple(zone.A(name, address) for name, address in sorted(names))
