"""Pre-serialised pieces spliced into a document give exactly what json.dumps would."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from daemons.master import rawjson
from daemons.master.rawjson import Raw

leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8))
items = st.lists(st.dictionaries(st.text(max_size=5), leaf, max_size=3), max_size=4)


def compact(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


@given(st.lists(items, max_size=4), st.dictionaries(st.text(max_size=5), leaf, max_size=3))
def test_splice_equals_plain_dumps(lists, extra):
    with_raw = {"extra": extra, "lists": [Raw([compact(i) for i in li]) for li in lists]}
    plain = {"extra": extra, "lists": lists}
    assert rawjson.dumps(with_raw) == compact(plain)


def test_placeholder_text_in_user_data_is_not_spliced():
    doc = {"name": "@@raw0-0@@", "tasks": Raw([b'{"a":1}'])}
    assert json.loads(rawjson.dumps(doc)) == {"name": "@@raw0-0@@", "tasks": [{"a": 1}]}
