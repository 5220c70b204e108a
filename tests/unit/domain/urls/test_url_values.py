"""The retry policy: exponential, jittered, capped, never before Retry-After."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.urls import values

pytestmark = pytest.mark.unit


def test_delays_double_from_thirty_seconds_without_jitter() -> None:
    delays = [values.retry_delay(attempt, 0.0) for attempt in (1, 2, 3)]

    assert delays == [timedelta(seconds=15), timedelta(seconds=30), timedelta(seconds=60)]


def test_retry_after_wins_when_it_is_longer() -> None:
    assert values.retry_delay(1, 0.5, timedelta(minutes=10)) == timedelta(minutes=10)


@given(st.integers(1, 10_000), st.floats(0, 1, exclude_max=True))
def test_delays_stay_between_half_and_the_whole_capped_delay(attempt: int, jitter: float) -> None:
    full = min(values.RETRY_CAP, values.RETRY_BASE * 2 ** min(attempt - 1, 32))

    assert full / 2 <= values.retry_delay(attempt, jitter) <= full


@pytest.mark.parametrize(("attempt", "jitter"), [(0, 0.0), (1, 1.0), (1, -0.1)])
def test_out_of_range_arguments_are_refused(attempt: int, jitter: float) -> None:
    with pytest.raises(ValueError):
        values.retry_delay(attempt, jitter)
