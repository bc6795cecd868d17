"""What the renderers (`state_json`, `metrics`) read of the master: a narrow, read-only view.

`Master` is one; a test may hand in any record with these attributes. The view names only the
records (`model.py`, the registry's `RegistryState`) and plain values, so a renderer needs neither
the `Master` (its lock, its allocator, its registry store) nor `config.py` (which brings in the
ZooKeeper client to check URLs). Pure: imports only `model`, `registry` and the wire layer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from daemons.master.model import Agent, Framework, Offer
from daemons.master.registry import RegistryState
from daemons.protocols import JSON


class ConfigView(Protocol):
    """The settings the renderers show (`/master/flags`, the state's header)."""

    @property
    def ip(self) -> str: ...

    @property
    def port(self) -> int: ...

    @property
    def advertised_hostname(self) -> str: ...

    @property
    def cluster(self) -> str: ...

    @property
    def zk(self) -> str: ...

    @property
    def work_dir(self) -> str: ...

    @property
    def allocation_interval(self) -> float: ...

    @property
    def offer_timeout(self) -> float: ...

    @property
    def agent_reregister_timeout(self) -> float: ...

    @property
    def min_allocatable_resources(self) -> str: ...


class MasterView(Protocol):
    """The master's records and identity, read under its lock."""

    @property
    def config(self) -> ConfigView: ...

    @property
    def master_id(self) -> str: ...

    @property
    def master_info(self) -> JSON: ...

    @property
    def leader_info(self) -> JSON | None: ...

    @property
    def is_leader(self) -> bool: ...

    @property
    def acting(self) -> bool: ...

    @property
    def start_time(self) -> float: ...

    @property
    def elected_time(self) -> float | None: ...

    @property
    def agents(self) -> Mapping[str, Agent]: ...

    @property
    def frameworks(self) -> Mapping[str, Framework]: ...

    @property
    def completed_frameworks(self) -> Sequence[Framework]: ...

    @property
    def offers(self) -> Mapping[str, Offer]: ...

    @property
    def counters(self) -> Mapping[str, int]: ...

    @property
    def registry_state(self) -> RegistryState: ...
