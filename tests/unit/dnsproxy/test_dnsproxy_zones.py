"""The local zones' records, and that a bad name costs only its own record."""

from __future__ import annotations

from daemons.kit.dns import zone
from dnsproxy import zones


def test_zk_has_five_names_whatever_the_masters() -> None:
    assert [r.name for r in zones.zk_records(["10.0.0.1"])] == [f"zk-{n}.zk" for n in range(1, 6)]
    assert zones.zk_records([]) == ()
    assert [r.ip for r in zones.zk_records(["10.0.0.1", "fd00::2"])] == [  # type: ignore[union-attr]
        "10.0.0.1", "fd00::2", "10.0.0.1", "fd00::2", "10.0.0.1"]  # fmt: skip
    assert isinstance(zones.zk_records(["fd00::2"])[0], zone.AAAA)


def test_every_zone_is_built_even_when_empty() -> None:
    built = zones.build_zones(zones.local_records(["10.0.0.1"]))
    assert set(built) == {
        "spartan", "zk", "localhost", "dcos.thisdcos.directory", "mesos.thisdcos.directory",
        "l4lb.thisdcos.directory", "thisdcos.directory", "thisdcos.global",
    }  # fmt: skip


def test_a_bad_name_is_left_out_alone() -> None:
    good = zone.A("ok.marathon.autoip.dcos.thisdcos.directory", "10.0.0.1")
    bad = [
        zone.A("x" * 64 + ".marathon.autoip.dcos.thisdcos.directory", "10.0.0.2"),
        zone.A("caf\u00e9.marathon.autoip.dcos.thisdcos.directory", "10.0.0.3"),
        zone.SRV("_s._tcp.dcos.thisdcos.directory", "a..b", 80),
    ]
    assert list(zones.valid([bad[0], good, *bad[1:]])) == [good]
    built = zones.build_zones(zones.local_records([], [*bad, good]))
    assert (wire_name(good.name), 1) in built["dcos.thisdcos.directory"].answers


def wire_name(name: str) -> bytes:
    from daemons.kit.dns import wire

    return wire.name_to_wire(name)


def test_a_zone_whose_records_did_not_change_is_kept() -> None:
    mesos = (zone.A("a.marathon.mesos.thisdcos.directory", "10.0.0.9"),)
    first = zones.local_records(["10.0.0.1"], (), mesos)
    built = zones.build_zones(first)
    task = (zone.A("a.marathon.autoip.dcos.thisdcos.directory", "10.0.0.2"),)
    second = zones.local_records(["10.0.0.1"], task, mesos)
    again = zones.build_zones(second, (first, built))
    assert again["mesos.thisdcos.directory"] is built["mesos.thisdcos.directory"]
    assert again["spartan"] is built["spartan"]  # equal records, made again: kept too
    assert again["dcos.thisdcos.directory"] is not built["dcos.thisdcos.directory"]
    whole = zones.build_zones(second)
    assert {apex: z.answers for apex, z in again.items()} == {
        apex: z.answers for apex, z in whole.items()
    }
