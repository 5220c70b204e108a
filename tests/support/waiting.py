"""Waiting for a condition in tests: poll with a short pause, fail at a deadline.

Never a fixed sleep: the test moves on as soon as the condition holds, and a
busy machine only makes it slower, not flaky.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


def eventually(
    condition: Callable[[], Any], timeout: float = 10.0, what: str = "", pause: float = 0.01
) -> Any:
    """Poll until `condition()` is truthy and return it; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    idle = threading.Event()
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        idle.wait(pause)
    return result


def wait_until(condition: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    """Poll `condition` until true; fail after `timeout` seconds."""
    eventually(condition, timeout, what, pause=0.005)
