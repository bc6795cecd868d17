"""The dashboard's history: a bounded ring of samples, oldest first. Pure (no clock: every
sample carries the time it was taken).

One sample every `sample_interval` seconds for `history_seconds` is 720 samples an hour at
5 s: a few hundred bytes each, so the whole ring is well under a megabyte."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Sample:
    """Allocated (`*_used`) and total resources of the cluster at time `t` (epoch seconds)."""

    t: float
    cpus_used: float
    cpus_total: float
    mem_used: float
    mem_total: float
    disk_used: float
    disk_total: float
    gpus_used: float
    gpus_total: float
    nodes: int
    tasks_running: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Ring:
    """The last `capacity` samples; a sample older than the newest is refused (a clock step
    back would otherwise fold the chart over itself)."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._samples: deque[Sample] = deque(maxlen=capacity)

    def push(self, sample: Sample) -> bool:
        """Add `sample` (dropping the oldest when full); False if it is not newer than the
        newest."""
        if self._samples and sample.t <= self._samples[-1].t:
            return False
        self._samples.append(sample)
        return True

    def since(self, t: float) -> list[Sample]:
        """The samples taken after `t`, oldest first."""
        return [s for s in self._samples if s.t > t]

    def latest(self) -> Sample | None:
        return self._samples[-1] if self._samples else None

    def __len__(self) -> int:
        return len(self._samples)

    def __iter__(self) -> Iterator[Sample]:
        return iter(list(self._samples))
