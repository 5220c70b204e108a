"""The vectorize step on the in-memory store: vectors once per text, a blob, `Vectorized`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

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
from application.vectorization import vectors
from application.vectorization.ports import EmbeddingFailed, Vectors
from application.vectorization.vectorize import Job, Vectorizer, groups
from domain.chunks.splitter import ChunkSettings
from domain.common import Context
from domain.urls.aggregate import Url
from domain.urls.values import CHUNKED, EMBEDDING_FAILED, VECTORIZED
from domain.urls.values import FAILED as FAILED_STATUS
from infrastructure.memory.search import HashingEmbedder, MemoryVectorCache, StaticEmbedders
from tests.support.waiting import eventually
from tests.unit.application.pipeline_fakes import (
    FakeExtractor,
    FakeFetcher,
    MemoryBlobs,
    added_url,
    article,
    ensure_project,
    memory_store,
    page,
    schedule,
)

pytestmark = pytest.mark.unit

MODEL = "wordllama/l2_supercat-256"
OTHER = "bedrock/amazon.titan-embed-text-v2:0/256"
SETTINGS = ChunkSettings(size=400, overlap=0)


@pytest.fixture
def store() -> TrawlStore:
    return memory_store()


def chunked(store: TrawlStore, blobs: MemoryBlobs, body: bytes, url_id: uuid.UUID) -> int:
    pipeline = Pipeline(store, FakeFetcher(page(body)), FakeExtractor(), blobs)
    outcome = pipeline.fetch(url_id, uuid.uuid4(), 1)
    while outcome.step in (EXTRACT, CHUNK):
        assert outcome.version is not None
        if outcome.step == EXTRACT:
            outcome = pipeline.extract(url_id, outcome.version)
        else:
            outcome = pipeline.chunk(url_id, outcome.version, SETTINGS)
    assert outcome.step == VECTORIZE and outcome.version is not None
    return outcome.version


def test_chunks_are_embedded_stored_as_a_blob_and_recorded(store: TrawlStore) -> None:
    blobs, embedder = MemoryBlobs(), HashingEmbedder()
    url_id = added_url(store)
    version = chunked(store, blobs, article(), url_id)
    step = Vectorizer(store, blobs, StaticEmbedders(embedder), MemoryVectorCache())

    assert step.vectorize(url_id, version, MODEL) == Next(DONE, version)

    url = store.load(Url, url_id)
    held = url.vectors_for(MODEL)
    assert url.status == VECTORIZED and held is not None and url.chunking is not None
    matrix = vectors.decode(blobs.get(held.vectors_key))
    assert matrix.shape == (len(url.chunking.chunks), 256)
    text = blobs.get(url.texts[version].text_key).decode()
    first = url.chunking.chunks[0]
    assert np.allclose(matrix[0], embedder.embed([text[first.start : first.end]])[0])


def test_a_repeated_job_records_nothing_more(store: TrawlStore) -> None:
    blobs = MemoryBlobs()
    url_id = added_url(store)
    version = chunked(store, blobs, article(), url_id)
    step = Vectorizer(store, blobs, StaticEmbedders(HashingEmbedder()), MemoryVectorCache())
    step.vectorize(url_id, version, MODEL)
    recorded = store.load(Url, url_id).version

    assert step.vectorize(url_id, version, MODEL) == Next(DONE, version)
    assert store.load(Url, url_id).version == recorded


def test_text_seen_before_is_never_embedded_again(store: TrawlStore) -> None:
    blobs, embedder, cache = MemoryBlobs(), HashingEmbedder(), MemoryVectorCache()
    step = Vectorizer(store, blobs, StaticEmbedders(embedder), cache)
    first = added_url(store, "https://example.org/one")
    step.vectorize(first, chunked(store, blobs, article(), first), MODEL)
    embedded = sum(embedder.calls)

    twin = added_url(store, "https://example.org/two")  # the same text elsewhere
    step.vectorize(twin, chunked(store, blobs, article(), twin), MODEL)

    assert sum(embedder.calls) == embedded
    assert store.load(Url, twin).vectors_for(MODEL) is not None


def test_another_model_keeps_the_first_models_vectors(store: TrawlStore) -> None:
    blobs = MemoryBlobs()
    url_id = added_url(store)
    version = chunked(store, blobs, article(), url_id)
    step = Vectorizer(store, blobs, StaticEmbedders(HashingEmbedder()), MemoryVectorCache())
    step.vectorize(url_id, version, MODEL)
    step.vectorize(url_id, version, OTHER)

    url = store.load(Url, url_id)
    assert url.vectors_for(MODEL) is not None and url.vectors_for(OTHER) is not None


def test_new_content_makes_the_old_vectors_stale(store: TrawlStore) -> None:
    blobs = MemoryBlobs()
    url_id = added_url(store)
    step = Vectorizer(store, blobs, StaticEmbedders(HashingEmbedder()), MemoryVectorCache())
    step.vectorize(url_id, chunked(store, blobs, article(), url_id), MODEL)
    schedule(store, url_id)

    version = chunked(store, blobs, article(seed="beta"), url_id)

    url = store.load(Url, url_id)
    assert version == 2 and url.status == CHUNKED and url.vectors_for(MODEL) is None
    assert step.vectorize(url_id, 1, MODEL).step == STALE  # a late job of version 1
    assert step.vectorize(url_id, 2, MODEL) == Next(DONE, 2)


def test_vectors_of_other_chunks_are_refused(store: TrawlStore) -> None:
    blobs = MemoryBlobs()
    url_id = added_url(store)
    version = chunked(store, blobs, article(), url_id)
    url = store.load(Url, url_id)
    with pytest.raises(Exception, match="chunks changed"):
        url.record_vectors(Context.system("test"), version, MODEL, 256, "vectors/x", "0" * 32)


def test_urls_vectorized_together_embed_each_text_once(store: TrawlStore) -> None:
    blobs, embedder = MemoryBlobs(), HashingEmbedder()
    step = Vectorizer(store, blobs, StaticEmbedders(embedder), MemoryVectorCache())
    first, second = (
        added_url(store, "https://example.org/a"),
        added_url(store, "https://example.org/b"),
    )
    jobs = [
        Job(first, chunked(store, blobs, article(seed="one"), first), MODEL),
        Job(second, chunked(store, blobs, article(seed="two"), second), MODEL),
        Job(second, 1, MODEL),  # the same job twice in one claim
    ]

    assert step.vectorize_many(jobs) == [Next(DONE, 1)] * 3
    assert len(embedder.calls) == 1
    for url_id in (first, second):
        assert store.load(Url, url_id).vectors_for(MODEL) is not None
    recorded = [e for e in store.events.get(second) if isinstance(e, Url.Vectorized)]
    assert len(recorded) == 1  # the job twice, recorded once


def test_a_job_without_a_model_uses_its_projects_model_of_that_moment(
    store: TrawlStore,
) -> None:
    blobs = MemoryBlobs()
    url_id = added_url(store)
    version = chunked(store, blobs, article(), url_id)
    project = ensure_project(store)
    project.change_settings(
        Context.system("test"), replace(project.settings, embedding_model=OTHER)
    )
    store.commit(project)
    step = Vectorizer(store, blobs, StaticEmbedders(HashingEmbedder()), MemoryVectorCache())

    assert step.vectorize_many([Job(url_id, version, None)]) == [Next(DONE, version)]

    url = store.load(Url, url_id)
    assert url.vectors_for(OTHER) is not None and url.vectors_for(MODEL) is None


class Refusing(HashingEmbedder):
    """Refuses any batch holding a text with `word` (a model that cannot take it)."""

    def __init__(self, word: str, *, transient: bool = False) -> None:
        super().__init__()
        self.word, self.transient = word, transient

    def embed(self, texts: Sequence[str]) -> Vectors:
        if any(self.word in text for text in texts):
            self.calls.append(len(texts))
            raise EmbeddingFailed("refused", transient=self.transient)
        return super().embed(texts)


def test_a_refused_url_fails_alone_and_the_rest_of_its_batch_is_vectorized(
    store: TrawlStore,
) -> None:
    blobs = MemoryBlobs()
    step = Vectorizer(store, blobs, StaticEmbedders(Refusing("bad")), MemoryVectorCache())
    good, bad = added_url(store, "https://example.org/a"), added_url(store, "https://example.org/b")
    jobs = [
        Job(good, chunked(store, blobs, article(seed="fine"), good), MODEL),
        Job(bad, chunked(store, blobs, article(seed="bad"), bad), MODEL),
    ]

    assert step.vectorize_many(jobs) == [Next(DONE, 1), Next(FAILED, 1, reason=EMBEDDING_FAILED)]

    assert store.load(Url, good).status == VECTORIZED
    refused = store.load(Url, bad)
    assert refused.status == FAILED_STATUS and refused.last_error == EMBEDDING_FAILED
    assert refused.refused_by == MODEL and refused.vectors_for(MODEL) is None
    event = list(store.events.get(bad))[-1]
    assert isinstance(event, Url.VectorizationFailed) and event.model_id == MODEL


def test_a_transient_failure_waits_longer_each_time_and_never_fails_the_url(
    store: TrawlStore,
) -> None:
    """Throttling or an outage is not the text's fault: a URL is not failed (nor
    dropped from the index) because the embedder was down for a while."""
    blobs, now = MemoryBlobs(), datetime(2030, 1, 1, tzinfo=UTC)
    embedders = StaticEmbedders(Refusing("alpha", transient=True))
    step = Vectorizer(store, blobs, embedders, MemoryVectorCache(), clock=lambda: now)
    url_id = added_url(store)
    version = chunked(store, blobs, article(), url_id)

    waits = []
    for attempt in (1, 5, 50):
        retry = step.vectorize_many([Job(url_id, version, MODEL, attempt=attempt)])[0]
        assert retry.step == RETRY and retry.at is not None
        waits.append(retry.at - now)
    assert waits[0] < waits[1] <= timedelta(hours=1) and waits[2] <= timedelta(hours=1)
    assert store.load(Url, url_id).status == CHUNKED
    assert not any(isinstance(e, Url.VectorizationFailed) for e in store.events.get(url_id))


def test_vectors_after_a_refusal_make_the_url_vectorized_again(store: TrawlStore) -> None:
    """A switch back to a model that had vectors, or a retried job that succeeds."""
    blobs = MemoryBlobs()
    url_id = added_url(store)
    version = chunked(store, blobs, article(), url_id)
    refusing = Vectorizer(store, blobs, StaticEmbedders(Refusing("alpha")), MemoryVectorCache())
    assert refusing.vectorize(url_id, version, OTHER).step == FAILED

    working = Vectorizer(store, blobs, StaticEmbedders(HashingEmbedder()), MemoryVectorCache())
    assert working.vectorize(url_id, version, MODEL) == Next(DONE, version)

    url = store.load(Url, url_id)
    assert url.status == VECTORIZED and url.last_error is None and url.refused_by is None


def test_a_batch_is_embedded_in_groups_and_its_last_url_alone() -> None:
    # about 64 texts a group, in job order; past one group the last job is alone
    assert groups({0: 30, 1: 40, 2: 10, 3: 70, 4: 5, 5: 12}, limit=64) == [[0, 1], [2, 3], [4], [5]]
    assert groups({0: 30, 1: 20}, limit=64) == [[0, 1]]  # one group: nothing to hide
    assert groups({0: 70, 1: 1}, limit=64) == [[0], [1]]
    assert groups({}, limit=64) == []


def test_a_large_batch_embeds_every_text_once_in_several_calls(store: TrawlStore) -> None:
    blobs, embedder = MemoryBlobs(), HashingEmbedder()
    step = Vectorizer(store, blobs, StaticEmbedders(embedder), MemoryVectorCache())
    jobs = []
    for n in range(20):  # 5 chunks each
        url_id = added_url(store, f"https://example.org/{n}")
        jobs.append(Job(url_id, chunked(store, blobs, article(seed=str(n)), url_id), MODEL))
    texts = {
        c.text_hash
        for job in jobs
        for c in store.load(Url, job.url_id).chunkings[job.version].chunks
    }

    assert step.vectorize_many(jobs) == [Next(DONE, 1)] * len(jobs)

    assert len(embedder.calls) > 2 and sum(embedder.calls) == len(texts) > 64
    for job in jobs:  # each URL got its own chunks' vectors, in chunk order
        url = store.load(Url, job.url_id)
        held = url.vectors_for(MODEL)
        assert held is not None
        text = blobs.get(url.texts[job.version].text_key).decode()
        chunks = [text[c.start : c.end] for c in url.chunkings[job.version].chunks]
        expected = HashingEmbedder().embed(chunks)
        assert np.array_equal(vectors.decode(blobs.get(held.vectors_key)), expected)


class CountingCache(MemoryVectorCache):
    """Counts the cache writes: each is a transaction in Postgres."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[int] = []

    def put_many(self, model_id: str, vectors: Mapping[str, Vectors]) -> None:
        self.writes.append(len(vectors))
        super().put_many(model_id, vectors)


def test_a_batch_of_several_groups_fills_the_cache_in_one_write(store: TrawlStore) -> None:
    blobs, embedder, cache = MemoryBlobs(), HashingEmbedder(), CountingCache()
    step = Vectorizer(store, blobs, StaticEmbedders(embedder), cache)
    jobs = jobs_of(store, blobs, [str(n) for n in range(20)])  # 5 chunks each: 2+ groups

    assert step.vectorize_many(jobs) == [Next(DONE, 1)] * len(jobs)

    assert len(embedder.calls) > 2  # embedded group by group
    assert cache.writes == [sum(embedder.calls)]  # cached at once
    assert len(cache.vectors) == sum(embedder.calls)


def test_what_a_crashing_batch_embedded_before_the_crash_is_cached(store: TrawlStore) -> None:
    blobs, cache = MemoryBlobs(), CountingCache()
    step = Vectorizer(store, blobs, StaticEmbedders(Crashing("boom")), cache)
    jobs = jobs_of(store, blobs, [*(str(n) for n in range(19)), "boom"])  # the last group crashes

    with pytest.raises(RuntimeError, match="embedder bug"):
        step.vectorize_many(jobs)

    eventually(lambda: cache.writes, what="the cache write (it runs on the I/O pool)")
    first = store.load(Url, jobs[0].url_id).chunking
    assert first is not None
    assert cache.get_many(MODEL, [c.text_hash for c in first.chunks]).keys() == {
        c.text_hash for c in first.chunks
    }


def test_refusals_and_outages_across_groups_fail_only_their_urls(store: TrawlStore) -> None:
    blobs = MemoryBlobs()
    jobs = []
    for n in range(20):  # four groups: a refused text in the first, the lone last job
        url_id = added_url(store, f"https://example.org/{n}")
        seed = "bad" if n in (1, 19) else str(n)
        jobs.append(Job(url_id, chunked(store, blobs, article(seed=seed), url_id), MODEL))
    refusing = Vectorizer(store, blobs, StaticEmbedders(Refusing("bad")), MemoryVectorCache())

    answers = refusing.vectorize_many(jobs)

    refused = {n for n, answer in enumerate(answers) if answer.step == FAILED}
    assert refused == {1, 19} and all(a.step == DONE for a in answers if a.step != FAILED)
    others = [added_url(store, f"https://example.org/x{n}") for n in range(20)]
    more = [
        Job(u, chunked(store, blobs, article(seed="outage" if n == 15 else f"x{n}-"), u), MODEL)
        for n, u in enumerate(others)
    ]
    # an outage from the second group on: the first group is recorded, the rest wait
    down = Vectorizer(
        store, blobs, StaticEmbedders(Refusing("outage", transient=True)), MemoryVectorCache()
    )

    answers = down.vectorize_many(more)

    steps = [answer.step for answer in answers]
    assert steps[0] == DONE and RETRY in steps and FAILED not in steps
    assert all(step == RETRY for step in steps[steps.index(RETRY) :])
    assert store.load(Url, others[-1]).status == CHUNKED  # waiting, not failed


def test_load_many_reads_several_urls_as_load_does(store: TrawlStore) -> None:
    ids = [added_url(store, f"https://example.org/{n}") for n in range(3)]
    schedule(store, ids[1])
    project = ensure_project(store)

    found = store.load_many(Url, [*ids, uuid.uuid4(), project.id])

    assert set(found) == set(ids)  # the unknown id and the project are absent
    for url_id in ids:
        one = store.load(Url, url_id)
        assert (found[url_id].version, found[url_id].url) == (one.version, one.url)
    with pytest.raises(ValueError, match="snapshotted"):
        store.load_many(type(project), [project.id])


class ColdCache(MemoryVectorCache):
    """A cache that keeps nothing: only what the step itself carries is known."""

    def put_many(self, model_id: str, vectors: Mapping[str, Vectors]) -> None:
        return None


class Crashing(HashingEmbedder):
    """A bug in the embedder (not a refusal) on any batch holding `word`."""

    def __init__(self, word: str) -> None:
        super().__init__()
        self.word = word

    def embed(self, texts: Sequence[str]) -> Vectors:
        if any(self.word in text for text in texts):
            raise RuntimeError("embedder bug")
        return super().embed(texts)


def jobs_of(store: TrawlStore, blobs: MemoryBlobs, seeds: Sequence[str]) -> list[Job]:
    jobs = []
    for n, seed in enumerate(seeds):
        url_id = added_url(store, f"https://example.org/{seed}-{n}-{uuid.uuid4().hex[:6]}")
        jobs.append(Job(url_id, chunked(store, blobs, article(seed=seed), url_id), MODEL))
    return jobs


def test_a_stream_answers_each_batch_in_order_as_vectorize_many_would(
    store: TrawlStore,
) -> None:
    blobs, embedder = MemoryBlobs(), HashingEmbedder()
    step = Vectorizer(store, blobs, StaticEmbedders(embedder), MemoryVectorCache())
    jobs = jobs_of(store, blobs, [str(n) for n in range(7)])
    batches = [("a", jobs[0:3]), ("b", jobs[3:5]), ("c", jobs[5:7])]

    answered = list(step.stream(batches))

    assert answered == [
        ("a", [Next(DONE, 1)] * 3),
        ("b", [Next(DONE, 1)] * 2),
        ("c", [Next(DONE, 1)] * 2),
    ]
    for job in jobs:
        assert store.load(Url, job.url_id).status == VECTORIZED
    assert list(step.stream([])) == []


def test_a_stream_embeds_each_batch_in_one_call_where_alone_it_takes_groups(
    store: TrawlStore,
) -> None:
    """Alone, a batch is embedded group by group so its blob writes hide behind
    the next group; in a stream the next batch hides them, so one call."""
    blobs = MemoryBlobs()
    alone, streamed = HashingEmbedder(), HashingEmbedder()
    first = jobs_of(store, blobs, [f"a{n}" for n in range(20)])  # 5 chunks each: 2+ groups
    second = jobs_of(store, blobs, [f"b{n}" for n in range(20)])

    Vectorizer(store, blobs, StaticEmbedders(alone), MemoryVectorCache()).vectorize_many(first)
    step = Vectorizer(store, blobs, StaticEmbedders(streamed), MemoryVectorCache())
    answered = list(step.stream([(1, second)]))

    assert len(alone.calls) > 2
    assert answered == [(1, [Next(DONE, 1)] * 20)]
    assert streamed.calls == [sum(alone.calls)]  # the same number of texts, one call


def test_the_batch_before_counts_as_known_though_the_cache_lacks_it(store: TrawlStore) -> None:
    """A batch is read while the one before it embeds, before that one's cache
    writes land: the vectors it just made are carried over, not embedded again."""
    blobs, embedder = MemoryBlobs(), HashingEmbedder()
    step = Vectorizer(store, blobs, StaticEmbedders(embedder), ColdCache())
    first, second = jobs_of(store, blobs, ["same", "same"])  # the same texts, two URLs
    chunking = store.load(Url, first.url_id).chunking
    assert chunking is not None
    texts = {c.text_hash for c in chunking.chunks}

    answered = list(step.stream([(1, [first]), (2, [second])]))

    assert answered == [(1, [Next(DONE, 1)]), (2, [Next(DONE, 1)])]
    assert sum(embedder.calls) == len(texts)  # once, though the cache kept nothing
    held = [store.load(Url, job.url_id).vectors_for(MODEL) for job in (first, second)]
    assert held[0] is not None and held[1] is not None
    assert held[0].vectors_key == held[1].vectors_key


def test_a_batch_that_crashes_is_answered_with_its_error_and_the_stream_goes_on(
    store: TrawlStore,
) -> None:
    blobs = MemoryBlobs()
    step = Vectorizer(store, blobs, StaticEmbedders(Crashing("boom")), MemoryVectorCache())
    good, bad, after = (jobs_of(store, blobs, [seed]) for seed in ("fine", "boom", "later"))

    answered = dict(step.stream([("good", good), ("bad", bad), ("after", after)]))

    assert list(answered) == ["good", "bad", "after"]
    assert answered["good"] == answered["after"] == [Next(DONE, 1)]
    assert isinstance(answered["bad"], RuntimeError)
    assert store.load(Url, bad[0].url_id).status == CHUNKED  # nothing recorded: retried later


def test_a_url_in_two_batches_in_a_row_is_recorded_once(store: TrawlStore) -> None:
    """The second batch may be read before the first commits (its copy of the
    Url stale, its commit conflicting) or after: either way, recorded once."""
    blobs, embedder = MemoryBlobs(), HashingEmbedder()
    step = Vectorizer(store, blobs, StaticEmbedders(embedder), MemoryVectorCache())
    (job,) = jobs_of(store, blobs, ["twice"])

    answered = list(step.stream([(1, [job]), (2, [job])]))

    assert answered == [(1, [Next(DONE, 1)]), (2, [Next(DONE, 1)])]
    recorded = [e for e in store.events.get(job.url_id) if isinstance(e, Url.Vectorized)]
    assert len(recorded) == 1
