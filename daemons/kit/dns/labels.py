"""DNS labels from the names Mesos carries (task, framework, discovery and port names), and
the short hash that makes a task's canonical name unique. Pure. Mesos-DNS's `.mesos` names and
the DNS proxy's `dcos.thisdcos.directory` names are both made with it.

Sanitization, as Mesos-DNS does it: ASCII letters are lowercased, letters and digits kept,
`-` `.` `_` become `-`, everything else (spaces, `$`, non-ASCII) is dropped; then the label's
leading characters that may not start one are stripped (`-`; and digits too in RFC 952 mode),
it is cut to its maximum length (63, or 24 in RFC 952 mode) and trailing `-` are stripped.
When that strip shortened a cut label, the room it freed is refilled from what followed the
cut (its own leading `-` skipped), so `hello` + 58 `-` + `f` is `hellof` in RFC 952 mode, not
`hello`. Mesos-DNS could end a refilled label with `-`; here it is stripped once more, so every
label is valid (the only difference, and only for names that long).

A framework name keeps its dots as label separators (`domain_fragment`): each part is
sanitized on its own and empty parts are dropped.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from functools import lru_cache

__all__ = [
    "RFC952_MAX",
    "RFC1123_MAX",
    "Label",
    "agent_tail",
    "domain_fragment",
    "label_function",
    "rfc952",
    "rfc1123",
    "task_hash",
]

# What a character becomes in a label ("" = dropped): the same table for both modes.
_MAP = {chr(c): "" for c in range(128)} | {
    **{c: c for c in "abcdefghijklmnopqrstuvwxyz0123456789"},
    **{c: c.lower() for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
    "-": "-",
    ".": "-",
    "_": "-",
}
_TABLE = str.maketrans(_MAP)

RFC1123_MAX, RFC952_MAX = 63, 24

# zbase32 (Zimmermann's human-oriented base32) groups bits as RFC 4648 base32 does, MSB first;
# only the alphabet differs, so a base32 encoding translated letter by letter is zbase32.
_ZBASE32 = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
    "ybndrfg8ejkmcpqxot1uwisza345h769",
)

Label = Callable[[str], str]


def _label(name: str, max_length: int, not_first: str) -> str:
    mapped = name.translate(_TABLE)
    if not name.isascii():
        mapped = "".join(c for c in mapped if c.isascii())
    trimmed = mapped.lstrip(not_first)
    head = trimmed[:max_length].rstrip("-")
    room = min(len(trimmed), max_length) - len(head)
    if room:
        head += trimmed[max_length:].lstrip("-")[:room]
    return head.rstrip("-")


@lru_cache(maxsize=65536)
def rfc1123(name: str) -> str:
    """The default mode: up to 63 characters, starting with a letter or digit."""
    return _label(name, RFC1123_MAX, "-")


@lru_cache(maxsize=65536)
def rfc952(name: str) -> str:
    """`EnforceRFC952`: up to 24 characters, starting with a letter."""
    return _label(name, RFC952_MAX, "-0123456789")


def label_function(enforce_rfc952: bool) -> Label:
    return rfc952 if enforce_rfc952 else rfc1123


def domain_fragment(name: str, label: Label) -> str:
    """A dotted name, each part a label (`My_Framework.v2` -> `my-framework.v2`)."""
    return ".".join(part for part in map(label, name.split(".")) if part)


@lru_cache(maxsize=65536)
def task_hash(task_id: str) -> str:
    """The first 5 characters of zbase32(SHA-1(task id)): 25 bits, enough to tell a framework's
    tasks of one name apart, in letters people can read back."""
    digest = hashlib.sha1(task_id.encode(), usedforsecurity=False).digest()
    return base64.b32encode(digest[:5]).decode().translate(_ZBASE32)[:5]


def agent_tail(agent_id: str) -> str:
    """The last `-` piece of an agent id, lowercased (`…-S1` -> `s1`)."""
    return agent_id.rpartition("-")[2].lower()
