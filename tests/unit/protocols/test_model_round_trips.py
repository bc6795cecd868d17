"""parse(to_json(x)) == x for every model, also through JSON text (what crosses the wire)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from daemons.protocols.models import (
    AgentInfo,
    ExecutorInfo,
    FrameworkInfo,
    Offer,
    Task,
    TaskInfo,
    TaskStatus,
)
from tests.unit.protocols import strategies as s

MODELS: list[tuple[Any, st.SearchStrategy[Any]]] = [
    (TaskInfo, s.task_infos()),
    (ExecutorInfo, s.executor_infos()),
    (TaskStatus, s.task_statuses),
    (Offer, s.offers),
    (FrameworkInfo, s.framework_infos),
    (AgentInfo, s.agent_infos),
    (Task, s.tasks()),
]


def _round_trip(model: Any, value: Any, through: Callable[[Any], Any]) -> None:
    wire = through(value.to_json())
    parsed = model.parse(wire)
    assert parsed == value
    assert parsed.raw is wire  # the JSON it came from, not a copy


@settings(max_examples=60)
@given(st.data())
def test_every_model_survives_to_json_and_parse(data: st.DataObject) -> None:
    for model, values in MODELS:
        _round_trip(model, data.draw(values, label=model.__name__), lambda wire: wire)


@settings(max_examples=60)
@given(st.data())
def test_every_model_survives_the_wire(data: st.DataObject) -> None:
    for model, values in MODELS:
        value = data.draw(values, label=model.__name__)
        _round_trip(model, value, lambda wire: json.loads(json.dumps(wire)))


@given(s.task_statuses)
def test_equality_and_hash_ignore_raw(status: TaskStatus) -> None:
    parsed = TaskStatus.parse(dict(status.to_json(), some_future_field=[1]))
    assert parsed == status
    assert hash(parsed) == hash(status)
    assert "some_future_field" not in repr(parsed)
