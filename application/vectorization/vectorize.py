"""The vectorize step: chunks -> vectors (cached by text hash) -> a blob -> `Vectorized`.

Chunk texts are slices of the extracted text (the chunk offsets). Only the
texts the cache does not know are embedded, in batches; every vector goes
into the cache, so re-chunking, refreshing to identical text or re-adding a
URL never pays the embedder twice. The blob is content-addressed, so a
repeated step stores nothing new. A stale step (the version or its chunks
changed, the URL was removed) records nothing.

Several URLs are vectorized together (`vectorize_many`): one cache lookup,
one embedder batch, one cache write and one commit for all of them, so the
fixed costs of the step do not dwarf the embedding of a small page.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import numpy as np
from eventsourcing.persistence import IntegrityError

from application.ports import BlobNotFound, BlobStore
from application.store import NotFound, TrawlStore
from application.urls.pipeline import CHUNK, DONE, FAILED, RETRY, STALE, Next
from application.vectorization import vectors
from application.vectorization.ports import Embedders, EmbeddingFailed, VectorCache, Vectors
from domain.common import Context
from domain.projects.aggregate import Project
from domain.urls import errors
from domain.urls.aggregate import Url, chunks_digest
from domain.urls.values import Chunking

logger = logging.getLogger(__name__)

VECTORIZE = "vectorize"
ACTOR = "system:worker"
RETRY_AFTER = timedelta(seconds=60)
_STALE = (errors.StaleVersion, errors.UrlRemoved, NotFound)


class Job(NamedTuple):
    url_id: uuid.UUID
    version: int
    model_id: str | None  # None: the model its project is set to now


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
        for number, job in enumerate(jobs):
            found = self._prepare(job, models)
            if isinstance(found, Next):
                answers[number] = found
            else:
                ready[number] = found
        known: dict[str, dict[str, Vectors]] = {}
        for model in {item.model_id for item in ready.values()}:
            mine = [n for n, item in ready.items() if item.model_id == model]
            texts = {h: t for n in mine for h, t in ready[n].pieces.items()}
            try:
                known[model] = self.vectors_of(model, texts)
            except EmbeddingFailed as failure:
                logger.warning("embedding with %s failed: %s", model, failure.reason)
                for n in mine:
                    del ready[n]
                    answers[n] = self._failed(jobs[n], failure)
        recorded = []
        ctx = Context(ACTOR, uuid.uuid4().hex)
        for n, item in ready.items():
            version, model = jobs[n].version, item.model_id
            dims = self.embedders.get(model).dimensions
            rows = [known[model][c.text_hash] for c in item.chunking.chunks]
            matrix = np.stack(rows) if rows else np.zeros((0, dims), dtype=np.float32)
            ref = self.blobs.put(vectors.encode(matrix), kind=vectors.KIND)
            digest = chunks_digest(item.chunking)
            item.url.record_vectors(ctx, version, model, dims, ref.key, digest)
            recorded.append(_Recorded(n, model, ref.key, digest, dims))
            answers[n] = Next(DONE, version)
        if recorded:
            self._commit([ready[r.number].url for r in recorded], jobs, recorded, ctx, answers)
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
            if url.vectors_for(model) is not None:
                return Next(DONE, job.version)  # a repeated job: already recorded
            text = self.blobs.get(url.texts[job.version].text_key).decode("utf-8", "surrogatepass")
        except NotFound:
            return Next(STALE, reason="NotFound")
        except BlobNotFound:
            logger.error("text blob missing for %s v%s", job.url_id, job.version)
            return Next(FAILED, job.version, reason="blob-missing")
        pieces = {c.text_hash: text[c.start : c.end] for c in chunking.chunks}
        return _Ready(url, model, chunking, pieces)

    def _failed(self, job: Job, failure: EmbeddingFailed) -> Next:
        if failure.transient:
            return Next(RETRY, job.version, at=self.clock() + RETRY_AFTER, reason="embedding")
        return Next(FAILED, job.version, reason="embedding")

    def _commit(
        self,
        urls: list[Url],
        jobs: Sequence[Job],
        recorded: list[_Recorded],
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

            def record(job: Job = job, item: _Recorded = item) -> None:
                url = self.store.load(Url, job.url_id)
                if url.vectors_for(item.model_id) is None:
                    url.record_vectors(
                        ctx, job.version, item.model_id, item.dims, item.key, item.digest
                    )
                    self.store.commit(url)

            try:
                self.store.retrying(record)
            except _STALE as stale:
                answers[item.number] = Next(STALE, reason=type(stale).__name__)

    def vectors_of(self, model_id: str, texts: dict[str, str]) -> dict[str, Vectors]:
        """Vectors of texts by hash: from the cache, the rest embedded in batches and cached."""
        known = self.cache.get_many(model_id, list(texts))
        missing = [h for h in texts if h not in known]
        embedder = self.embedders.get(model_id)
        for start in range(0, len(missing), self.batch_size):
            batch = missing[start : start + self.batch_size]
            matrix = embedder.embed([texts[h] for h in batch])
            if matrix.shape != (len(batch), embedder.dimensions):
                raise EmbeddingFailed(f"{model_id}: {matrix.shape} vectors", transient=False)
            fresh = dict(zip(batch, matrix, strict=True))
            self.cache.put_many(model_id, fresh)
            known.update(fresh)
        return known
