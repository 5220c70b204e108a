"""Many workers at once: every job claimed exactly once; hosts never over their limit."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable

import pytest

from application.ports import Lease
from infrastructure.postgres.queue import PostgresJobQueue
from tests.support.queues import NewQueue

pytestmark = pytest.mark.integration

JOBS = 200
WORKERS = 4


def run_workers(queues: list[PostgresJobQueue], work: Callable[[PostgresJobQueue], None]) -> None:
    barrier = threading.Barrier(len(queues))
    errors: list[BaseException] = []

    def run(queue: PostgresJobQueue) -> None:
        barrier.wait()
        try:
            work(queue)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(q,)) for q in queues]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    assert errors == []


def test_concurrent_workers_claim_every_job_exactly_once(new_queue: NewQueue) -> None:
    queues = [new_queue() for _ in range(WORKERS)]
    for _ in range(JOBS):
        queues[0].enqueue("fetch", uuid.uuid4(), {})
    claimed: list[Lease] = []
    completed: list[bool] = []
    deadline = time.monotonic() + 30

    def work(queue: PostgresJobQueue) -> None:
        limit = 1 + queues.index(queue)  # workers of different batch sizes
        while len(completed) < JOBS and time.monotonic() < deadline:
            for lease in queue.claim("fetch", f"w{limit}", lease_seconds=60, limit=limit):
                claimed.append(lease)
                completed.append(queue.complete(lease))

    run_workers(queues, work)

    counts = Counter(lease.job_id for lease in claimed)
    assert len(counts) == JOBS
    assert set(counts.values()) == {1}
    assert completed == [True] * JOBS
    assert queues[0].stats() == {}


def test_per_host_limit_caps_live_leases_until_one_completes(queue: PostgresJobQueue) -> None:
    for _ in range(5):
        queue.enqueue("fetch", uuid.uuid4(), {}, host="slow.example")

    def claim() -> list[Lease]:
        return queue.claim("fetch", "w", lease_seconds=30, limit=10, per_host_limit=2)

    first = claim()
    assert len(first) == 2
    assert claim() == []

    assert queue.complete(first[0])
    assert len(claim()) == 1
    assert claim() == []
    assert queue.stats() == {"fetch": {"due": 2, "leased": 2, "waiting": 0}}


def test_jobs_without_a_host_are_not_limited(queue: PostgresJobQueue) -> None:
    for _ in range(5):
        queue.enqueue("fetch", uuid.uuid4(), {})

    assert len(queue.claim("fetch", "w", lease_seconds=30, limit=10, per_host_limit=2)) == 5


def test_per_host_limit_applies_to_each_host(queue: PostgresJobQueue) -> None:
    for host in ("a.example", "b.example"):
        for _ in range(5):
            queue.enqueue("fetch", uuid.uuid4(), {"host": host}, host=host)

    leases = queue.claim("fetch", "w", lease_seconds=30, limit=10, per_host_limit=2)

    assert Counter(lease.payload["host"] for lease in leases) == {"a.example": 2, "b.example": 2}


def test_per_host_limit_holds_under_concurrent_claimers(new_queue: NewQueue) -> None:
    queues = [new_queue() for _ in range(WORKERS)]
    for _ in range(20):
        queues[0].enqueue("fetch", uuid.uuid4(), {}, host="one.example")
    claimed: list[Lease] = []

    def work(queue: PostgresJobQueue) -> None:
        for _ in range(10):
            claimed.extend(queue.claim("fetch", "w", lease_seconds=60, limit=3, per_host_limit=2))

    run_workers(queues, work)

    assert len(claimed) == 2
    assert queues[0].stats() == {"fetch": {"due": 18, "leased": 2, "waiting": 0}}
