"""An in-memory sliding-window rate limiter (per process).

Used for `POST /auth/token`: each request counts against several keys (the
normalized email and the client address); it is refused when any key has
used its allowance in the last window. Refused requests are not counted, so
a client that waits for `Retry-After` gets in.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

from interfaces.http.errors import HttpProblem

SWEEP_EVERY = 1024


class RateLimited(HttpProblem):
    def __init__(self, retry_after: float) -> None:
        seconds = max(1, math.ceil(retry_after))
        super().__init__(
            429,
            "rate-limited",
            f"too many requests; retry in {seconds} s",
            {"Retry-After": str(seconds)},
        )


class SlidingWindowLimiter:
    def __init__(
        self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._calls = 0

    def hit(self, keys: Sequence[str]) -> None:
        """Count one request against every key, or raise RateLimited."""
        now = self.clock()
        with self._lock:
            self._calls += 1
            if self._calls % SWEEP_EVERY == 0:
                self._sweep(now)
            windows = [self._window(key, now) for key in keys]
            waits = [w[0] + self.window - now for w in windows if len(w) >= self.limit]
            if waits:
                raise RateLimited(max(waits))
            for hits in windows:
                hits.append(now)

    def _window(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def _sweep(self, now: float) -> None:
        # Keys not seen for a whole window hold nothing: drop them (bounded memory).
        for key in [
            k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window
        ]:
            del self._hits[key]
