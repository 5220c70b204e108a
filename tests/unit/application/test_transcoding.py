"""The msgspec decoder reads stored events exactly as the library's decoder does."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)

from application.transcoding import FastJSONTranscoder

pytestmark = pytest.mark.unit


def both() -> tuple[JSONTranscoder, FastJSONTranscoder]:
    library, fast = JSONTranscoder(), FastJSONTranscoder()
    for transcoder in (library, fast):
        for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
            transcoder.register(transcoding)
    return library, fast


STATES: list[Any] = [
    {"name": "n", "owner_id": uuid.uuid4(), "timestamp": datetime.now(UTC)},
    {"nested": {"ids": [uuid.uuid4(), {"at": datetime.now(UTC)}], "price": Decimal("1.10")}},
    {"_type_": "not a transcoding", "other": 1},  # two keys, but not a transcoded value
    {"list": [[1, 2.5, None, True], {"deep": [uuid.uuid4()]}], "empty": {}},
    {"text": 'ünïcode \u2028 and "quotes"', "big": 2**70 + 1},  # beyond 64 bits: the fallback
]


@pytest.mark.parametrize("state", STATES)
def test_fast_decode_equals_the_library_decode(state: Any) -> None:
    library, fast = both()
    stored = library.encode(state)

    assert fast.decode(stored) == library.decode(stored) == state


def test_nan_is_decoded_by_the_library_fallback() -> None:
    library, fast = both()

    assert str(fast.decode(b'{"x": NaN}')["x"]) == str(library.decode(b'{"x": NaN}')["x"])


def test_an_unknown_transcoding_fails_as_in_the_library() -> None:
    _, fast = both()

    with pytest.raises(TranscodingNotRegisteredError):
        fast.decode(b'{"x": {"_type_": "nope", "_data_": 1}}')
