"""Replies remembered by the bytes of the query that asked them, for the UDP loop
(`daemons.kit.dns.server`): a query seen before is answered with its reply's bytes and the new
query's ID, without parsing it or asking `resolve` again.

Safe because a local reply is a function of the query's bytes and of the zones in force, and
nothing else: the memo is kept per *generation* of those zones (the daemon's `generation()`
returns the object it resolves from, its routing table or zone; a new object empties the
memo). Only replies that `resolve` made itself from its zones are kept (never a forwarded
answer, an error made by the server, or a reply with more than one answer or additional
record, whose order `resolve` shuffles per query). The key is the whole packet but its ID, so
case, flags and EDNS options all count. At most `limit` queries are kept (then the memo starts
afresh): a bound on memory, about 200 bytes per entry.

The loop counts what the memo answers in a `Tally` of its own thread (`Counters.tally`): no lock
per query.
"""

from __future__ import annotations

from collections.abc import Callable

_ONE_OR_NONE = (b"\x00\x00", b"\x00\x01")


class AnswerMemo:
    def __init__(self, generation: Callable[[], object], limit: int = 16384) -> None:
        self._generation = generation
        self._limit = limit
        # (the generation, its replies by query bytes but the ID): swapped in one assignment,
        # so a thread never reads one generation's replies as another's.
        self._state: tuple[object, dict[bytes, bytes]] = (None, {})

    def generation(self) -> object:
        return self._generation()

    def reply(self, packet: bytes) -> bytes | None:
        """The remembered reply to `packet` (with its ID), or None."""
        generation = self._generation()
        current, replies = self._state
        if generation is not current:
            self._state = (generation, {})
            return None
        tail = replies.get(packet[2:])
        return None if tail is None else packet[:2] + tail

    def remember(self, packet: bytes, reply: bytes, generation: object) -> None:
        """Keep `reply` to `packet`, made from `generation` (read before `resolve` was asked),
        when it can be given again as it is."""
        current, replies = self._state
        if generation is not current or len(reply) < 12:
            return
        if reply[6:8] not in _ONE_OR_NONE or reply[10:12] not in _ONE_OR_NONE:
            return  # answers or additional records that resolve shuffles
        if len(replies) >= self._limit:
            self._state = (current, {})
            return
        replies[packet[2:]] = reply[2:]

    def __len__(self) -> int:
        return len(self._state[1])
