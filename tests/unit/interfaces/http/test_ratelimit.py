"""The sliding window of the sign-in rate limit."""

from __future__ import annotations

import pytest

from interfaces.http.ratelimit import RateLimited, SlidingWindowLimiter

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_refuses_with_the_wait_until_a_slot_frees() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(2, window=60, clock=clock)
    limiter.hit(["a"])
    clock.now += 10
    limiter.hit(["a"])
    with pytest.raises(RateLimited) as refused:
        limiter.hit(["a"])
    assert refused.value.headers["Retry-After"] == "50"


def test_the_window_slides() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(1, window=60, clock=clock)
    limiter.hit(["a"])
    clock.now += 60.5
    limiter.hit(["a"])


def test_any_full_key_refuses_and_refusals_do_not_count() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(1, window=60, clock=clock)
    limiter.hit(["email:x", "client:1"])
    with pytest.raises(RateLimited):
        limiter.hit(["email:y", "client:1"])
    limiter.hit(["email:y", "client:2"])  # email:y was not counted when refused
