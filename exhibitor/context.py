"""What every Exhibitor view needs from the app: its config, the shared config, four-letter words.

The store is opened lazily in the process that serves (gunicorn forks its worker after the
arbiter opened its own), one per process, and read on every request: the shared config is the
truth, not a copy cached here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from flask import current_app

from daemons.kit.errors import NotFound
from exhibitor import ensemble
from exhibitor.config import ExhibitorConfig
from exhibitor.properties import Properties
from exhibitor.rolling import target
from exhibitor.stores import ConfigStore, Versioned, read_or_seed

Ask = Callable[[str, int, str], "str | None"]
StoreFactory = Callable[[], ConfigStore]


def config() -> ExhibitorConfig:
    found: ExhibitorConfig = current_app.config["EXHIBITOR"]
    return found


def store() -> ConfigStore:
    holder: dict[str, Any] = current_app.config["EXHIBITOR_STORE"]
    with holder["lock"]:
        if holder.get("pid") != os.getpid():
            factory: StoreFactory = holder["factory"]
            holder["store"], holder["pid"] = factory(), os.getpid()
        opened: ConfigStore = holder["store"]
        return opened


def new_holder(factory: StoreFactory) -> dict[str, Any]:
    return {"lock": threading.Lock(), "factory": factory, "store": None, "pid": None}


def shared() -> Versioned:
    return read_or_seed(store(), config().properties)


def effective(found: Versioned) -> Properties:
    """The config this host runs now (the committed one when it runs none)."""
    return target(found.shared, config().hostname) or found.shared.config


def servers(found: Versioned) -> tuple[ensemble.Server, ...]:
    """The committed servers, and during a roll the ones it adds."""
    listed = {s.hostname: s for s in found.shared.config.servers}
    roll = found.shared.roll
    if roll is not None:
        for server in (*roll.before.servers, *roll.after.servers):
            listed.setdefault(server.hostname, server)
    return tuple(sorted(listed.values(), key=lambda s: s.server_id))


def server(found: Versioned, host: str) -> ensemble.Server:
    for known in servers(found):
        if known.hostname == host:
            return known
    raise NotFound(f"{host} is not a server of this ensemble")


def ask(found: Versioned, host: str, word: str) -> str | None:
    asker: Ask = current_app.config["EXHIBITOR_ASK"]
    return asker(host, found.shared.config.client_port, word)
