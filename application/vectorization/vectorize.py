"""The vectorize step: chunks -> vectors (cached by text hash) -> a blob -> `Vectorized`.

Chunk texts are slices of the extracted text (the chunk offsets). Only the
texts the cache does not know are embedded, in batches; every vector goes
into the cache, so re-chunking, refreshing to identical text or re-adding a
URL never pays the embedder twice. The blob is content-addressed, so a
repeated step stores nothing new. A stale step (the version or its chunks
changed, the URL was removed) records nothing.

Several URLs are vectorized together (`vectorize_many`): one cache lookup,
one embedder batch, one cache write and one commit for all of them, so the
fixed costs of the step do not dwarf the embedding of a small page. What
waits on I/O per URL (the load and text read, the vectors blob and its
fsync) runs on a small thread pool, as does the cache write, beside the
blob writes: at ~2,800 chunks/s of raw embedding, those waits were a third
of the step.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import NamedTuple

import numpy as np
from eventsourcing.persistence import IntegrityError

from application.ports import BlobNotFound, BlobRef, BlobStore
from application.store import NotFound, TrawlStore
from application.urls.pipeline import CHUNK, DONE, FAILED, RETRY, STALE, Next
from application.vectorization import vectors
from application.vectorization.ports import Embedders, EmbeddingFailed, VectorCache, Vectors
from domain.common import Context
from domain.projects.aggregate import Project
from domain.urls import errors
from domain.urls.aggregate import Url, chunks_digest
from domain.urls.values import EMBEDDING_FAILED, Chunking, retry_delay

logger = logging.getLogger(__name__)

VECTORIZE = "vectorize"
ACTOR = "system:worker"
_STALE = (errors.StaleVersion, errors.UrlRemoved, NotFound)
# A batch's loads, blob writes and cache writes run here at once (each waits on I/O).
_IO = ThreadPoolExecutor(4, thread_name_prefix="vectorize-io")


class Job(NamedTuple):
    url_id: uuid.UUID
    version: int
    model_id: str | None  # None: the model its project is set to now
    attempt: int = 1  # a transient embedding failure waits longer each attempt (up to 1 h)


class _Ready(NamedTuple):
    url: Url
    model_id: str  # the job's, or its project's
    chunking: Chunking
    pieces: dict[str, str]  # text hash -> chunk text


class _Recorded(NamedTuple):
    number: int  # the job's place in the batch
    model_id: str
    key: str  # the vectors blob
    digest: str
    dims: int


class _Refused(NamedTuple):
    number: int
    model_id: str


def _done(url: Url, model: str, version: int) -> Next | None:
    """The answer to a repeated job, or None: there is work to do.

    Held vectors of a URL another model refused are recorded again (from the
    cache): a switch back to this model makes the URL vectorized."""
    if url.vectors_for(model) is not None and url.refused_by is None:
        return Next(DONE, version)  # already recorded
    if url.refusing_model == model:
        return Next(FAILED, version, reason=EMBEDDING_FAILED)  # already refused
    return None


class Vectorizer:
    def __init__(
        self,
        store: TrawlStore,
        blobs: BlobStore,
        embedders: Embedders,
        cache: VectorCache,
        *,
        batch_size: int = 512,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.embedders = embedders
        self.cache = cache
        self.batch_size = batch_size
        self.clock = clock

    def vectorize(self, url_id: uuid.UUID, version: int, model_id: str) -> Next:
        """Embed the version's chunks with `model_id` and record `Vectorized`."""
        return self.vectorize_many([Job(url_id, version, model_id)])[0]

    def vectorize_many(self, jobs: Sequence[Job]) -> list[Next]:
        """Several URLs at once; one answer per job, in order."""
        answers: dict[int, Next] = {}
        ready: dict[int, _Ready] = {}
        models: dict[uuid.UUID, str] = {}  # by project: each loaded once per batch
        # The loads and text reads of a batch at once: each waits on a round trip.
        prepared = _IO.map(lambda job: self._prepare(job, models), jobs)
        for number, found in enumerate(prepared):
            if isinstance(found, Next):
                answers[number] = found
            else:
                ready[number] = found
        known: dict[str, dict[str, Vectors]] = {}
        failures: dict[int, EmbeddingFailed] = {}
        caching: list[Future[None]] = []  # cache writes, beside the blob writes below
        for model in {item.model_id for item in ready.values()}:
            mine = [n for n, item in ready.items() if item.model_id == model]
            known[model] = self._embed(model, mine, ready, failures, caching)
        ctx = Context(ACTOR, uuid.uuid4().hex)
        changed: dict[int, Url] = {}  # by job: the URLs with an event to commit
        recorded: list[_Recorded | _Refused] = []
        for n, failure in failures.items():
            item = ready.pop(n)
            if failure.transient:  # not the text's fault (throttling, an outage): again later
                at = self.clock() + retry_delay(jobs[n].attempt, random.random())
                answers[n] = Next(RETRY, jobs[n].version, at=at, reason="embedding")
                continue
            answers[n] = Next(FAILED, jobs[n].version, reason=EMBEDDING_FAILED)
            if item.url.vectors_for(item.model_id) is not None:
                continue  # vectors it holds already (a re-record that found the cache empty)
            item.url.record_vectorization_failure(
                ctx, jobs[n].version, item.model_id, EMBEDDING_FAILED
            )
            changed[n] = item.url
            recorded.append(_Refused(n, item.model_id))
        encoded = {n: vectors.encode(self._matrix(known, item)) for n, item in ready.items()}
        refs = self._put_all(encoded)
        for n, item in ready.items():
            version, model, ref = jobs[n].version, item.model_id, refs[n]
            dims = self.embedders.get(model).dimensions
            digest = chunks_digest(item.chunking)
            item.url.record_vectors(ctx, version, model, dims, ref.key, digest)
            changed[n] = item.url
            recorded.append(_Recorded(n, model, ref.key, digest, dims))
            answers[n] = Next(DONE, version)
        if recorded:
            self._commit(list(changed.values()), jobs, recorded, ctx, answers)
        for write in caching:
            if write.exception() is not None:  # a cache: the next embed of the text pays
                logger.warning("vector cache write failed: %s", write.exception())
        return [answers[n] for n in range(len(jobs))]

    def _prepare(self, job: Job, models: dict[uuid.UUID, str]) -> _Ready | Next:
        """What the job embeds (its model decided), or the answer already."""
        try:
            url = self.store.load(Url, job.url_id)
            if not url.is_live or job.version != url.current_version:
                return Next(STALE, reason="StaleVersion")
            chunking = url.chunkings.get(job.version)
            if chunking is None:
                return Next(CHUNK, job.version)
            model = job.model_id
            if model is None:
                if url.project_id not in models:
                    project = self.store.load(Project, url.project_id)
                    models[url.project_id] = project.embedding_model
                model = models[url.project_id]
            done = _done(url, model, job.version)
            if done is not None:
                return done
            text = self.blobs.get(url.texts[job.version].text_key).decode("utf-8", "surrogatepass")
        except NotFound:
            return Next(STALE, reason="NotFound")
        except BlobNotFound:
            logger.error("text blob missing for %s v%s", job.url_id, job.version)
            return Next(FAILED, job.version, reason="blob-missing")
        pieces = {c.text_hash: text[c.start : c.end] for c in chunking.chunks}
        return _Ready(url, model, chunking, pieces)

    def _matrix(self, known: dict[str, dict[str, Vectors]], item: _Ready) -> Vectors:
        """The URL's vectors, one row per chunk in chunk order."""
        rows = [known[item.model_id][c.text_hash] for c in item.chunking.chunks]
        if rows:
            return np.stack(rows)
        return np.zeros((0, self.embedders.get(item.model_id).dimensions), dtype=np.float32)

    def _put_all(self, encoded: dict[int, bytes]) -> dict[int, BlobRef]:
        """The vectors blobs of a batch, written at once: each write waits on its
        fsync (or an S3 round trip), one after another 0.8 ms apiece."""
        numbers = list(encoded)
        written = _IO.map(lambda n: self.blobs.put(encoded[n], kind=vectors.KIND), numbers)
        return dict(zip(numbers, written, strict=True))

    def _embed(
        self,
        model: str,
        mine: list[int],
        ready: dict[int, _Ready],
        failures: dict[int, EmbeddingFailed],
        caching: list[Future[None]],
    ) -> dict[str, Vectors]:
        """The vectors of the jobs `mine` (one model), by text hash. A batch the
        model refuses is embedded again one URL at a time, so a URL whose text
        it cannot take fails alone; the failures go to `failures`, by job."""
        texts = {h: t for n in mine for h, t in ready[n].pieces.items()}
        try:
            return self._vectors_of(model, texts, caching)
        except EmbeddingFailed as failure:
            logger.warning("embedding with %s failed: %s", model, failure.reason)
            if failure.transient or len(mine) == 1:
                failures.update(dict.fromkeys(mine, failure))
                return {}
        known: dict[str, Vectors] = {}
        for n in mine:
            try:
                known.update(self._vectors_of(model, ready[n].pieces, caching))
            except EmbeddingFailed as alone:
                logger.warning("embedding with %s failed for one URL: %s", model, alone.reason)
                failures[n] = alone
        return known

    def _commit(
        self,
        urls: list[Url],
        jobs: Sequence[Job],
        recorded: list[_Recorded | _Refused],
        ctx: Context,
        answers: dict[int, Next],
    ) -> None:
        """All in one commit; when another writer got in first, each URL on its own."""
        try:
            self.store.commit(*urls)
            return
        except IntegrityError:  # another writer got in first: retried one by one below
            logger.info("batch of %s vectorized URLs conflicted; recording one by one", len(urls))
        for item in recorded:
            job = jobs[item.number]

            def record(job: Job = job, item: _Recorded | _Refused = item) -> None:
                url = self.store.load(Url, job.url_id)
                if url.vectors_for(item.model_id) is not None:
                    return
                if isinstance(item, _Refused):
                    if url.refused_by == item.model_id:  # the same job twice in a batch
                        return
                    url.record_vectorization_failure(
                        ctx, job.version, item.model_id, EMBEDDING_FAILED
                    )
                else:
                    url.record_vectors(
                        ctx, job.version, item.model_id, item.dims, item.key, item.digest
                    )
                self.store.commit(url)

            try:
                self.store.retrying(record)
            except _STALE as stale:
                answers[item.number] = Next(STALE, reason=type(stale).__name__)

    def _vectors_of(
        self, model_id: str, texts: dict[str, str], caching: list[Future[None]]
    ) -> dict[str, Vectors]:
        """Vectors of texts by hash: from the cache, the rest embedded in batches and
        cached (the cache writes run on the I/O pool; `caching` collects them)."""
        known = self.cache.get_many(model_id, list(texts))
        missing = [h for h in texts if h not in known]
        embedder = self.embedders.get(model_id)
        for start in range(0, len(missing), self.batch_size):
            batch = missing[start : start + self.batch_size]
            matrix = embedder.embed([texts[h] for h in batch])
            if matrix.shape != (len(batch), embedder.dimensions):
                raise EmbeddingFailed(f"{model_id}: {matrix.shape} vectors", transient=False)
            fresh = dict(zip(batch, matrix, strict=True))
            caching.append(_IO.submit(self.cache.put_many, model_id, fresh))
            known.update(fresh)
        return known
