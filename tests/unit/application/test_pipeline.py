"""The ingestion pipeline's steps on the in-memory store, with fake ports."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from application.ports import Extracted, FetchError
from application.store import TrawlStore
from application.urls.pipeline import (
    CHUNK,
    DONE,
    EXTRACT,
    FAILED,
    RETRY,
    STALE,
    VECTORIZE,
    Next,
    Pipeline,
)
from domain.chunks.splitter import CHUNKER_VERSION, ChunkSettings, chunk_id, text_hash
from domain.common import Context
from domain.projects.aggregate import Project
from domain.urls.aggregate import Url, chunks_digest
from tests.unit.application.pipeline_fakes import (
    NOT_MODIFIED,
    FakeClock,
    FakeExtractor,
    FakeFetcher,
    MemoryBlobs,
    added_url,
    article,
    ensure_project,
    memory_store,
    page,
    schedule,
    topics,
)

pytestmark = pytest.mark.unit

FETCHED, UNCHANGED = "trawl:url.fetched", "trawl:url.unchanged"
CHUNKED, FAILED_TOPIC = "trawl:url.chunked", "trawl:url.fetch_failed"
SETTINGS = ChunkSettings(size=400, overlap=50)


@pytest.fixture
def store() -> TrawlStore:
    store = memory_store()
    project = ensure_project(store)
    wanted = replace(project.settings, chunk_size=SETTINGS.size, chunk_overlap=SETTINGS.overlap)
    project.change_settings(Context.system("test"), wanted)
    store.commit(project)
    return store


@pytest.fixture
def blobs() -> MemoryBlobs:
    return MemoryBlobs()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def pipeline_for(
    store: TrawlStore,
    fetcher: FakeFetcher,
    blobs: MemoryBlobs,
    clock: FakeClock,
    max_attempts: int = 5,
) -> Pipeline:
    return Pipeline(
        store, fetcher, FakeExtractor(), blobs, clock, max_attempts=max_attempts, jitter=lambda: 0.0
    )


def run_through(pipeline: Pipeline, url_id: uuid.UUID, attempt: int = 1) -> Next:
    """Fetch under a new lease, then extract and chunk as long as asked to."""
    outcome = pipeline.fetch(url_id, uuid.uuid4(), attempt)
    while outcome.step in (EXTRACT, CHUNK):
        version = outcome.version
        assert version is not None
        if outcome.step == EXTRACT:
            outcome = pipeline.extract(url_id, version)
        else:
            outcome = pipeline.chunk(url_id, version, SETTINGS)
    return outcome


def test_added_url_goes_through_fetch_then_extract_and_chunk(
    store: TrawlStore, blobs: MemoryBlobs, clock: FakeClock
) -> None:
    url_id = added_url(store)
    pipeline = pipeline_for(store, FakeFetcher(page(article())), blobs, clock)

    assert pipeline.fetch(url_id, uuid.uuid4(), 1) == Next(EXTRACT, 1)
    url = store.load(Url, url_id)
    assert url.status == "fetched" and url.current is not None
    assert blobs.get(url.current.blob_key) == article()
    assert pipeline.extract(url_id, 1) == Next(VECTORIZE, 1)  # text and chunks, one commit
    # Nothing left to chunk; the vectors are still missing, so on to vectorize.
    assert pipeline.chunk(url_id, 1, SETTINGS) == Next(VECTORIZE, 1)

    url = store.load(Url, url_id)
    assert url.status == "chunked"
    assert topics(store)[-2:] == ["trawl:url.text_extracted", CHUNKED]
    assert url.text is not None and url.chunking is not None
    text = blobs.get(url.text.text_key).decode()
    assert url.text.text_hash == text_hash(text)
    chunks = url.chunking.chunks
    assert len(chunks) > 1
    assert url.chunking.chunker_version == CHUNKER_VERSION
    assert (url.chunking.size, url.chunking.overlap) == (400, 50)
    for ordinal, ref in enumerate(chunks):
        assert ref.ordinal == ordinal
        assert text_hash(text[ref.start : ref.end]) == ref.text_hash
        assert ref.chunk_id == chunk_id(url_id, CHUNKER_VERSION, ordinal, ref.text_hash)


def test_not_modified_keeps_the_version_and_its_chunks(
    store: TrawlStore, blobs: MemoryBlobs, clock: FakeClock
) -> None:
    url_id = added_url(store)
    fetcher = FakeFetcher(page(article()), NOT_MODIFIED)
    pipeline = pipeline_for(store, fetcher, blobs, clock)
    assert run_through(pipeline, url_id) == Next(VECTORIZE, 1)
    chunks_before = store.load(Url, url_id).chunking

    schedule(store, url_id)
    assert run_through(pipeline, url_id) == Next(VECTORIZE, 1)

    assert fetcher.requests[0].etag is None
    assert fetcher.requests[1].etag == '"v1"'
    assert fetcher.requests[1].last_modified == "Wed, 21 Oct 2026 07:28:00 GMT"
    url = store.load(Url, url_id)
    assert url.status == "chunked" and len(url.versions) == 1
    assert url.chunking == chunks_before
    assert topics(store).count(UNCHANGED) == 1
    assert topics(store).count(CHUNKED) == 1


def test_same_bytes_refetched_are_unchanged(
    store: TrawlStore, blobs: MemoryBlobs, clock: FakeClock
) -> None:
    url_id = added_url(store)
    pipeline = pipeline_for(store, FakeFetcher(page(article()), page(article())), blobs, clock)
    run_through(pipeline, url_id)
    schedule(store, url_id)

    assert run_through(pipeline, url_id) == Next(VECTORIZE, 1)

    url = store.load(Url, url_id)
    assert url.status == "chunked" and len(url.versions) == 1
    assert topics(store).count(FETCHED) == 1
    assert topics(store).count(UNCHANGED) == 1
    assert topics(store).count(CHUNKED) == 1


def test_an_unchanged_fetch_goes_on_to_vectorize_only_for_a_model_the_url_lacks(
    store: TrawlStore, blobs: MemoryBlobs, clock: FakeClock
) -> None:
    url_id = added_url(store)
    fetcher = FakeFetcher(page(article()), page(article()), page(article()))
    pipeline = pipeline_for(store, fetcher, blobs, clock)
    run_through(pipeline, url_id)
    url = store.load(Url, url_id)
    assert url.chunking is not None
    model = store.load(Project, url.project_id).embedding_model
    url.record_vectors(Context.system("test"), 1, model, 256, "v1", chunks_digest(url.chunking))
    store.commit(url)
    schedule(store, url_id)
    assert run_through(pipeline, url_id) == Next(DONE, 1)  # its vectors are the model's

    project = store.load(Project, url.project_id)
    titan = "bedrock/amazon.titan-embed-text-v2:0/256"
    project.change_settings(
        Context.system("test"), replace(project.settings, embedding_model=titan)
    )
    store.commit(project)
    schedule(store, url_id)
    assert run_through(pipeline, url_id) == Next(VECTORIZE, 1)
    # A worker that took the job over after the outcome was recorded carries on.
    assert pipeline.fetch(url_id, uuid.uuid4(), 2) == Next(VECTORIZE, 1)
    assert len(fetcher.requests) == 3


def test_changed_content_is_a_new_version_chunked_again(
    store: TrawlStore, blobs: MemoryBlobs, clock: FakeClock
) -> None:
    url_id = added_url(store)
    pages = FakeFetcher(page(article()), page(article(seed="beta"), etag='"v2"'))
    pipeline = pipeline_for(store, pages, blobs, clock)
    run_through(pipeline, url_id)
    schedule(store, url_id)

    assert run_through(pipeline, url_id) == Next(VECTORIZE, 2)

    url = store.load(Url, url_id)
    assert url.status == "chunked" and [v.version for v in url.versions] == [1, 2]
    assert set(url.chunkings) == {1, 2}
    # Work for the old version is stale now.
    assert pipeline.extract(url_id, 1).step == STALE
    assert pipeline.chunk(url_id, 1, SETTINGS).step == STALE


def test_a_repeated_extract_job_records_nothing_more(
    store: TrawlStore, blobs: MemoryBlobs, clock: FakeClock
) -> None:
    """A worker that died after the commit, before completing its job: the
    job runs again and carries on (to vectorize) without recording twice."""
    url_id = added_url(store)
    pipeline = pipeline_for(store, FakeFetcher(page(article())), blobs, clock)
    assert pipeline.fetch(url_id, uuid.uuid4(), 1) == Next(EXTRACT, 1)
    assert pipeline.extract(url_id, 1) == Next(VECTORIZE, 1)
    recorded = store.load(Url, url_id).version

    assert pipeline.extract(url_id, 1) == Next(VECTORIZE, 1)

    assert store.load(Url, url_id).version == recorded
    assert topics(store).count(CHUNKED) == 1


class RemovingExtractor(FakeExtractor):
    """Removes the URL while it extracts: another writer commits mid-step."""

    def __init__(self, store: TrawlStore, url_id: uuid.UUID) -> None:
        self.store, self.url_id = store, url_id

    def extract(
        self, body: bytes, *, url: str, content_type: str, chunking: ChunkSettings | None = None
    ) -> Extracted:
        removed = self.store.load(Url, self.url_id)
        removed.remove(Context.system("test"))
        self.store.commit(removed)
        return super().extract(body, url=url, content_type=content_type, chunking=chunking)


def test_a_write_during_the_step_is_seen_before_recording(
    store: TrawlStore, blobs: MemoryBlobs, clock: FakeClock
) -> None:
    """The step records on the Url it loaded first; when someone else committed
    meanwhile, the commit fails and the record runs again on a fresh load."""
    url_id = added_url(store)
    fetcher = FakeFetcher(page(article()))
    pipeline = Pipeline(store, fetcher, RemovingExtractor(store, url_id), blobs, clock)
    assert pipeline.fetch(url_id, uuid.uuid4(), 1) == Next(EXTRACT, 1)

    assert pipeline.extract(url_id, 1) == Next(STALE, reason="UrlRemoved")

    url = store.load(Url, url_id)
    assert url.status == "removed" and url.text is None and url.chunking is None
    assert CHUNKED not in topics(store)


def test_server_error_then_success_retries(
    store: TrawlStore, blobs: MemoryBlobs, clock: FakeClock
) -> None:
    url_id = added_url(store)
    fetcher = FakeFetcher(FetchError("http-5xx", "500", transient=True), page(article()))
    pipeline = pipeline_for(store, fetcher, blobs, clock)

    first = pipeline.fetch(url_id, uuid.uuid4(), 1)

    assert first.step == RETRY and first.at is not None
    assert first.at == clock.now + timedelta(seconds=15)  # 30 s with no jitter: half
    url = store.load(Url, url_id)
    assert (url.status, url.attempts, url.last_error) == ("pending", 1, "http-5xx")
    assert url.next_attempt_at == first.at

    clock.advance(20)
    assert pipeline.fetch(url_id, uuid.uuid4(), 2) == Next(EXTRACT, 1)
    url = store.load(Url, url_id)
    assert (url.status, url.attempts, url.last_error) == ("fetched", 2, None)
    assert topics(store).count(FAILED_TOPIC) == 1


def test_not_found_fails_without_retry(
    store: TrawlStore, blobs: MemoryBlobs, clock: FakeClock
) -> None:
    url_id = added_url(store)
    fetcher = FakeFetcher(FetchError("http-4xx", "404", transient=False))

    outcome = pipeline_for(store, fetcher, blobs, clock).fetch(url_id, uuid.uuid4(), 1)

    assert outcome == Next(FAILED, reason="http-4xx")
    url = store.load(Url, url_id)
    assert (url.status, url.last_error, url.next_attempt_at) == ("failed", "http-4xx", None)


def test_too_many_requests_honours_retry_after(
    store: TrawlStore, blobs: MemoryBlobs, clock: FakeClock
) -> None:
    url_id = added_url(store)
    fetcher = FakeFetcher(FetchError("http-4xx", "429", transient=True, retry_after=120))

    outcome = pipeline_for(store, fetcher, blobs, clock).fetch(url_id, uuid.uuid4(), 1)

    assert outcome.step == RETRY and outcome.at is not None
    assert outcome.at >= clock.now + timedelta(seconds=120)
    assert store.load(Url, url_id).next_attempt_at == outcome.at


def test_gives_up_after_max_attempts(
    store: TrawlStore, blobs: MemoryBlobs, clock: FakeClock
) -> None:
    url_id = added_url(store)
    timeout = FetchError("timeout", transient=True)
    pipeline = pipeline_for(store, FakeFetcher(timeout, timeout, timeout), blobs, clock, 3)

    assert pipeline.fetch(url_id, uuid.uuid4(), 1).step == RETRY
    assert pipeline.fetch(url_id, uuid.uuid4(), 2).step == RETRY
    assert pipeline.fetch(url_id, uuid.uuid4(), 3) == Next(FAILED, reason="timeout")

    url = store.load(Url, url_id)
    assert (url.status, url.attempts, url.next_attempt_at) == ("failed", 3, None)
    assert topics(store).count(FAILED_TOPIC) == 3


def test_late_worker_records_nothing(
    store: TrawlStore, blobs: MemoryBlobs, clock: FakeClock
) -> None:
    url_id = added_url(store)
    # The newer worker's fetch runs inside the late one's, so it is answered first.
    fetcher = FakeFetcher(page(article(seed="new")), page(article(seed="late")))
    pipeline = pipeline_for(store, fetcher, blobs, clock)
    newer: list[Next] = []
    # While the first worker waits on its fetch, its lease expires and a second
    # worker takes the job over under a new lease, and finishes first.
    fetcher.during = lambda: newer.append(pipeline.fetch(url_id, uuid.uuid4(), 2))

    late = pipeline.fetch(url_id, uuid.uuid4(), 1)

    assert late.step == STALE
    assert newer == [Next(EXTRACT, 1)]
    assert topics(store).count(FETCHED) == 1
    url = store.load(Url, url_id)
    assert url.current is not None and blobs.get(url.current.blob_key) == article(seed="new")


def test_a_job_taken_over_after_the_outcome_was_recorded_carries_on(
    store: TrawlStore, blobs: MemoryBlobs, clock: FakeClock
) -> None:
    url_id = added_url(store)
    fetcher = FakeFetcher(page(article()))
    pipeline = pipeline_for(store, fetcher, blobs, clock)
    assert pipeline.fetch(url_id, uuid.uuid4(), 1) == Next(EXTRACT, 1)

    # The first worker died before finishing its job; the next one resumes.
    assert pipeline.fetch(url_id, uuid.uuid4(), 2) == Next(EXTRACT, 1)
    assert len(fetcher.requests) == 1
    assert topics(store).count(FETCHED) == 1


def test_removed_url_is_stale(store: TrawlStore, blobs: MemoryBlobs, clock: FakeClock) -> None:
    url_id = added_url(store)
    url = store.load(Url, url_id)
    url.remove(Context.system("test"))
    store.commit(url)

    outcome = pipeline_for(store, FakeFetcher(), blobs, clock).fetch(url_id, uuid.uuid4(), 1)

    assert outcome.step == STALE
