"""Mesos-DNS's config.json: keys matched ignoring case as Go does, defaults as DC/OS sets them,
a ValueError naming the key for every wrong value, and `/v1/config`'s Go field names."""

from __future__ import annotations

from typing import Any

import pytest

from daemons.mesos_dns.config import MesosCredentials, MesosDnsConfig

ZK = "zk://zk-1.zk:2181,zk-2.zk:2181,zk-3.zk:2181,zk-4.zk:2181,zk-5.zk:2181/mesos"


def test_defaults_are_dcos_values() -> None:
    config = MesosDnsConfig.from_json({"zk": ZK})
    assert (config.refresh_seconds, config.ttl, config.domain) == (30, 60, "mesos")
    assert (config.port, config.http_port) == (61053, 8123)
    assert config.ip_sources == ("host", "netinfo")
    assert (config.soa_mname, config.soa_rname) == ("ns1.mesos.", "root.ns1.mesos.")
    assert config.resolvers == ("8.8.8.8",)
    assert (config.dns_on, config.http_on, config.enumeration_on) == (True, True, True)


def test_an_operators_file_with_keys_in_any_case() -> None:
    config = MesosDnsConfig.from_json(
        {
            "zk": ZK,
            "masters": ["10.0.4.11:5050"],
            "refreshSeconds": 60,
            "TTL": 5,
            "Domain": "DCOS.Example",
            "httpport": 8124,
            "HTTPListener": "127.0.0.1",
            "dnson": True,
            "IPSOURCES": ["netinfo", "mesos", "host"],
            "EnforceRFC952": True,
            "SOAMname": "ns1.dcos.example",
            "SOARname": "root@dcos.example",
            "zoneResolvers": {"corp": ["10.1.0.2", "10.1.0.3:5353"]},
            "mesosCredentials": {"Principal": "dns", "secret": "s3cret"},
            "email": "root@mesos",  # legacy keys, ignored
            "ns": "ns1",
        }
    )
    assert config.masters == ("10.0.4.11:5050",)
    assert (config.refresh_seconds, config.ttl, config.http_port) == (60, 5, 8124)
    assert config.domain == "dcos.example"  # lowercased, as Mesos-DNS keeps it
    assert config.http_listener == "127.0.0.1"
    assert config.ip_sources == ("netinfo", "mesos", "host")
    assert config.enforce_rfc952 is True
    assert (config.soa_mname, config.soa_rname) == ("ns1.dcos.example.", "root.dcos.example.")
    assert config.zone_resolvers == {"corp": ("10.1.0.2", "10.1.0.3:5353")}
    assert config.mesos_credentials == MesosCredentials("dns", "s3cret")


def test_the_last_spelling_wins_and_null_keeps_the_default() -> None:
    config = MesosDnsConfig.from_json({"zk": ZK, "ttl": 5, "TTL": 7, "port": None})
    assert (config.ttl, config.port) == (7, 61053)
    assert MesosDnsConfig.from_json({"zk": ZK, "resolvers": None}).resolvers == ()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"refreshSeconds": "30"}, "refreshSeconds: expected an integer, got the string '30'"),
        ({"refreshSeconds": 30.5}, "refreshSeconds: expected an integer, got the number 30.5"),
        ({"ttl": True}, "ttl: expected an integer, got a boolean"),
        ({"TTL": 2**31}, "TTL: 2147483648 is out of range"),
        ({"srvRecordDefaultWeight": -1}, "srvRecordDefaultWeight: -1 is out of range"),
        ({"dnson": "yes"}, "dnson: expected true or false, got the string 'yes'"),
        ({"domain": 5}, "domain: expected a string, got the number 5"),
        ({"masters": "10.0.4.11:5050"}, "masters: expected a list of strings"),
        ({"resolvers": [8]}, "resolvers: expected a list of strings"),
        ({"zoneResolvers": {"corp": "10.1.0.2"}}, "zoneResolvers: expected an object of lists"),
        ({"mesosCredentials": {"user": "x"}}, "mesosCredentials.user: not a credentials field"),
        ({"refreshSecond": 30}, "refreshSecond: not a Mesos-DNS setting"),
        ({"IPSources": []}, "IPSources: no IP source"),
        ({"IPSources": ["host", "host"]}, "IPSources: an IP source is listed twice"),
        ({"ipsources": ["host", "rkt"]}, "ipsources: unknown IP source 'rkt'"),
        ({"masters": ["10.0.4.11"]}, "masters: '10.0.4.11' is not host:port"),
        ({"masters": ["a:5050", "a:5050"]}, "masters: 'a:5050' is listed twice"),
        ({"resolvers": ["dns.example"]}, "resolvers: 'dns.example' is not an IP address"),
        ({"resolvers": ["8.8.8.8", "8.8.8.8:53"]}, "resolvers: '8.8.8.8:53' is listed twice"),
        ({"zoneResolvers": {"mesos": ["10.1.0.2"]}}, "zoneResolvers: no zone resolvers for"),
        ({"zoneResolvers": {"a.corp": ["1.1.1.1"], "corp": ["1.1.1.2"]}}, "a.corp is masked"),
        ({"stateTimeoutSeconds": 0}, "stateTimeoutSeconds: must be positive"),
        ({"domain": "bad_domain"}, "domain: 'bad_domain' is not a valid domain name"),
        ({"dnson": False, "httpon": False}, "dnson/httpon: DNS or HTTP must be on"),
        ({"CertFile": "/etc/cert.pem"}, "CertFile/KeyFile: give both or neither"),
        ({"mesosAuthentication": "token"}, "mesosAuthentication: one of '', 'basic', 'iam'"),
    ],
)
def test_wrong_values_name_their_key(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        MesosDnsConfig.from_json({"zk": ZK, **data})
    assert message in str(raised.value)


def test_masters_or_zookeeper_are_needed() -> None:
    with pytest.raises(ValueError, match="Masters/Zk: give the Mesos masters or ZooKeeper"):
        MesosDnsConfig.from_json({})
    with pytest.raises(ValueError, match="config: expected a JSON object, got a list"):
        MesosDnsConfig.from_json([])  # type: ignore[arg-type]


def test_go_fields_are_what_v1_config_shows() -> None:
    config = MesosDnsConfig.from_json(
        {"zk": ZK, "masters": ["10.0.4.11:5050"], "mesosCredentials": {"principal": "dns",
                                                                        "secret": "s3cret"}}
    )  # fmt: skip
    fields = config.go_fields(soa_serial=1795996800, file="/opt/mesosphere/etc/mesos-dns.json")
    assert list(fields)[:6] == [
        "RefreshSeconds", "Port", "Timeout", "StateTimeoutSeconds", "ZkDetectionTimeout",
        "HttpPort",
    ]  # fmt: skip
    assert fields["RefreshSeconds"] == 30
    assert fields["Zk"] == ZK
    assert fields["Masters"] == ["10.0.4.11:5050"]
    assert fields["HttpPort"] == 8123
    assert (fields["DnsOn"], fields["HttpOn"]) == (True, True)
    assert fields["Resolvers"] == ["8.8.8.8"]
    assert fields["SOAMname"] == "ns1.mesos."
    assert fields["SOASerial"] == 1795996800
    assert fields["File"] == "/opt/mesosphere/etc/mesos-dns.json"
    assert fields["IPSources"] == ["host", "netinfo"]
    assert fields["MesosCredentials"] == {"Principal": "dns", "Secret": "******"}
    assert fields["ZoneResolvers"] == {}
    # What /v1/config shows reads back as the same config.
    assert MesosDnsConfig.from_json(fields) == config.__class__(
        **{**config.__dict__, "mesos_credentials": MesosCredentials("dns", "******")}
    )
