"""Waking idle workers when jobs arrive, and telling them which kinds arrived.

The queue NOTIFYs the job's kind on every enqueue (any process). Each worker
has a `Bell`: rung with that kind, it wakes the worker and remembers the
kind, so the worker claims only the kinds that may have work instead of
polling every kind after every job (most such claims come back empty: the
next step of a URL is usually handed to the worker that finished the last).
"""

from __future__ import annotations

import threading

EVERY_KIND = ""  # a ring without a kind (a reconnect): any kind may have work


class Bell:
    """One worker's wake-up: set when jobs arrive, with the kinds that arrived."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._kinds: set[str] = set()
        self._lock = threading.Lock()

    def ring(self, kind: str = EVERY_KIND) -> None:
        with self._lock:
            self._kinds.add(kind)
        self._event.set()

    def take(self) -> set[str]:
        """The kinds rung since the last take (EVERY_KIND among them: any), without waiting."""
        with self._lock:
            kinds, self._kinds = self._kinds, set()
            self._event.clear()
        return kinds

    def wait(self, seconds: float) -> set[str] | None:
        """Wait up to `seconds` for a ring: the kinds rung, or None on timeout."""
        if not self._event.wait(seconds):
            return None
        return self.take()


class Doorbell:
    """Rings every worker's bell (wired to the queue's notifications)."""

    def __init__(self) -> None:
        self._bells: list[Bell] = []
        self._lock = threading.Lock()

    def new_bell(self) -> Bell:
        bell = Bell()
        with self._lock:
            self._bells.append(bell)
        return bell

    def ring(self, kind: str = EVERY_KIND) -> None:
        with self._lock:
            bells = list(self._bells)
        for bell in bells:
            bell.ring(kind)
