"""advance(): complete a job and lease the next step's job in one transaction."""

from __future__ import annotations

import uuid

import pytest

from infrastructure.postgres.queue import PostgresJobQueue
from tests.integration.infrastructure.queue.helpers import count_jobs, expire_lease
from tests.support.queues import NewQueue

pytestmark = pytest.mark.integration


def test_advance_hands_the_next_job_to_the_same_worker(queue: PostgresJobQueue, url: str) -> None:
    subject = uuid.uuid4()
    queue.enqueue("fetch", subject, {})
    [fetch] = queue.claim("fetch", "w1", 30)

    extract = queue.advance(fetch, "extract", {"version": 1}, "w1", 30)

    assert extract is not None
    assert (extract.kind, extract.subject_id, extract.payload) == (
        "extract",
        subject,
        {"version": 1},
    )
    assert extract.attempt == 1
    assert queue.job("fetch", subject) is None
    assert queue.claim("extract", "w2", 30) == []  # it is ours, leased
    assert queue.complete(extract) and count_jobs(url) == 0


def test_a_lost_lease_advances_nothing_but_the_next_job_stays_queued(
    new_queue: NewQueue, url: str
) -> None:
    first, second = new_queue(), new_queue()
    subject = uuid.uuid4()
    job_id = first.enqueue("fetch", subject, {})
    [stale] = first.claim("fetch", "w1", 30)
    expire_lease(url, job_id)
    [fresh] = second.claim("fetch", "w2", 30)

    assert first.advance(stale, "extract", {"version": 1}, "w1", 30) is None

    assert second.job("fetch", subject) is not None  # w2's job is untouched
    assert second.claim("extract", "w2", 30) != []  # the next step is queued for anyone
    assert second.complete(fresh)


def test_a_next_job_leased_elsewhere_is_flagged_to_run_again(new_queue: NewQueue, url: str) -> None:
    first, second = new_queue(), new_queue()
    subject = uuid.uuid4()
    first.enqueue("fetch", subject, {})
    second.enqueue("extract", subject, {"version": 1})
    [running] = second.claim("extract", "w2", 30)
    [fetch] = first.claim("fetch", "w1", 30)

    assert first.advance(fetch, "extract", {"version": 1}, "w1", 30) is None

    assert second.complete(running)  # w2 finishes: the job runs once more, as asked
    assert second.claim("extract", "w2", 30) != []
    assert first.job("fetch", subject) is None
    assert count_jobs(url) == 1
