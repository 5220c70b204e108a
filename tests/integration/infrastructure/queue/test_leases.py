"""Leases: a dead worker's job goes to another worker; the late one is fenced off."""

from __future__ import annotations

import uuid
from datetime import timedelta

import psycopg
import pytest

from infrastructure.postgres.queue import PostgresJobQueue
from tests.integration.infrastructure.queue.helpers import (
    count_jobs,
    eventually,
    expire_lease,
    job_row,
    make_due,
)
from tests.support.queues import NewQueue

pytestmark = pytest.mark.integration


def test_a_killed_workers_job_is_completed_once_by_another(new_queue: NewQueue, url: str) -> None:
    first, second = new_queue(), new_queue()
    job_id = first.enqueue("fetch", uuid.uuid4(), {"url": "https://example.org/"})
    [stale] = first.claim("fetch", "worker-1", lease_seconds=0.2)  # then "killed"
    assert second.claim("fetch", "worker-2", lease_seconds=30) == []  # lease still live

    fresh = eventually(lambda: second.claim("fetch", "worker-2", lease_seconds=30))[0]
    before = job_row(url, job_id)

    assert fresh.job_id == job_id
    assert fresh.lease_id != stale.lease_id
    assert fresh.attempt == 2
    assert not first.extend(stale, 600)
    assert not first.retry(stale, timedelta(hours=1))
    assert not first.complete(stale)
    assert job_row(url, job_id) == before  # the late worker changed nothing
    attempts = (("worker-2", second, fresh), ("worker-1", first, stale))
    completions = [name for name, worker, lease in attempts if worker.complete(lease)]
    assert completions == ["worker-2"]
    assert count_jobs(url) == 0


def test_an_expired_lease_is_claimable_without_the_watchdog(
    queue: PostgresJobQueue, url: str
) -> None:
    job_id = queue.enqueue("fetch", uuid.uuid4(), {})
    [stale] = queue.claim("fetch", "w1", lease_seconds=30)
    expire_lease(url, job_id)

    [fresh] = queue.claim("fetch", "w2", lease_seconds=30)

    assert fresh.lease_id != stale.lease_id
    assert job_row(url, job_id)["lease_owner"] == "w2"  # type: ignore[index]


def test_extend_holds_the_job_longer(queue: PostgresJobQueue, url: str) -> None:
    job_id = queue.enqueue("fetch", uuid.uuid4(), {})
    [lease] = queue.claim("fetch", "w", lease_seconds=1)

    assert queue.extend(lease, 600)

    row = job_row(url, job_id)
    assert row is not None
    assert row["leased_until"] - lease.leased_until > timedelta(seconds=500)
    assert queue.claim("fetch", "w2", lease_seconds=30) == []


def test_release_expired_frees_only_expired_leases(queue: PostgresJobQueue, url: str) -> None:
    for _ in range(3):
        queue.enqueue("fetch", uuid.uuid4(), {})
    leases = queue.claim("fetch", "w", lease_seconds=30, limit=3)
    for lease in leases[:2]:
        expire_lease(url, lease.job_id)
    assert queue.stats() == {"fetch": {"due": 2, "leased": 1, "waiting": 0}}

    assert queue.release_expired() == 2
    assert queue.release_expired() == 0

    assert queue.stats() == {"fetch": {"due": 2, "leased": 1, "waiting": 0}}
    assert all(job_row(url, lease.job_id)["lease_id"] is None for lease in leases[:2])  # type: ignore[index]
    assert not queue.complete(leases[0])  # released: the old holder is fenced off
    assert queue.complete(leases[2])


def test_stats_count_due_leased_and_waiting_per_kind(queue: PostgresJobQueue) -> None:
    for _ in range(3):
        queue.enqueue("fetch", uuid.uuid4(), {})
    queue.enqueue("fetch", uuid.uuid4(), {}, timedelta(hours=1))
    queue.enqueue("chunk", uuid.uuid4(), {})
    queue.claim("fetch", "w", lease_seconds=30)

    assert queue.stats() == {
        "chunk": {"due": 1, "leased": 0, "waiting": 0},
        "fetch": {"due": 2, "leased": 1, "waiting": 1},
    }


def test_job_reports_attempts_next_attempt_and_holder(queue: PostgresJobQueue) -> None:
    subject = uuid.uuid4()
    queue.enqueue("fetch", subject, {"n": 1}, host="example.org")
    [lease] = queue.claim("fetch", "w", lease_seconds=30)

    job = queue.job("fetch", subject)

    assert job is not None
    assert (job.job_id, job.attempts, job.host, job.leased_until) == (
        lease.job_id,
        1,
        "example.org",
        lease.leased_until,
    )


def test_a_lingering_batch_claim_waits_for_a_full_batch_or_its_oldest_job(
    queue: PostgresJobQueue, url: str
) -> None:
    queue.enqueue("vectorize", uuid.uuid4(), {})
    queue.enqueue("vectorize", uuid.uuid4(), {})

    # two due, four wanted, the oldest too young: the batch keeps filling
    assert queue.claim("vectorize", "w", 30, limit=4, linger_seconds=60) == []
    # a full batch goes at once
    assert len(queue.claim("vectorize", "w", 30, limit=2, linger_seconds=60)) == 2
    old = queue.enqueue("vectorize", uuid.uuid4(), {})
    assert queue.claim("vectorize", "w", 30, limit=4, linger_seconds=60) == []
    make_due(url, old)  # enqueued a second ago
    young = queue.enqueue("vectorize", uuid.uuid4(), {})
    later = queue.enqueue("vectorize", uuid.uuid4(), {}, timedelta(hours=1))  # not due
    # the oldest due job has waited long enough: it goes with the young one
    leases = queue.claim("vectorize", "w", 30, limit=4, linger_seconds=0.5)
    assert {lease.job_id for lease in leases} == {old, young}
    assert later not in {lease.job_id for lease in leases}
    with pytest.raises(ValueError, match="linger"):
        queue.claim("fetch", "w", 30, per_host_limit=2, linger_seconds=1)


def test_a_lingering_claim_leaves_the_young_rest_to_no_one(new_queue: NewQueue, url: str) -> None:
    """Two workers claim at once: the one that found a full batch takes it, the
    other does not take the young jobs left over (they keep filling a batch)."""
    first, second = new_queue(), new_queue()
    for _ in range(6):
        first.enqueue("vectorize", uuid.uuid4(), {})
    with psycopg.connect(url) as holder:  # a claim in flight holds four rows
        locked = holder.execute(
            "SELECT id FROM trawl_jobs WHERE kind = 'vectorize' ORDER BY due_at, id LIMIT 4"
            " FOR UPDATE"
        ).fetchall()
        assert len(locked) == 4
        assert second.claim("vectorize", "w2", 30, limit=4, linger_seconds=60) == []
    assert len(second.claim("vectorize", "w2", 30, limit=4, linger_seconds=60)) == 4
