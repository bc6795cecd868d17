"""`daemons.kit.dns.memo`: what is remembered, under which generation, and for how long."""

from __future__ import annotations

import struct

from daemons.kit.dns.memo import AnswerMemo


def reply(qid: int, answers: int, additional: int = 0, body: bytes = b"q") -> bytes:
    return struct.pack("!HHHHHH", qid, 0x8180, 1, answers, 0, additional) + body


def query(qid: int, body: bytes = b"q") -> bytes:
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + body


def test_a_reply_is_given_again_with_the_new_query_id() -> None:
    generations = [object()]
    memo = AnswerMemo(lambda: generations[-1])
    assert memo.reply(query(1)) is None  # first sight of this generation
    memo.remember(query(1), reply(1, 1), memo.generation())
    assert memo.reply(query(7)) == reply(7, 1)
    assert memo.reply(query(7, b"other")) is None  # another question


def test_a_new_generation_forgets_and_a_reply_made_from_an_old_one_is_not_kept() -> None:
    generations = [object()]
    memo = AnswerMemo(lambda: generations[-1])
    memo.reply(query(1))
    old = memo.generation()
    memo.remember(query(1), reply(1, 1), old)
    generations.append(object())
    assert memo.reply(query(2)) is None and len(memo) == 0
    memo.remember(query(2), reply(2, 1), old)  # resolved while the zone changed: not kept
    assert memo.reply(query(3)) is None


def test_shuffled_or_short_replies_are_not_kept() -> None:
    memo = AnswerMemo(lambda: "zone")
    memo.reply(query(1))
    for made in (reply(1, 2), reply(1, 1, additional=2), b"\x00\x01"):
        memo.remember(query(1), made, "zone")
    assert len(memo) == 0
    memo.remember(query(1), reply(1, 0, additional=1), "zone")  # NXDOMAIN with an OPT: kept
    assert len(memo) == 1


def test_the_memo_is_bounded() -> None:
    memo = AnswerMemo(lambda: "zone", limit=3)
    memo.reply(query(0))
    for n in range(3):
        memo.remember(query(0, bytes([n])), reply(0, 1, body=bytes([n])), "zone")
    assert len(memo) == 3
    memo.remember(query(0, b"x"), reply(0, 1, body=b"x"), "zone")
    assert len(memo) == 0  # full: starts afresh
