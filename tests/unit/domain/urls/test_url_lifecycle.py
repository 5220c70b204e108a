"""The Url aggregate, one command (or refusal) at a time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.common import Context
from domain.urls import errors
from domain.urls.aggregate import Url, chunks_digest
from domain.urls.normalize import NORMALIZER_VERSION, url_id

pytestmark = pytest.mark.unit

CTX = Context("user:editor", "c")
WORKER = Context.system("worker", "job")
PROJECT = uuid.uuid4()
LATER = datetime(2030, 1, 1, tzinfo=UTC)


def started(url: Url, attempt: int = 1) -> uuid.UUID:
    lease = uuid.uuid4()
    url.schedule_fetch(WORKER, "added", None)
    url.start_fetch(WORKER, attempt, lease)
    return lease


def fetch(url: Url, content_hash: str, etag: str | None = None) -> uuid.UUID:
    lease = started(url)
    url.record_fetch(
        WORKER, lease, 200, "text/html", url.url, content_hash, f"raw/{content_hash}", "T",
        etag, None, 10,
    )  # fmt: skip
    return lease


def chunk(url: Url, text_hash: str = "t1") -> None:
    version = url.current_version
    assert version is not None
    url.record_text(WORKER, version, text_hash, f"text/{text_hash}", "en", 2)
    url.record_chunks(WORKER, version, 1, 1000, 150, [(uuid.uuid4(), 0, 0, 5, "h")])


def new_url() -> Url:
    return Url.add(CTX, PROJECT, "HTTP://Example.com:80/a?utm_source=x&b=2#top")


def test_add_normalizes_and_derives_the_id_from_project_and_url() -> None:
    url = new_url()

    assert url.url == "http://example.com/a?b=2"
    assert url.id == url_id(PROJECT, "http://example.com/a?b=2")
    assert (url.status, url.normalizer_version, url.is_live) == (
        "pending",
        NORMALIZER_VERSION,
        True,
    )
    event = url.collect_events()[0]
    assert (event.actor, event.correlation_id) == ("user:editor", "c")  # type: ignore[attr-defined]


def test_add_refuses_an_invalid_url_with_its_reason() -> None:
    with pytest.raises(errors.InvalidUrl) as caught:
        Url.add(CTX, PROJECT, "ftp://example.com/")
    assert caught.value.reason == "not-http"


def test_a_fetch_records_version_one_and_its_validators() -> None:
    url = new_url()
    fetch(url, "h1", etag='"e1"')

    assert (url.status, url.current_version, url.etag, url.lease_id) == ("fetched", 1, '"e1"', None)
    assert [(v.version, v.content_hash, v.blob_key) for v in url.versions] == [(1, "h1", "raw/h1")]


def test_start_fetch_sets_fetching_with_the_attempt() -> None:
    url = new_url()
    started(url, attempt=2)

    assert (url.status, url.attempts) == ("fetching", 2)


def test_versions_count_distinct_hashes_and_a_returning_hash_keeps_its_number() -> None:
    url = new_url()
    for content_hash in ("h1", "h2", "h1", "h3"):
        fetch(url, content_hash)

    assert [v.version for v in url.versions] == [1, 2, 3]
    assert url.version_of("h1") == 1
    assert url.current_version == 3


def test_the_same_hash_again_is_unchanged_and_keeps_the_chunked_status() -> None:
    url = new_url()
    fetch(url, "h1")
    chunk(url)
    fetch(url, "h1", etag='"e2"')

    event = url.collect_events()[-1]
    assert isinstance(event, Url.Unchanged) and not event.not_modified
    assert (url.status, len(url.versions), url.etag) == ("chunked", 1, '"e2"')


def test_a_304_is_unchanged_and_keeps_the_validators() -> None:
    url = new_url()
    fetch(url, "h1", etag='"e1"')
    url.record_not_modified(WORKER, started(url))

    assert isinstance(url.collect_events()[-1], Url.Unchanged)
    assert (url.status, url.etag, url.current_version) == ("fetched", '"e1"', 1)


def test_a_304_without_a_version_is_refused() -> None:
    url = new_url()
    with pytest.raises(errors.StaleVersion):
        url.record_not_modified(WORKER, started(url))


def test_an_outcome_with_another_lease_is_refused_and_records_nothing() -> None:
    url = new_url()
    first = started(url)
    url.start_fetch(WORKER, 2, uuid.uuid4())  # the watchdog handed the job on
    before = url.version

    with pytest.raises(errors.StaleLease):
        url.record_fetch(WORKER, first, 200, "text/html", url.url, "h", "k", None, None, None, 1)
    with pytest.raises(errors.StaleLease):
        url.record_failure(WORKER, first, "timeout", True, 1, LATER)
    with pytest.raises(errors.StaleLease):
        url.record_blocked(WORKER, first)
    assert url.version == before


def test_a_lease_answers_once() -> None:
    url = new_url()
    lease = fetch(url, "h1")

    with pytest.raises(errors.StaleLease):
        url.record_not_modified(WORKER, lease)


def test_scheduling_again_fences_the_running_fetch() -> None:
    url = new_url()
    lease = started(url)
    url.schedule_fetch(WORKER, "retry", LATER)

    assert (url.status, url.next_attempt_at, url.schedule_reason) == ("pending", LATER, "retry")
    with pytest.raises(errors.StaleLease):
        url.record_blocked(WORKER, lease)


def test_a_transient_failure_with_attempts_left_waits_pending() -> None:
    url = new_url()
    url.record_failure(WORKER, started(url), "http-5xx", True, 1, LATER, max_attempts=3)

    assert (url.status, url.attempts, url.last_error) == ("pending", 1, "http-5xx")
    assert url.next_attempt_at == LATER


def test_the_last_attempt_fails_for_good() -> None:
    url = new_url()
    url.record_failure(WORKER, started(url, 3), "timeout", True, 3, LATER, max_attempts=3)

    assert (url.status, url.next_attempt_at, url.last_error) == ("failed", None, "timeout")


@pytest.mark.parametrize("reason", ["address-refused", "too-large", "content-type", "http-4xx"])
def test_a_permanent_failure_fails_at_once(reason: str) -> None:
    url = new_url()
    url.record_failure(WORKER, started(url), reason, False, 1, LATER)

    assert (url.status, url.next_attempt_at, url.last_error) == ("failed", None, reason)


def test_a_retry_needs_its_time_and_the_lease_attempt() -> None:
    url = new_url()
    lease = started(url)
    with pytest.raises(errors.RetryTimeMissing):
        url.record_failure(WORKER, lease, "timeout", True, 1, None)
    with pytest.raises(errors.InvalidAttempt):
        url.record_failure(WORKER, lease, "timeout", True, 2, LATER)
    with pytest.raises(errors.NaiveTime):
        url.record_failure(WORKER, lease, "timeout", True, 1, datetime(2030, 1, 1))
    with pytest.raises(errors.InvalidFailureReason):
        url.record_failure(WORKER, lease, "Timed out!", True, 1, LATER)


def test_robots_blocks_the_url() -> None:
    url = new_url()
    url.record_blocked(WORKER, started(url))

    assert (url.status, url.last_error) == ("blocked", "robots")


def test_a_success_clears_the_last_error() -> None:
    url = new_url()
    url.record_failure(WORKER, started(url), "timeout", True, 1, LATER)
    fetch(url, "h1")

    assert (url.status, url.last_error, url.next_attempt_at) == ("fetched", None, None)


def test_start_fetch_needs_a_scheduled_fetch() -> None:
    url = new_url()
    fetch(url, "h1")

    with pytest.raises(errors.FetchNotScheduled):
        url.start_fetch(WORKER, 1, uuid.uuid4())


def test_schedule_refuses_an_unknown_reason() -> None:
    with pytest.raises(errors.InvalidScheduleReason):
        new_url().schedule_fetch(WORKER, "whenever", None)


def test_text_and_chunks_of_the_current_version_make_it_chunked() -> None:
    url = new_url()
    fetch(url, "h1")
    chunk_id = uuid.uuid4()
    url.record_text(WORKER, 1, "t1", "text/t1", "en", 2)
    url.record_chunks(WORKER, 1, 1, 1000, 150, [(chunk_id, 0, 0, 5, "c")])

    assert url.status == "chunked"
    assert url.text is not None and url.text.text_key == "text/t1"
    assert url.chunking is not None
    assert [tuple(c) for c in url.chunking.chunks] == [(chunk_id, 0, 0, 5, "c")]


def test_chunks_of_an_older_version_are_refused_as_stale() -> None:
    url = new_url()
    fetch(url, "h1")
    url.record_text(WORKER, 1, "t1", "text/t1", "en", 2)
    fetch(url, "h2")

    with pytest.raises(errors.StaleVersion):
        url.record_chunks(WORKER, 1, 1, 1000, 150, [(uuid.uuid4(), 0, 0, 5, "c")])
    with pytest.raises(errors.StaleVersion):
        url.record_text(WORKER, 1, "t1", "text/t1", "en", 2)


def test_chunks_need_the_text_and_well_formed_ordinals() -> None:
    url = new_url()
    fetch(url, "h1")
    with pytest.raises(errors.TextNotExtracted):
        url.record_chunks(WORKER, 1, 1, 1000, 150, [])
    url.record_text(WORKER, 1, "t1", "text/t1", "en", 2)
    with pytest.raises(errors.InvalidChunks):
        url.record_chunks(WORKER, 1, 1, 1000, 150, [(uuid.uuid4(), 1, 0, 5, "c")])


def test_another_text_for_the_version_drops_its_chunks() -> None:
    url = new_url()
    fetch(url, "h1")
    chunk(url, "t1")
    url.record_text(WORKER, 1, "t2", "text/t2", "en", 3)

    assert (url.status, url.chunking) == ("fetched", None)


def test_a_removed_url_stays_readable_and_refuses_all_but_revive() -> None:
    url = new_url()
    lease = fetch(url, "h1")
    url.remove(CTX)

    assert (url.status, url.is_live, url.current_version) == ("removed", False, 1)
    with pytest.raises(errors.UrlRemoved):
        url.schedule_fetch(WORKER, "refresh", None)
    with pytest.raises(errors.UrlRemoved):
        url.record_not_modified(WORKER, lease)
    with pytest.raises(errors.UrlRemoved):
        url.record_text(WORKER, 1, "t", "k", None, 0)
    with pytest.raises(errors.UrlRemoved):
        url.remove(CTX)


def test_remove_fences_a_running_fetch_and_revive_starts_over() -> None:
    url = new_url()
    lease = started(url)
    url.remove(CTX)
    url.revive(CTX)

    assert (url.status, url.attempts, url.lease_id) == ("pending", 0, None)
    with pytest.raises(errors.StaleLease):
        url.record_blocked(WORKER, lease)


def test_reviving_a_live_url_is_a_duplicate() -> None:
    with pytest.raises(errors.UrlAlreadyLive) as caught:
        new_url().revive(CTX)
    assert caught.value.slug == "duplicate"


def test_scheduling_keeps_the_time_to_wait_for() -> None:
    url = new_url()
    url.schedule_fetch(WORKER, "refresh", LATER + timedelta(hours=1))

    assert url.next_attempt_at == LATER + timedelta(hours=1)
    with pytest.raises(errors.NaiveTime):
        url.schedule_fetch(WORKER, "refresh", datetime(2030, 1, 1))


MODEL = "wordllama/l2_supercat-256"
OTHER = "bedrock/amazon.titan-embed-text-v2:0/256"


def test_a_model_refusing_the_chunks_fails_the_url_until_new_chunks_come() -> None:
    url = new_url()
    fetch(url, "h1")
    chunk(url)
    url.record_vectorization_failure(WORKER, 1, MODEL, "embedding-failed")

    assert (url.status, url.last_error, url.refused_by) == ("failed", "embedding-failed", MODEL)
    chunk(url, "t2")  # a re-chunk (new settings): worth another try
    assert (url.status, url.last_error, url.refused_by) == ("chunked", None, None)


def test_a_refusal_of_anything_but_the_current_unvectorized_chunks_is_stale() -> None:
    url = new_url()
    fetch(url, "h1")
    with pytest.raises(errors.StaleVersion):  # no chunks yet
        url.record_vectorization_failure(WORKER, 1, MODEL, "embedding-failed")
    chunk(url)
    fetch(url, "h2")
    with pytest.raises(errors.StaleVersion):  # a newer version came
        url.record_vectorization_failure(WORKER, 1, MODEL, "embedding-failed")
    chunk(url)
    chunking = url.chunking
    assert chunking is not None
    url.record_vectors(WORKER, 2, MODEL, 256, "vectors/k", chunks_digest(chunking))
    with pytest.raises(errors.StaleVersion):  # the model's vectors are recorded
        url.record_vectorization_failure(WORKER, 2, MODEL, "embedding-failed")
    with pytest.raises(errors.InvalidFailureReason):
        url.record_vectorization_failure(
            WORKER, 2, "bedrock/amazon.titan-embed-text-v2:0/256", "No"
        )


def test_a_refresh_waiting_keeps_its_status_whatever_a_refused_url_gets_meanwhile() -> None:
    """As the urls view does: only a failed URL goes back to chunked or vectorized."""
    url = new_url()
    fetch(url, "h1")
    chunk(url)
    url.record_vectorization_failure(WORKER, 1, MODEL, "embedding-failed")
    url.schedule_fetch(WORKER, "refresh", None)
    chunking = url.chunking
    assert chunking is not None

    url.record_vectors(WORKER, 1, OTHER, 256, "vectors/k", chunks_digest(chunking))  # switch back
    chunk(url, "t3")  # a re-chunk (new settings)

    assert url.status == "pending"
    url.start_fetch(WORKER, 1, uuid.uuid4())  # the refresh still runs
    assert url.status == "fetching"
