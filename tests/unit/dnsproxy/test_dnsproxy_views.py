"""The HTTP API's bodies over the local records, in Mesos-DNS's shapes."""

from __future__ import annotations

from daemons.kit.dns import zone
from dnsproxy import views, zones

RECORDS = zones.local_records(
    ["10.0.4.11"],
    (zone.A("web.marathon.autoip.dcos.thisdcos.directory", "10.0.6.21"),),
    (
        zone.A("web-ab12c-s0.marathon.mesos.thisdcos.directory", "10.0.6.21"),
        zone.SRV(
            "_web._tcp.marathon.mesos.thisdcos.directory",
            "web-ab12c-s0.marathon.mesos.thisdcos.directory",
            31000,
        ),
    ),
)


def test_records_lists_every_local_record() -> None:
    body = views.all_records(RECORDS)
    assert {"name": "ready.spartan.", "host": "127.0.0.1", "rtype": "A"} in body
    assert {"name": "localhost.", "host": "::1", "rtype": "AAAA"} in body
    assert {
        "name": "_web._tcp.marathon.mesos.thisdcos.directory.",
        "host": "web-ab12c-s0.marathon.mesos.thisdcos.directory.:31000",
        "rtype": "SRV",
    } in body
    assert len(body) == sum(len(rrs) for rrs in RECORDS.values())


def test_hosts() -> None:
    assert views.hosts(RECORDS, "Zk-1.zk") == [{"host": "zk-1.zk.", "ip": "10.0.4.11"}]
    assert views.hosts(RECORDS, "nope.zk") == [{"host": "", "ip": ""}]


def test_services() -> None:
    assert views.services(RECORDS, "_web._tcp.marathon.mesos.thisdcos.directory") == [
        {
            "service": "_web._tcp.marathon.mesos.thisdcos.directory",
            "host": "web-ab12c-s0.marathon.mesos.thisdcos.directory.",
            "ip": "10.0.6.21",
            "port": "31000",
        }
    ]
    assert views.services(RECORDS, "_nope._tcp") == [
        {"service": "", "host": "", "ip": "", "port": ""}
    ]
