"""ZooKeeper's four-letter words on the wire (`srvr`, `ruok`, `mntr`, …)."""

from __future__ import annotations

import socket

# The words Exhibitor's API relays; anything else is refused before a socket is opened.
WORDS = frozenset({"conf", "cons", "envi", "isro", "mntr", "ruok", "srvr", "stat", "wchs"})


def ask(host: str, port: int, word: str, timeout: float = 2.0) -> str | None:
    """The whole answer to `word`, or None when the server does not answer."""
    if word not in WORDS:
        raise ValueError(f"unknown four-letter word {word!r}")
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(word.encode("ascii"))
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except OSError:
        return None
    return b"".join(chunks).decode("utf-8", "replace")
