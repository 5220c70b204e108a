"""Bells wake workers with the kinds of jobs that arrived; workers claim only those."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from application.ports import Lease
from application.urls.doorbell import EVERY_KIND, Bell, Doorbell
from application.urls.worker import Worker

pytestmark = pytest.mark.unit


def test_a_bell_remembers_the_kinds_rung_until_taken() -> None:
    bell = Bell()
    assert bell.wait(0.0) is None
    bell.ring("fetch")
    bell.ring("vectorize")
    assert bell.wait(0.0) == {"fetch", "vectorize"}
    assert bell.take() == set()


def test_the_doorbell_rings_every_workers_bell() -> None:
    doorbell = Doorbell()
    first, second = doorbell.new_bell(), doorbell.new_bell()
    doorbell.ring()
    assert first.take() == second.take() == {EVERY_KIND}


class CountingQueue:
    """A queue with no jobs that records every claim; stops the worker after `limit`."""

    def __init__(self, stop: threading.Event, limit: int) -> None:
        self.stop, self.limit, self.claims = stop, limit, list[str]()

    def claim(self, kind: str, *_: Any, **__: Any) -> list[Lease]:
        self.claims.append(kind)
        if len(self.claims) >= self.limit:
            self.stop.set()
        return []


def test_an_idle_worker_woken_for_one_kind_claims_only_that_kind() -> None:
    stop, bell = threading.Event(), Bell()
    queue = CountingQueue(stop, limit=20)
    worker = Worker(queue, pipeline=None, owner="w", wake=bell, idle_seconds=0.01)  # type: ignore[arg-type]
    kinds = list(worker.kinds)
    bell.ring("refresh")  # arrives while the first round of claims runs

    worker.run(stop)

    assert queue.claims[: len(kinds)] == kinds  # at start: every kind
    assert queue.claims[len(kinds)] == "refresh"  # woken for one kind: only that one
    # then, with nothing rung, a timeout polls every kind again (jobs due later)
    assert queue.claims[len(kinds) + 1 : 2 * len(kinds) + 1] == kinds
