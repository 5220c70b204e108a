"""Enqueuing: one live job per (kind, subject), atomic with the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from infrastructure.postgres.queue import PostgresJobQueue, enqueue_in
from tests.integration.infrastructure.queue.helpers import count_jobs

pytestmark = pytest.mark.integration


def test_enqueuing_twice_gives_one_job_claimed_once(queue: PostgresJobQueue) -> None:
    subject = uuid.uuid4()
    first = queue.enqueue("fetch", subject, {"n": 1})
    second = queue.enqueue("fetch", subject, {"n": 2})

    [lease] = queue.claim("fetch", "w1", lease_seconds=30, limit=10)

    assert first == second == lease.job_id
    assert (lease.subject_id, lease.kind, lease.payload, lease.attempt) == (
        subject,
        "fetch",
        {"n": 2},
        1,
    )
    assert queue.claim("fetch", "w2", lease_seconds=30) == []


def test_a_merge_keeps_the_earliest_not_before(queue: PostgresJobQueue) -> None:
    subject = uuid.uuid4()
    queue.enqueue("fetch", subject, {}, timedelta(hours=1))
    assert queue.claim("fetch", "w", lease_seconds=30) == []

    queue.enqueue("fetch", subject, {})  # now
    queue.enqueue("fetch", subject, {}, timedelta(hours=2))

    assert len(queue.claim("fetch", "w", lease_seconds=30)) == 1


def test_same_subject_under_other_kinds_are_other_jobs(queue: PostgresJobQueue) -> None:
    subject = uuid.uuid4()
    assert queue.enqueue("fetch", subject, {}) != queue.enqueue("extract", subject, {})
    assert queue.stats() == {
        "extract": {"due": 1, "leased": 0, "waiting": 0},
        "fetch": {"due": 1, "leased": 0, "waiting": 0},
    }


def test_enqueue_in_a_rolled_back_transaction_leaves_no_job(queue: PostgresJobQueue) -> None:
    with pytest.raises(RuntimeError), queue.datastore.transaction(commit=True) as curs:
        enqueue_in(curs, "fetch", uuid.uuid4(), {"url": "https://example.org/"})
        raise RuntimeError("the events failed to commit")

    assert queue.stats() == {}
    assert queue.claim("fetch", "w", lease_seconds=30) == []


def test_enqueue_in_a_committed_transaction_is_claimable(queue: PostgresJobQueue) -> None:
    subject = uuid.uuid4()
    with queue.datastore.transaction(commit=True) as curs:
        job_id = enqueue_in(curs, "fetch", subject, {"url": "https://example.org/"})

    [lease] = queue.claim("fetch", "w", lease_seconds=30)
    assert (lease.job_id, lease.subject_id) == (job_id, subject)


def test_a_naive_not_before_is_refused(queue: PostgresJobQueue) -> None:
    with pytest.raises(ValueError, match="timezone"):
        queue.enqueue("fetch", uuid.uuid4(), {}, datetime(2030, 1, 1))


def test_enqueued_while_leased_runs_once_more_after_completion(queue: PostgresJobQueue) -> None:
    subject = uuid.uuid4()
    queue.enqueue("fetch", subject, {"n": 1})
    [first] = queue.claim("fetch", "w", lease_seconds=30)

    queue.enqueue("fetch", subject, {"n": 2})  # e.g. a refresh asked for mid-fetch
    assert queue.claim("fetch", "w2", lease_seconds=30) == []  # still held
    assert queue.complete(first)

    [again] = queue.claim("fetch", "w", lease_seconds=30)
    assert (again.job_id, again.payload, again.attempt) == (first.job_id, {"n": 2}, 1)
    assert queue.complete(again)
    assert queue.stats() == {}


def test_delete_for_drops_the_subjects_jobs_and_fences_their_workers(
    queue: PostgresJobQueue, url: str
) -> None:
    subject, other = uuid.uuid4(), uuid.uuid4()
    queue.enqueue("fetch", subject, {})
    queue.enqueue("extract", subject, {})
    queue.enqueue("fetch", other, {})
    [lease] = queue.claim("extract", "w", lease_seconds=30)

    assert queue.delete_for(subject) == 2

    assert not queue.complete(lease)
    assert queue.job("fetch", subject) is None
    assert queue.job("fetch", other) is not None
    assert count_jobs(url) == 1
