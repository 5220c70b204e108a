"""advance(): complete a job and lease the next step's job in one transaction."""

from __future__ import annotations

import uuid
from datetime import timedelta

import psycopg
import pytest

from infrastructure.postgres.queue import CHANNEL, PostgresJobQueue
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


def test_a_host_slot_freed_wakes_the_workers_a_full_host_turned_away(
    queue: PostgresJobQueue, url: str
) -> None:
    """A worker whose claim found the host's slots taken claims that kind again
    only when rung: finishing a job that held a host's slot must ring it
    (one host at 2 slots ingested 18.7 pages/s without, 24.3 with)."""
    first, second = uuid.uuid4(), uuid.uuid4()
    queue.enqueue("fetch", first, {}, host="example.org")
    queue.enqueue("fetch", second, {}, host="example.org")
    [held] = queue.claim("fetch", "w1", 30, per_host_limit=1)
    assert queue.claim("fetch", "w2", 30, per_host_limit=1) == []  # turned away
    with psycopg.connect(url, autocommit=True) as listening:
        listening.execute(f"LISTEN {CHANNEL}")

        assert queue.advance(held, "extract", {"version": 1}, "w1", 30) is not None

        rung = [n.payload for n in listening.notifies(timeout=5, stop_after=1)]
        assert rung == ["fetch"]
        assert queue.claim("fetch", "w2", 30, per_host_limit=1)[0].subject_id == second
        queue.enqueue("chunk", uuid.uuid4(), {})  # rings "chunk" on enqueue, as always
        assert [n.payload for n in listening.notifies(timeout=5, stop_after=1)] == ["chunk"]


def test_finishing_a_job_without_a_host_rings_nobody(queue: PostgresJobQueue, url: str) -> None:
    queue.enqueue("extract", uuid.uuid4(), {"version": 1})
    [lease] = queue.claim("extract", "w1", 30)
    with psycopg.connect(url, autocommit=True) as listening:
        listening.execute(f"LISTEN {CHANNEL}")

        assert queue.complete(lease)

        assert list(listening.notifies(timeout=0.5, stop_after=1)) == []


def test_a_fetch_put_off_for_later_frees_its_hosts_slot_too(
    queue: PostgresJobQueue, url: str
) -> None:
    queue.enqueue("fetch", uuid.uuid4(), {}, host="example.org")
    [lease] = queue.claim("fetch", "w1", 30, per_host_limit=1)
    with psycopg.connect(url, autocommit=True) as listening:
        listening.execute(f"LISTEN {CHANNEL}")

        assert queue.retry(lease, timedelta(seconds=30))  # a transient failure

        assert [n.payload for n in listening.notifies(timeout=5, stop_after=1)] == ["fetch"]
        assert not queue.retry(lease, timedelta(seconds=30))  # the lease is spent
