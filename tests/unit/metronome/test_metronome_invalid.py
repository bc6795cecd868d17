"""The cores' validation problems are the kit's 422 with Metronome's `details` body."""

from __future__ import annotations

import pytest

from daemons.kit.errors import UnprocessableEntity
from daemons.metronome.validation import Invalid, Problems


def test_problems_end_as_one_422_listing_every_problem_per_path() -> None:
    p = Problems()
    p.add("/run/cpus", "must be at least 0.01")
    p.add("/run/cpus", "must be a number")
    with pytest.raises(Invalid) as raised:
        p.raise_if_any()
    err = raised.value
    assert isinstance(err, UnprocessableEntity) and err.status == 422
    assert err.body() == {
        "message": "Object is not valid",
        "details": [{"path": "/run/cpus", "errors": ["must be at least 0.01", "must be a number"]}],
    }


def test_no_problem_raises_nothing() -> None:
    Problems().raise_if_any()
