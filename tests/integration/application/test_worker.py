"""Pipeline workers on the real Postgres job queue (the store in memory, fake ports)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import replace

import psycopg
import pytest

from application.ports import FetchError
from application.store import TrawlStore
from application.urls.pipeline import Pipeline
from application.urls.worker import KINDS, Worker
from application.vectorization.ports import Vectors
from application.vectorization.vectorize import Vectorizer
from domain.common import Context
from domain.urls.aggregate import Url
from infrastructure.memory.search import HashingEmbedder, MemoryVectorCache, StaticEmbedders
from infrastructure.postgres.queue import PostgresJobQueue
from tests.support.queues import NewQueue, queue_factory
from tests.unit.application.pipeline_fakes import (
    FakeClock,
    FakeExtractor,
    FakeFetcher,
    MemoryBlobs,
    added_url,
    article,
    ensure_project,
    memory_store,
    page,
    topics,
)

pytestmark = pytest.mark.integration

FETCHED = "trawl:url.fetched"
MODEL = "wordllama/l2_supercat-256"  # the project's model by default


@pytest.fixture
def new_queue(url: str) -> Iterator[NewQueue]:
    """Queues with a pool each: separate worker processes, as Postgres sees them."""
    with queue_factory(url) as make:
        yield make


@pytest.fixture
def store() -> TrawlStore:
    return memory_store()


def make_pipeline(store: TrawlStore, fetcher: FakeFetcher) -> Pipeline:
    return Pipeline(store, fetcher, FakeExtractor(), MemoryBlobs(), FakeClock(), jitter=lambda: 0.0)


def make_worker(queue: PostgresJobQueue, pipeline: Pipeline, owner: str) -> Worker:
    project = ensure_project(pipeline.store)
    if project.settings.chunk_size != 400:  # small chunks: several per page
        project.change_settings(
            Context.system("test"), replace(project.settings, chunk_size=400, chunk_overlap=50)
        )
        pipeline.store.commit(project)
    return Worker(queue, pipeline, owner, 30, idle_seconds=0.01)


def drain(worker: Worker, queue: PostgresJobQueue, rounds: int = 20) -> None:
    """Run jobs of every kind until none is due (bounded)."""
    for _ in range(rounds):
        if not any([worker.run_once(kind) for kind in KINDS]):
            break
    assert all(counts["due"] == 0 for counts in queue.stats().values())


def expire_leases(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "UPDATE trawl_jobs SET leased_until = now() - interval '1 second'"
            " WHERE lease_id IS NOT NULL"
        )


def ingested(queue: PostgresJobQueue, store: TrawlStore) -> tuple[uuid.UUID, Pipeline]:
    """A URL added and taken as far as a worker without a vectorizer goes."""
    url_id = added_url(store)
    queue.enqueue("fetch", url_id, {}, host="example.org")
    pipeline = make_pipeline(store, FakeFetcher(page(article())))
    drain(make_worker(queue, pipeline, "w1"), queue)
    return url_id, pipeline


def test_a_worker_takes_an_added_url_to_chunked(
    new_queue: NewQueue, store: TrawlStore, url: str
) -> None:
    queue = new_queue()

    url_id, _ = ingested(queue, store)

    assert queue.stats() == {}
    found = store.load(Url, url_id)
    assert found.status == "chunked" and found.chunking is not None
    assert len(found.chunking.chunks) > 1


def test_run_loops_until_stopped(new_queue: NewQueue, store: TrawlStore, url: str) -> None:
    queue = new_queue()
    url_id = added_url(store)
    queue.enqueue("fetch", url_id, {})
    worker = make_worker(queue, make_pipeline(store, FakeFetcher(page(article()))), "w1")
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if store.load(Url, url_id).status == "chunked" and not queue.stats():
                break
            stop.wait(0.01)
    finally:
        stop.set()
        thread.join(5)
    assert store.load(Url, url_id).status == "chunked"
    assert not thread.is_alive()


def test_a_transient_failure_is_retried_later(
    new_queue: NewQueue, store: TrawlStore, url: str
) -> None:
    queue = new_queue()
    url_id = added_url(store)
    queue.enqueue("fetch", url_id, {})
    fetcher = FakeFetcher(FetchError("http-5xx", transient=True), page(article()))
    worker = make_worker(queue, make_pipeline(store, fetcher), "w1")

    assert worker.run_once("fetch")

    job = queue.job("fetch", url_id)
    assert job is not None and job.leased_until is None and job.attempts == 1
    assert queue.stats()["fetch"]["waiting"] == 1
    assert store.load(Url, url_id).status == "pending"


def test_a_dead_workers_job_is_finished_by_another_once(
    new_queue: NewQueue, store: TrawlStore, url: str
) -> None:
    dead_queue, live_queue = new_queue(), new_queue()
    url_id = added_url(store)
    live_queue.enqueue("fetch", url_id, {})
    pipeline = make_pipeline(store, FakeFetcher(page(article())))
    # The first worker claims the job, records the fetch, and dies before completing it.
    [lease] = dead_queue.claim("fetch", "dead", 30)
    assert pipeline.fetch(url_id, lease.lease_id, lease.attempt).step == "extract"
    assert live_queue.claim("fetch", "live", 30) == []  # still leased

    expire_leases(url)
    drain(make_worker(live_queue, pipeline, "live"), live_queue)

    assert store.load(Url, url_id).status == "chunked"
    assert topics(store).count(FETCHED) == 1
    assert dead_queue.complete(lease) is False  # the late worker changes nothing


def test_a_worker_dying_before_the_fetch_leaves_one_result(
    new_queue: NewQueue, store: TrawlStore, url: str
) -> None:
    dead_queue, live_queue = new_queue(), new_queue()
    url_id = added_url(store)
    live_queue.enqueue("fetch", url_id, {})
    fetcher = FakeFetcher(page(article()), page(article(seed="late")))
    pipeline = make_pipeline(store, fetcher)
    [lease] = dead_queue.claim("fetch", "dead", 30)

    expire_leases(url)
    drain(make_worker(live_queue, pipeline, "live"), live_queue)
    # The first worker wakes up after all: it fetches and records nothing, and
    # carries on from where the URL stands (chunked, no vectors yet). Its lease
    # is gone; a vectorize job it hands off is queued all the same (the queue
    # port's rule: the step is idempotent, a lost next step is not).
    late = pipeline.fetch(url_id, lease.lease_id, lease.attempt)

    assert late.step == "vectorize"
    assert len(fetcher.requests) == 1
    assert dead_queue.complete(lease) is False
    assert topics(store).count(FETCHED) == 1
    found = store.load(Url, url_id)
    assert found.status == "chunked" and found.attempts == 2


def test_vectorize_jobs_without_a_version_take_the_urls_current_one(
    new_queue: NewQueue, store: TrawlStore, url: str
) -> None:
    """What a model change queues: one vectorize job per URL, no version."""
    queue = new_queue()
    url_id, pipeline = ingested(queue, store)  # chunked
    gone = uuid.uuid4()
    for subject in (url_id, gone):
        queue.enqueue("vectorize", subject, {})
    embedder = HashingEmbedder()
    vectorizer = Vectorizer(store, pipeline.blobs, StaticEmbedders(embedder), MemoryVectorCache())
    worker = Worker(queue, pipeline, "w2", 30, idle_seconds=0.01, vectorizer=vectorizer)

    assert worker.run_once("vectorize")

    found = store.load(Url, url_id)
    assert found.status == "vectorized" and found.vectors_for(MODEL) is not None
    assert queue.stats() == {}  # both done, the missing URL's too


def test_workers_of_some_kinds_leave_the_other_steps_queued(
    new_queue: NewQueue, store: TrawlStore, url: str
) -> None:
    """`TRAWL_WORKER_JOBS`: a fetch-only worker queues the extract job instead
    of running it; a worker of the later steps takes it from there; the
    vectorize job waits for an embedding worker."""
    queue = new_queue()
    url_id = added_url(store)
    queue.enqueue("fetch", url_id, {}, host="example.org")
    pipeline = make_pipeline(store, FakeFetcher(page(article())))
    embedder = HashingEmbedder()
    vectorizer = Vectorizer(store, pipeline.blobs, StaticEmbedders(embedder), MemoryVectorCache())
    make_worker(queue, pipeline, "setup")  # the project's small chunks

    def worker(owner: str, kinds: tuple[str, ...]) -> Worker:
        return Worker(queue, pipeline, owner, 30, kinds=kinds, vectorizer=vectorizer)

    fetcher = worker("fetcher", ("fetch",))
    assert fetcher.kinds == ("fetch",)
    assert fetcher.run_once("fetch")
    assert store.load(Url, url_id).status == "fetched"
    assert queue.stats() == {"extract": {"due": 1, "leased": 0, "waiting": 0}}

    assert worker("extractor", ("extract", "chunk")).run_once("extract")
    assert store.load(Url, url_id).status == "chunked"
    assert queue.stats() == {"vectorize": {"due": 1, "leased": 0, "waiting": 0}}

    assert worker("embedder", ("vectorize",)).run_once("vectorize")
    assert store.load(Url, url_id).status == "vectorized"
    assert queue.stats() == {}


def test_an_embedding_worker_hands_a_missing_chunking_back_to_the_queue(
    new_queue: NewQueue, store: TrawlStore, url: str
) -> None:
    """A vectorize job finding the version's text but no chunks (a crash between
    the two, or a re-chunk under way) asks for a chunk job: a vectorize-only
    worker queues it instead of running it, and a worker of that step does."""
    queue = new_queue()
    url_id = added_url(store)
    pipeline = make_pipeline(store, FakeFetcher(page(article())))
    make_worker(queue, pipeline, "setup")  # the project's small chunks
    assert pipeline.fetch(url_id, uuid.uuid4(), 1).step == "extract"
    text = "First paragraph of the page.\n\nSecond paragraph, a little longer than that."
    ref = pipeline.blobs.put(text.encode(), kind="text")
    fetched = store.load(Url, url_id)
    fetched.record_text(Context.system("test"), 1, ref.sha256, ref.key, "en", 12)
    store.commit(fetched)  # text, no chunks
    queue.enqueue("vectorize", url_id, {"version": 1})
    embedder = HashingEmbedder()
    vectorizer = Vectorizer(store, pipeline.blobs, StaticEmbedders(embedder), MemoryVectorCache())
    embedding = Worker(queue, pipeline, "embedder", 30, kinds=("vectorize",), vectorizer=vectorizer)

    assert embedding.run_once("vectorize")

    assert queue.stats() == {"chunk": {"due": 1, "leased": 0, "waiting": 0}}
    assert store.load(Url, url_id).chunking is None
    chunking = Worker(queue, pipeline, "chunker", 30, kinds=("chunk",), vectorizer=vectorizer)
    assert chunking.run_once("chunk")
    assert store.load(Url, url_id).status == "chunked"
    assert queue.stats() == {"vectorize": {"due": 1, "leased": 0, "waiting": 0}}


def chunked_urls(
    queue: PostgresJobQueue, store: TrawlStore, n: int
) -> tuple[list[uuid.UUID], Pipeline, Vectorizer]:
    """`n` URLs taken to chunked, each with a vectorize job of version 1 queued,
    and a vectorizer for them."""
    ids = [added_url(store, f"https://example.org/{i}") for i in range(n)]
    for url_id in ids:
        queue.enqueue("fetch", url_id, {}, host="example.org")
    pipeline = make_pipeline(store, FakeFetcher(*[page(article(seed=str(i))) for i in range(n)]))
    drain(make_worker(queue, pipeline, "w1"), queue, rounds=5 * n)
    for url_id in ids:
        queue.enqueue("vectorize", url_id, {"version": 1})
    embedders = StaticEmbedders(HashingEmbedder())
    return ids, pipeline, Vectorizer(store, pipeline.blobs, embedders, MemoryVectorCache())


def test_a_worker_runs_vectorize_claims_back_to_back_up_to_its_limit(
    new_queue: NewQueue, store: TrawlStore, url: str
) -> None:
    queue = new_queue()
    ids, pipeline, vectorizer = chunked_urls(queue, store, 5)
    worker = Worker(
        queue, pipeline, "w2", 30, vectorizer=vectorizer, vectorize_batch=2, vectorize_stream=2
    )

    assert worker.run_once("vectorize")  # two claims of two, one after the other

    assert queue.stats() == {"vectorize": {"due": 1, "leased": 0, "waiting": 0}}
    assert sum(store.load(Url, u).status == "vectorized" for u in ids) == 4
    assert worker.run_once("vectorize")
    assert queue.stats() == {}
    assert all(store.load(Url, u).status == "vectorized" for u in ids)


class FailingClaims:
    """The real queue, but every claim after the first fails (an outage)."""

    def __init__(self, queue: PostgresJobQueue) -> None:
        self.queue, self.claims = queue, 0

    def claim(self, *args: object, **kwargs: object) -> object:
        self.claims += 1
        if self.claims > 1:
            raise psycopg.OperationalError("the database went away")
        return self.queue.claim(*args, **kwargs)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> object:
        return getattr(self.queue, name)


def test_a_claim_failing_mid_stream_still_finishes_the_claims_before_it(
    new_queue: NewQueue, store: TrawlStore, url: str
) -> None:
    queue = new_queue()
    ids, pipeline, vectorizer = chunked_urls(queue, store, 3)
    failing = FailingClaims(queue)
    worker = Worker(failing, pipeline, "w2", 30, vectorizer=vectorizer, vectorize_batch=2)  # type: ignore[arg-type]

    assert worker.run_once("vectorize")

    assert failing.claims == 2
    assert queue.stats() == {"vectorize": {"due": 1, "leased": 0, "waiting": 0}}
    assert sum(store.load(Url, u).status == "vectorized" for u in ids) == 2


class CrashingEmbedder(HashingEmbedder):
    def embed(self, texts: Sequence[str]) -> Vectors:
        raise RuntimeError("embedder bug")


def test_a_claim_whose_vectorizing_crashes_is_retried_later(
    new_queue: NewQueue, store: TrawlStore, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    queue = new_queue()
    ids, pipeline, _ = chunked_urls(queue, store, 2)
    crashing = StaticEmbedders(CrashingEmbedder())
    vectorizer = Vectorizer(store, pipeline.blobs, crashing, MemoryVectorCache())
    worker = Worker(queue, pipeline, "w2", 30, vectorizer=vectorizer)

    assert worker.run_once("vectorize")

    assert queue.stats() == {"vectorize": {"due": 0, "leased": 0, "waiting": 2}}
    assert all(store.load(Url, u).status == "chunked" for u in ids)
    assert "vectorize jobs for 2 URLs failed" in caplog.text and "embedder bug" in caplog.text
