"""The HTTP API's bodies over a record set: /v1/axfr, /v1/enumerate, /v1/hosts, /v1/services,
with Mesos-DNS's "nothing found" shapes."""

from __future__ import annotations

from types import MappingProxyType

from daemons.mesos_dns.config import MesosDnsConfig
from daemons.mesos_dns.records import (
    EnumerableFramework,
    EnumerableTask,
    RecordSet,
    SrvTarget,
)
from daemons.mesos_dns.zone import axfr, enumerate_records, fqdn, hosts, services

RECORDS = RecordSet(
    a=MappingProxyType({
        "leader.mesos.": ("10.0.4.11",),
        "web.marathon.mesos.": ("10.0.6.21", "10.0.6.22"),
        "web-g3i1e-s0.marathon.mesos.": ("10.0.6.21",),
        "myapp-mygroup-rm4pp-s1.marathon.mesos.": ("9.0.1.5",),
    }),
    aaaa=MappingProxyType({"myapp-mygroup-rm4pp-s1.marathon.mesos.": ("fd01:b::5",)}),
    srv=MappingProxyType({
        "_leader._tcp.mesos.": (SrvTarget("leader.mesos.", 5050),),
        "_web._tcp.marathon.mesos.": (SrvTarget("web-g3i1e-s0.marathon.mesos.", 31000),
                                      SrvTarget("gone.marathon.mesos.", 31001)),
        "_http._myapp-mygroup._tcp.marathon.mesos.": (
            SrvTarget("myapp-mygroup-rm4pp-s1.marathon.mesos.", 31010),),
    }),
    frameworks=(
        EnumerableFramework("marathon", (EnumerableTask("web", "web.1", (
            ("web.marathon.mesos.", "10.0.6.21", "A"),
            ("_web._tcp.marathon.mesos.", "web-g3i1e-s0.marathon.mesos.:31000", "SRV"),
        )),)),
        EnumerableFramework("metronome", ()),
    ),
    serial=1795996800,
)  # fmt: skip


def test_axfr() -> None:
    assert axfr(RECORDS, MesosDnsConfig()) == {
        "TTL": 60,
        "Serial": 1795996800,
        "RefreshSeconds": 30,
        "Mname": "ns1.mesos.",
        "Rname": "root.ns1.mesos.",
        "Domain": "mesos",
        "Records": {
            "As": {
                "leader.mesos.": ["10.0.4.11"],
                "web.marathon.mesos.": ["10.0.6.21", "10.0.6.22"],
                "web-g3i1e-s0.marathon.mesos.": ["10.0.6.21"],
                "myapp-mygroup-rm4pp-s1.marathon.mesos.": ["9.0.1.5"],
            },
            "AAAAs": {"myapp-mygroup-rm4pp-s1.marathon.mesos.": ["fd01:b::5"]},
            "SRVs": {
                "_leader._tcp.mesos.": ["leader.mesos.:5050"],
                "_web._tcp.marathon.mesos.": [
                    "web-g3i1e-s0.marathon.mesos.:31000",
                    "gone.marathon.mesos.:31001",
                ],
                "_http._myapp-mygroup._tcp.marathon.mesos.": [
                    "myapp-mygroup-rm4pp-s1.marathon.mesos.:31010"
                ],
            },
        },
    }


def test_enumerate() -> None:
    assert enumerate_records(RECORDS) == {
        "frameworks": [
            {"name": "marathon", "tasks": [{"name": "web", "id": "web.1", "records": [
                {"name": "web.marathon.mesos.", "host": "10.0.6.21", "rtype": "A"},
                {"name": "_web._tcp.marathon.mesos.",
                 "host": "web-g3i1e-s0.marathon.mesos.:31000", "rtype": "SRV"},
            ]}]},
            {"name": "metronome", "tasks": []},
        ]
    }  # fmt: skip


def test_hosts() -> None:
    assert hosts(RECORDS, "Web.Marathon.Mesos") == [
        {"host": "web.marathon.mesos.", "ip": "10.0.6.21"},
        {"host": "web.marathon.mesos.", "ip": "10.0.6.22"},
    ]
    assert hosts(RECORDS, "myapp-mygroup-rm4pp-s1.marathon.mesos.") == [
        {"host": "myapp-mygroup-rm4pp-s1.marathon.mesos.", "ip": "9.0.1.5"},
        {"host": "myapp-mygroup-rm4pp-s1.marathon.mesos.", "ip": "fd01:b::5"},
    ]
    assert hosts(RECORDS, "nothing.mesos") == [{"host": "", "ip": ""}]


def test_services() -> None:
    # A target without an address is left out; the service is echoed as asked.
    assert services(RECORDS, "_web._tcp.Marathon.mesos") == [
        {"service": "_web._tcp.Marathon.mesos", "host": "web-g3i1e-s0.marathon.mesos.",
         "ip": "10.0.6.21", "port": "31000"},
    ]  # fmt: skip
    assert services(RECORDS, "_http._myapp-mygroup._tcp.marathon.mesos.") == [
        {"service": "_http._myapp-mygroup._tcp.marathon.mesos.",
         "host": "myapp-mygroup-rm4pp-s1.marathon.mesos.", "ip": "9.0.1.5", "port": "31010"},
        {"service": "_http._myapp-mygroup._tcp.marathon.mesos.",
         "host": "myapp-mygroup-rm4pp-s1.marathon.mesos.", "ip": "fd01:b::5", "port": "31010"},
    ]  # fmt: skip
    assert services(RECORDS, "_none._tcp.mesos") == [
        {"service": "", "host": "", "ip": "", "port": ""}
    ]


def test_names_are_cleaned_as_mesos_dns_cleans_them() -> None:
    assert fqdn("Leader.Mesos") == "leader.mesos."
    assert fqdn("web.*.marathon.mesos.") == "web.marathon.mesos."
