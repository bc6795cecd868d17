"""DNS label sanitization (RFC 1123 and RFC 952 modes), framework names as dotted fragments,
and the task hash of canonical names."""

from __future__ import annotations

import pytest

from daemons.mesos_dns.labels import agent_tail, domain_fragment, rfc952, rfc1123, task_hash


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("apiserver.myservice", "apiserver-myservice"),
        ("My_App", "my-app"),
        ("--web--", "web"),
        ("4web", "4web"),  # a digit may start an RFC 1123 label
        ("web server$1", "webserver1"),  # other characters are dropped
        ("Ünïcode", "ncode"),
        ("a" * 70, "a" * 63),
        ("a" * 62 + "-b-c", "a" * 62 + "b"),  # the cut's trailing '-' refilled from the rest
        ("a" * 62 + "-" * 10, "a" * 62),
        ("___", ""),
    ],
)
def test_rfc1123(name: str, label: str) -> None:
    assert rfc1123(name) == label


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("4abc123", "abc123"),  # must start with a letter
        ("-4abc123", "abc123"),
        ("Nightly.Backup_2026", "nightly-backup-2026"),
        ("nightly.backup.20261125010000ab3x9", "nightly-backup-202611250"),  # 24 characters
        ("hello" + "-" * 56 + "f", "hellof"),
        ("chronos with a space AND MIXED CASE-2.0.1", "chronoswithaspaceandmixe"),
        ("123", ""),
    ],
)
def test_rfc952(name: str, label: str) -> None:
    assert rfc952(name) == label


@pytest.mark.parametrize(
    ("name", "rfc1123_fragment", "rfc952_fragment"),
    [
        ("marathon", "marathon", "marathon"),
        ("Data_Pipeline.v2", "data-pipeline.v2", "data-pipeline.v2"),
        ("spark..Prod.", "spark.prod", "spark.prod"),  # empty parts dropped
        ("team.7even", "team.7even", "team.even"),
    ],
)
def test_framework_names_keep_their_dots(
    name: str, rfc1123_fragment: str, rfc952_fragment: str
) -> None:
    assert domain_fragment(name, rfc1123) == rfc1123_fragment
    assert domain_fragment(name, rfc952) == rfc952_fragment


@pytest.mark.parametrize(
    ("task_id", "expected"),
    [
        # SHA-1("test") = a94a8fe5…: bits 10101 00101 00101 01000 11111… = 21 5 5 8 31, which
        # the zbase32 alphabet "ybndrfg8ejkmcpqxot1uwisza345h769" spells i f f e 9.
        ("test", "iffe9"),
        # SHA-1("") = da39a3ee…: 11011 01000 11100 11010 00111… = 27 8 28 26 7 -> 5 e h 4 8.
        ("", "5eh48"),
        # The fixture's tasks (test_mesos_dns_records.py): SHA-1 = 366b2416… -> 00110 11001
        # 10101 10010 01000 = 6 25 21 18 8 -> g 3 i 1 e; SHA-1 = 948a73c1… -> 10010 10010
        # 00101 00111 00111 = 18 18 5 7 7 -> 1 1 f 8 8.
        ("web.1c0ffee0-0000-4000-8000-000000000001", "g3i1e"),
        ("ingest-0001", "11f88"),
    ],
)
def test_task_hash_is_zbase32_of_sha1(task_id: str, expected: str) -> None:
    assert task_hash(task_id) == expected


@pytest.mark.parametrize(
    ("agent_id", "tail"),
    [("8b3f6a0e-4f0c-4a8e-9d5e-2c1f7a9b3d10-S1", "s1"), ("S12", "s12"), ("a-b-", "")],
)
def test_agent_tail(agent_id: str, tail: str) -> None:
    assert agent_tail(agent_id) == tail
