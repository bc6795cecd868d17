"""What every Metronome blueprint shares: the running `Metronome`, its clock, the request's JSON
body (read by the kit: 415 unless it is `application/json`, 413, 400) and the `embed` names."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from daemons.kit import args
from daemons.kit.body import read_json
from daemons.metronome.jobinfo import parse_embeds
from daemons.metronome.metronome import Metronome


def metronome() -> Metronome:
    value: Metronome = current_app.extensions["metronome"]
    return value


def now() -> float:
    return metronome().clock()


def read_body() -> Any:
    return read_json(request)


def embeds() -> frozenset[str]:
    """`embed`, repeated or comma-separated (`embed=history,activeRuns`)."""
    return parse_embeds(args.repeated("embed", separator=","))
