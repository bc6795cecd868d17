"""Metronome's configuration (`/etc/dcos/metronome.toml`): the framework daemon's shared fields
(daemons/frameworks/config.py) and Metronome's own."""

from __future__ import annotations

from dataclasses import dataclass

from daemons.frameworks.config import FrameworkConfig


@dataclass(frozen=True)
class MetronomeConfig(FrameworkConfig):
    zk: str = "zk://127.0.0.1:2181/metronome"
    port: int = 9000
    framework_name: str = "metronome"
    # Finished runs kept per job and outcome (successfulFinishedRuns / failedFinishedRuns).
    history_limit: int = 20
    # Schedules are looked at on the wall clock's whole multiples of this many seconds (one that
    # divides 60 sees each minute's tick as it comes).
    tick_interval: float = 1.0

    def validate(self) -> list[str]:
        problems = super().validate()
        if self.tick_interval <= 0:
            problems.append("tick_interval: must be positive")
        if self.history_limit < 0:
            problems.append("history_limit: must not be negative")
        return problems
