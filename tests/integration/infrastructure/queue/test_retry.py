"""Retries: a released job waits for its backoff, then runs again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from infrastructure.postgres.queue import PostgresJobQueue
from tests.integration.infrastructure.queue.helpers import eventually, make_due

pytestmark = pytest.mark.integration


def test_a_retried_job_is_not_claimable_before_its_backoff(
    queue: PostgresJobQueue, url: str
) -> None:
    subject = uuid.uuid4()
    job_id = queue.enqueue("fetch", subject, {})
    [lease] = queue.claim("fetch", "w", lease_seconds=30)

    assert queue.retry(lease, timedelta(hours=1))

    assert queue.claim("fetch", "w", lease_seconds=30) == []
    job = queue.job("fetch", subject)
    assert job is not None
    assert (job.attempts, job.leased_until) == (1, None)
    assert job.not_before > lease.leased_until
    assert queue.stats() == {"fetch": {"due": 0, "leased": 0, "waiting": 1}}

    make_due(url, job_id)
    [again] = queue.claim("fetch", "w", lease_seconds=30)
    assert (again.job_id, again.attempt) == (job_id, 2)
    assert again.lease_id != lease.lease_id


def test_a_short_backoff_passes_on_the_database_clock(queue: PostgresJobQueue) -> None:
    queue.enqueue("fetch", uuid.uuid4(), {})
    [lease] = queue.claim("fetch", "w", lease_seconds=30)
    assert queue.retry(lease, timedelta(milliseconds=300))
    assert queue.claim("fetch", "w", lease_seconds=30) == []

    [again] = eventually(lambda: queue.claim("fetch", "w", lease_seconds=30))

    assert again.attempt == 2


def test_retry_at_an_absolute_time(queue: PostgresJobQueue) -> None:
    subject = uuid.uuid4()
    queue.enqueue("fetch", subject, {})
    [lease] = queue.claim("fetch", "w", lease_seconds=30)
    at = datetime(2100, 1, 1, tzinfo=UTC)

    assert queue.retry(lease, at)

    job = queue.job("fetch", subject)
    assert job is not None
    assert job.not_before == at
    assert not queue.retry(lease, at)  # the lease went with the first retry
