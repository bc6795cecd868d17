"""The unmodified Marathon and Metronome Python clients, imported the way a user on 3.11 must.

marathon-python 0.13.0 uses `collections.Iterable`, removed in Python 3.10; users alias it in a
sitecustomize before the import, and so do we (nothing else is patched). dcos-metronome 0.3.0
works only with the pure-Python protobuf 3.20.3 (pinned in requirements-dev.txt).
"""

from __future__ import annotations

import collections
import collections.abc
from types import ModuleType


def marathon_module() -> ModuleType:
    for name in ("Iterable", "Mapping", "MutableMapping", "Sequence"):
        if not hasattr(collections, name):
            setattr(collections, name, getattr(collections.abc, name))
    import marathon

    return marathon


def metronome_module() -> ModuleType:
    import metronome

    return metronome
