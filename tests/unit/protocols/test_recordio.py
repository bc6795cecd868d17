"""RecordIO: round trips, arbitrary splits, and the failure cases of stout's RecordIOTest."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemons.protocols.recordio import Decoder, RecordIOError, encode, encode_json

records = st.lists(st.binary(min_size=1, max_size=200), max_size=20)


@given(records, st.data())
def test_round_trip_through_any_split(items, data):
    stream = b"".join(encode(r) for r in items)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    decoder, out, last = Decoder(), [], 0
    for cut in [*cuts, len(stream)]:
        out.extend(decoder.decode(stream[last:cut]))
        last = cut
    decoder.finish()
    assert out == items


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash(blob):
    decoder = Decoder(max_record=1024)
    try:
        decoder.decode(blob)
        decoder.finish()
    except RecordIOError:
        pass


def test_json_records_are_compact_ascii_without_trailing_newline():
    data = encode_json({"type": "X", "text": "é"})
    assert data == b'28\n{"type":"X","text":"\\u00e9"}'


@pytest.mark.parametrize(
    "bad",
    [b"abc\n{}", b"-1\n{}", b"0\n", b"1000000000000\n", b"9" * 40],
)
def test_malformed_lengths_fail_and_stay_failed(bad):
    decoder = Decoder(max_record=1 << 20)
    with pytest.raises(RecordIOError):
        decoder.decode(bad)
    with pytest.raises(RecordIOError):
        decoder.decode(b"2\n{}")


def test_truncated_last_record_is_an_error():
    decoder = Decoder()
    assert decoder.decode(b"2\n{}5\n{") == [b"{}"]
    with pytest.raises(RecordIOError):
        decoder.finish()
