"""The HTTP API's views of a record set (`/v1/axfr`, `/v1/enumerate`, `/v1/hosts/{host}`,
`/v1/services/{service}`), as the JSON bodies Mesos-DNS answers. Pure.

A name asked for is cleaned as Mesos-DNS cleans it: `.*` wildcards removed, lowercased, a
trailing dot added. Nothing found is still a 200 with one all-empty entry, as Mesos-DNS
answers; `/v1/services` echoes the service as it was asked.
"""

from __future__ import annotations

from typing import Any

from daemons.mesos_dns.config import MesosDnsConfig
from daemons.mesos_dns.records import RecordSet

JSON = dict[str, Any]


def fqdn(name: str) -> str:
    """A name as the record set keys it."""
    name = name.replace(".*", "").lower()
    return name if name.endswith(".") else name + "."


def axfr(records: RecordSet, config: MesosDnsConfig) -> JSON:
    """`/v1/axfr`: the zone and its SOA fields, as dcos-net polls it."""
    return {
        "TTL": config.ttl,
        "Serial": records.serial,
        "RefreshSeconds": config.refresh_seconds,
        "Mname": config.soa_mname,
        "Rname": config.soa_rname,
        "Domain": config.domain,
        "Records": {
            "As": {name: list(ips) for name, ips in records.a.items()},
            "AAAAs": {name: list(ips) for name, ips in records.aaaa.items()},
            "SRVs": {name: [str(t) for t in targets] for name, targets in records.srv.items()},
        },
    }


def enumerate_records(records: RecordSet) -> JSON:
    """`/v1/enumerate`: every framework of the state, its running tasks and their records."""
    return {
        "frameworks": [
            {
                "name": framework.name,
                "tasks": [
                    {
                        "name": task.name,
                        "id": task.id,
                        "records": [
                            {"name": name, "host": host, "rtype": rtype}
                            for name, host, rtype in task.records
                        ],
                    }
                    for task in framework.tasks
                ],
            }
            for framework in records.frameworks
        ]
    }


def hosts(records: RecordSet, host: str) -> list[JSON]:
    """`/v1/hosts/{host}`: the name's A then AAAA addresses."""
    name = fqdn(host)
    found = [*records.a.get(name, ()), *records.aaaa.get(name, ())]
    return [{"host": name, "ip": ip} for ip in found] or [{"host": "", "ip": ""}]


def services(records: RecordSet, service: str) -> list[JSON]:
    """`/v1/services/{service}`: each SRV target with its first A and first AAAA address."""
    out: list[JSON] = []
    for target in records.srv.get(fqdn(service), ()):
        for table in (records.a, records.aaaa):
            ips = table.get(target.target)
            if ips:
                out.append(
                    {
                        "service": service,
                        "host": target.target,
                        "ip": ips[0],
                        "port": str(target.port),
                    }
                )
    return out or [{"service": "", "host": "", "ip": "", "port": ""}]
